"""The local pipeline: the five steps in one process, writing the report to a folder."""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthcare import steps
from synthcare.errors import ConfigError, SynthcareError
from synthcare.limits import DEFAULT_LIMITS, Limits
from synthcare.report import build_report, error_report, render_html, synthetic_csv_text
from synthcare.samples import is_sample, write_sample_csv
from synthcare.synthesizers import TrainingConfig

logger = logging.getLogger(__name__)

SYNTHETIC_FILE = "synthetic.csv"
REPORT_JSON_FILE = "report.json"
REPORT_HTML_FILE = "report.html"
ERROR_FILE = "error.json"


@dataclass
class RunResult:
    """Output folder and report document of a finished local run."""

    out_dir: Path
    report: dict[str, Any]

    @property
    def published(self) -> bool:
        """Whether the privacy gate let the synthetic table be written."""
        return bool(self.report["summary"]["published"])


class RunFailed(SynthcareError):
    """Failure of a run at one step. ``error.json`` in the output folder records the reason."""

    def __init__(self, step: str, error: SynthcareError, error_file: Path) -> None:
        super().__init__(str(error))
        self.step = step
        self.error = error
        self.error_file = error_file


def prepare_out_dir(out_dir: str | Path) -> Path:
    """Create the output folder, or raise ``ConfigError`` if the path is a file."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir} is a file: name a folder for the report")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"--out {out_dir} cannot be created ({error.strerror}): name a folder you can write"
        ) from error
    for name in (SYNTHETIC_FILE, REPORT_JSON_FILE, REPORT_HTML_FILE, ERROR_FILE):
        # Files of an earlier run would otherwise sit beside this run's report.
        (out_dir / name).unlink(missing_ok=True)
    return out_dir


def run_local(
    input_ref: str | Path,
    out_dir: str | Path,
    config: TrainingConfig | None = None,
    *,
    rows: int | None = None,
    metadata: str | Path | None = None,
    conditions: dict[str, Any] | None = None,
    privacy_threshold: float = steps.DEFAULT_PRIVACY_THRESHOLD,
    limits: Limits = DEFAULT_LIMITS,
    progress=None,
) -> RunResult:
    """Run validate, train, generate, evaluate and publish on one file.

    Args:
        input_ref: path of a CSV, ``.xlsx`` or ``.parquet`` file, or ``sample:NAME``.
        out_dir: folder for ``synthetic.csv``, ``report.json`` and ``report.html``.
        config: model and training settings. Defaults to ``TrainingConfig()``.
        rows: rows to generate. Defaults to the real row count.
        metadata: SDV metadata JSON that overrides column detection.
        conditions: fixed column values for generation.
        privacy_threshold: highest DCR holdout share that still publishes the table.
        limits: input size limits.
        progress: optional callable ``progress(stage, done, total, message)``.

    Raises:
        RunFailed: if a step rejects the input or fails; ``error.json`` is written first.
        ConfigError: if the output folder cannot be used (nothing is written then).
    """
    config = config or TrainingConfig()
    if not 0.0 <= privacy_threshold <= 1.0:
        raise ConfigError(f"--privacy-threshold must be between 0 and 1, got {privacy_threshold}")
    out_dir = prepare_out_dir(out_dir)
    step = "validate"
    with tempfile.TemporaryDirectory(prefix="synthcare-") as scratch:
        path = (
            write_sample_csv(str(input_ref), Path(scratch))
            if is_sample(str(input_ref))
            else Path(input_ref)
        )
        try:
            _report_progress(progress, "validate")
            prepared = steps.validate(
                path, display_name=_display_name(input_ref), metadata=metadata, limits=limits
            )
            if conditions:
                conditions = steps.check_conditions(prepared, conditions)

            step = "train"
            model = steps.train(prepared, config, progress=progress)

            step = "generate"
            _report_progress(progress, "generate")
            synthetic = steps.generate(model, rows=rows, conditions=conditions)

            step = "evaluate"
            _report_progress(progress, "evaluate")
            evaluation = steps.evaluate(
                prepared, synthetic, model, privacy_threshold, conditions=conditions
            )

            step = "publish"
            generation = {
                "rows": rows or model.real_rows,
                "seed": config.seed,
                "conditions": conditions or {},
            }
            if conditions:
                generation["notes"] = [
                    "rows were generated under the conditions "
                    + ", ".join(f"{name}={value}" for name, value in conditions.items())
                    + "; the scores compare them with the whole real table"
                ]
            report = build_report(prepared, model, evaluation, generation=generation)
            _publish(out_dir, prepared, evaluation, report)
        except SynthcareError as error:
            error_file = out_dir / ERROR_FILE
            document = error_report(
                step, str(error), _display_name(input_ref), type(error).__name__
            )
            error_file.write_text(json.dumps(document, indent=2))
            raise RunFailed(step, error, error_file) from error
    return RunResult(out_dir, report)


def _publish(out_dir: Path, prepared, evaluation, report: dict[str, Any]) -> None:
    if evaluation.published:
        text = synthetic_csv_text(evaluation.synthetic, prepared.schema)
        (out_dir / SYNTHETIC_FILE).write_text(text, encoding="utf-8", newline="")
    (out_dir / REPORT_JSON_FILE).write_text(json.dumps(report, indent=2, default=str))
    html = render_html(report, prepared.table, evaluation.synthetic)
    (out_dir / REPORT_HTML_FILE).write_text(html, encoding="utf-8")


def _display_name(input_ref: str | Path) -> str:
    """Name the input by its file name, so reports shared onwards carry no local path."""
    text = str(input_ref)
    return text if is_sample(text) else Path(text).name


def _report_progress(progress, stage: str) -> None:
    if progress is not None:
        progress(stage, 0, 1)
