"""The ``train`` entry point that SageMaker runs in the container (``docker run IMAGE train``).

It reads the prepared table from the ``training`` channel and the hyperparameters, fits a
synthesizer through ``synthcare.steps.train`` and writes the ``TrainedModel.save`` files to the
model folder. On failure it writes the reason to ``output/failure`` and exits with 1 for an
expected error (bad hyperparameters, bad data) or 2 for an unexpected one.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import pandas as pd

from model_code.logs import configure_logging
from model_code.paths import ROOT_VARIABLE, MLPaths
from synthcare.errors import ConfigError, InputError, SynthcareError

logger = logging.getLogger("model_code.train")

EXIT_OK = 0
EXIT_EXPECTED_ERROR = 1
EXIT_UNEXPECTED_ERROR = 2
EXIT_STOPPED = 128 + signal.SIGTERM

PREPARED_FILES = ("table.parquet", "schema.json")

# SageMaker keeps at most 1024 characters of the failure file as the job's FailureReason.
MAX_FAILURE_CHARS = 1024

# Hyperparameter keys that SageMaker automatic model tuning adds by itself.
SAGEMAKER_TUNING_PREFIX = "_tuning_"


class TrainingStopped(BaseException):
    """Raised in the main thread when SIGTERM arrives, as SageMaker sends on StopTrainingJob."""


class ProgressLog:
    """Progress callback for ``synthcare.steps.train`` that logs plain lines.

    A line is logged when the stage changes, at the last step, at every 5 % of the stage, and
    at least every ``interval`` seconds, so a run of thousands of epochs stays readable in
    CloudWatch.

    Args:
        interval: Seconds after which the next step is logged in any case. Defaults to 30.
    """

    def __init__(self, interval: float = 30.0) -> None:
        self._interval = interval
        self._stage: str | None = None
        self._bucket = -1
        self._logged_at = 0.0

    def __call__(self, stage: str, done: int, total: int, message: str = "") -> None:
        """Log one progress event when it is due."""
        now = time.monotonic()
        bucket = (20 * done // total) if total > 0 else 0
        due = (
            stage != self._stage
            or done >= total
            or bucket != self._bucket
            or now - self._logged_at >= self._interval
        )
        if not due:
            return

        self._stage = stage
        self._bucket = bucket
        self._logged_at = now
        counter = f"{done}/{total}" if total > 0 else str(done)
        logger.info("%s %s%s", stage, counter, f" {message}" if message else "")


def loss_table(model: Any) -> pd.DataFrame | None:
    """Return the per-epoch mean losses of a neural synthesizer, or None for other models.

    NOTE: the losses are read from the SDV synthesizer inside ``FittedSynthesizer.engine``, which
    is not part of the ``FittedSynthesizer`` contract, so any change there only drops these lines.
    """
    engine = getattr(model.synthesizer, "engine", None)
    sdv_synthesizer = getattr(engine, "synthesizer", None)
    if not hasattr(sdv_synthesizer, "get_loss_values"):
        return None
    try:
        losses = sdv_synthesizer.get_loss_values()
    except Exception as err:  # SDV raises its own types when a model has no losses
        logger.debug("no loss values: %s", err)
        return None
    if losses is None or losses.empty or "Epoch" not in losses:
        return None

    loss_columns = [c for c in losses.columns if c not in ("Epoch", "Batch")]
    per_epoch = losses.groupby("Epoch")[loss_columns].mean(numeric_only=False).astype(float)
    # ctgan 0.12 spells the column "Distriminator Loss".
    per_epoch.columns = [
        c.lower().replace("distriminator", "discriminator").replace(" ", "_")
        for c in per_epoch.columns
    ]
    return per_epoch


def log_losses(model: Any, lines: int = 20) -> None:
    """Log the training losses of about ``lines`` evenly spaced epochs, the last one included."""
    per_epoch = loss_table(model)
    if per_epoch is None:
        return
    epochs = len(per_epoch)
    step = max(1, epochs // lines)
    chosen = sorted({*range(step - 1, epochs, step), epochs - 1})
    for position in chosen:
        row = per_epoch.iloc[position]
        values = " ".join(f"{name}={value:.4f}" for name, value in row.items())
        logger.info("epoch=%d/%d %s", position + 1, epochs, values)


def read_hyperparameters(path: Path) -> dict[str, str]:
    """Read the hyperparameters file that SageMaker writes.

    A missing file means no hyperparameters, as for a job created without any. Keys that
    SageMaker automatic model tuning adds (``_tuning_*``) are dropped.

    Args:
        path: The ``hyperparameters.json`` file.

    Returns:
        The hyperparameters, every value a string.

    Raises:
        ConfigError: The file is not a JSON object of string values.
    """
    if not path.exists():
        logger.info("no hyperparameters file at %s, using the defaults", path)
        return {}

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(
            f"The hyperparameters file {path} is not valid JSON ({err}). "
            'Write a JSON object such as {"model": "ctgan", "epochs": "300"}.'
        ) from err
    if not isinstance(document, dict):
        raise ConfigError(
            f"The hyperparameters file {path} contains a JSON {type(document).__name__}, "
            'not an object. Write a JSON object such as {"model": "ctgan", "epochs": "300"}.'
        )

    hyperparameters: dict[str, str] = {}
    for key, value in document.items():
        if key.startswith(SAGEMAKER_TUNING_PREFIX):
            logger.info("ignoring hyperparameter %s added by automatic model tuning", key)
            continue
        if not isinstance(value, str):
            raise ConfigError(
                f"Hyperparameter {key!r} is {json.dumps(value)}, not a string. SageMaker passes "
                f'every hyperparameter as a string: write "{key}": "{value}".'
            )
        hyperparameters[key] = value
    return hyperparameters


def check_training_channel(channel: Path) -> None:
    """Check that the channel folder contains the files that ``Prepared.save`` writes.

    Raises:
        InputError: The folder or one of its files is missing.
    """
    if not channel.is_dir():
        found = sorted(p.name for p in channel.parent.iterdir()) if channel.parent.is_dir() else []
        raise InputError(
            f"The training channel folder {channel} does not exist (channels found: "
            f"{', '.join(found) or 'none'}). Give the training job a channel named "
            "'training' that points at the run's prepared/ folder."
        )

    missing = [name for name in PREPARED_FILES if not (channel / name).is_file()]
    if missing:
        present = sorted(p.name for p in channel.iterdir())
        raise InputError(
            f"The training channel {channel} is missing {', '.join(missing)} (files found: "
            f"{', '.join(present) or 'none'}). Point the channel at the folder that the "
            "validate step wrote, which contains table.parquet and schema.json."
        )


def load_prepared(channel: Path) -> Any:
    """Load the prepared table and schema from the training channel.

    Raises:
        InputError: The files are missing or cannot be read.
    """
    from synthcare.steps import Prepared

    check_training_channel(channel)
    try:
        return Prepared.load(channel)
    except SynthcareError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as err:
        # pyarrow's ArrowInvalid is a ValueError, so a damaged parquet file lands here.
        raise InputError(
            f"The prepared table in {channel} cannot be read ({type(err).__name__}: {err}). "
            "Run the validate step again to rewrite table.parquet and schema.json."
        ) from err


def run_training(paths: MLPaths) -> None:
    """Fit a synthesizer on the training channel and save it to the model folder.

    Raises:
        SynthcareError: An expected error: bad hyperparameters, bad data, a failed fit.
    """
    from synthcare import steps
    from synthcare.synthesizers import TrainingConfig

    logger.info("stage=hyperparameters reading %s", paths.hyperparameters)
    hyperparameters = read_hyperparameters(paths.hyperparameters)
    config = TrainingConfig.from_hyperparameters(hyperparameters)
    logger.info("training configuration: %s", json.dumps(config.to_hyperparameters()))

    logger.info("stage=data reading %s", paths.training_channel)
    prepared = load_prepared(paths.training_channel)
    logger.info(
        "prepared table: %d rows, %d columns", len(prepared.table), len(prepared.table.columns)
    )

    logger.info("stage=fit model=%s", config.model)
    started = time.monotonic()
    model = steps.train(prepared, config, progress=ProgressLog())
    logger.info("fitted %s in %.1f s", model.synthesizer.model_name, time.monotonic() - started)
    log_losses(model)

    logger.info("stage=save writing %s", paths.model)
    paths.model.mkdir(parents=True, exist_ok=True)
    model.save(paths.model)
    logger.info("saved files: %s", ", ".join(sorted(p.name for p in paths.model.iterdir())))


def write_failure(paths: MLPaths, reason: str) -> None:
    """Write a one-paragraph failure reason where SageMaker looks for it."""
    paragraph = " ".join(reason.split())[:MAX_FAILURE_CHARS]
    try:
        paths.output.mkdir(parents=True, exist_ok=True)
        paths.failure.write_text(paragraph + "\n", encoding="utf-8")
    except OSError as err:
        logger.error("could not write the failure file %s: %s", paths.failure, err)


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise TrainingStopped


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser, which takes no options beyond ``--help``."""
    return argparse.ArgumentParser(
        prog="train",
        description=(
            "Fit a synthcare synthesizer as a SageMaker training job. Reads "
            "ROOT/input/data/training/ (table.parquet, schema.json) and "
            "ROOT/input/config/hyperparameters.json, writes ROOT/model/, and on failure "
            f"ROOT/output/failure. ROOT is ${ROOT_VARIABLE}, /opt/ml by default. Exit codes: "
            "0 success, 1 expected error, 2 unexpected error, 143 stopped by SIGTERM."
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run a training job and return its exit code."""
    build_parser().parse_args(argv)
    configure_logging()
    paths = MLPaths.from_environ()
    logger.info("training job starting, root %s", paths.root)
    previous_handler = signal.signal(signal.SIGTERM, _raise_stopped)

    try:
        run_training(paths)
    except SynthcareError as err:
        logger.error("training failed: %s", err)
        write_failure(paths, str(err))
        return EXIT_EXPECTED_ERROR
    except TrainingStopped:
        logger.error("training stopped by SIGTERM before it finished")
        write_failure(paths, "Training was stopped (SIGTERM) before it finished.")
        return EXIT_STOPPED
    except Exception as err:
        logger.exception("training failed with an unexpected error")
        write_failure(
            paths,
            f"Training failed with an unexpected {type(err).__name__}: {err}. "
            "The training job log contains the traceback.",
        )
        return EXIT_UNEXPECTED_ERROR
    finally:
        signal.signal(signal.SIGTERM, previous_handler)

    logger.info("training job finished")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
