"""The five steps of a run as library functions: validate, train, generate, evaluate.

The local pipeline, the Lambda handlers and the SageMaker container all call these functions,
and hand results to each other through the files written by ``Prepared.save`` and
``TrainedModel.save``. The fifth step, publishing the report, lives in ``synthcare.report``.
"""

from __future__ import annotations

import json
import logging
import pickle  # noqa: S403 - model files are written and read only by this pipeline
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthcare import __version__
from synthcare.crossfit import (
    CROSS_FIT_MAX_ROWS,
    FOLDS,
    Fold,
    dcr_share,
    fit_fold,
    fold_plan,
    rounds_for,
)
from synthcare.errors import ConfigError, GenerationError, InputError, TrainingError
from synthcare.evaluation import evaluate_fidelity
from synthcare.limits import DEFAULT_LIMITS, Limits
from synthcare.privacy import PrivacyGate, exact_copies, row_keys
from synthcare.profile import profile_table
from synthcare.reading import read_table
from synthcare.schema import ColumnKind, Schema, infer_schema, load_metadata, restore_dtypes
from synthcare.synthesizers import (
    NEURAL_MODELS,
    TrainingConfig,
    derived_seed,
    fit_synthesizer,
)

logger = logging.getLogger(__name__)

TABLE_FILE = "table.parquet"
SCHEMA_FILE = "schema.json"
MODEL_FILE = "model.pkl"
MODEL_INFO_FILE = "model.json"

DEFAULT_PRIVACY_THRESHOLD = 0.6
# Random half splits behind the holdout KS complement, which compares a model fitted on one half
# with the unseen half, just as the real-against-real baseline compares two halves.
HOLDOUT_REPEATS = 3
# Ceiling on the rows fitted per holdout repeat: above it the check uses a random subsample,
# because its only aim is the DCR share, which needs hundreds of rows, not tens of thousands.
HOLDOUT_MAX_ROWS = 5_000
# Further draws from the model that may replace the exact copies of real rows in a table.
REPLACEMENT_ROUNDS = 10
# Share of generated rows above which copies get a note in the report: replacing that many
# distorts the table, as only the combinations the real table lacks are left to draw.
COPY_NOTE_SHARE = 0.25


@dataclass
class Prepared:
    """The validated, typed table with its schema: the output of the validate step.

    Attributes:
        table: typed table in the input's column order, identifier columns dropped.
        schema: kind and dtype of every input column, identifiers included.
        source: facts about the input file (name, format, SHA-256, encoding, dialect, notes).
        profile: per-column distribution summary and missing rates.
        notes: what validation changed or decided, in plain sentences, for the report.
    """

    table: pd.DataFrame
    schema: Schema
    source: dict[str, Any]
    profile: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    def save(self, directory: str | Path) -> None:
        """Write ``table.parquet`` and ``schema.json`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.table.to_parquet(directory / TABLE_FILE, index=False)
        document = {
            "schema": self.schema.to_dict(),
            "source": self.source,
            "profile": self.profile,
            "notes": self.notes,
        }
        (directory / SCHEMA_FILE).write_text(json.dumps(document, indent=2, default=str))

    @classmethod
    def load(cls, directory: str | Path) -> Prepared:
        """Read the files written by ``save``.

        Raises:
            InputError: if either file is missing or unreadable.
        """
        directory = Path(directory)
        try:
            document = json.loads((directory / SCHEMA_FILE).read_text())
            table = pd.read_parquet(directory / TABLE_FILE)
        except (OSError, ValueError) as error:
            raise InputError(
                f"prepared data in {directory} is missing or unreadable ({error}): "
                "run the validate step again"
            ) from error
        schema = Schema.from_dict(document["schema"])
        table = restore_dtypes(table, schema)
        return cls(table, schema, document["source"], document["profile"], document["notes"])


@dataclass
class TrainedModel:
    """A fitted synthesizer with what generation and the report need to know about it.

    Attributes:
        synthesizer: the fitted synthesizer; it samples the modelled columns.
        schema: the schema of the table it was fitted on.
        config: the training settings.
        info: JSON-serialisable facts: chosen model, parameters, fit time, real row count,
            value ranges for checking conditions, holdout scores and DCR share.
    """

    synthesizer: Any
    schema: Schema
    config: TrainingConfig
    info: dict[str, Any]

    def save(self, directory: str | Path) -> None:
        """Write ``model.pkl`` and ``model.json`` into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / MODEL_FILE, "wb") as handle:
            pickle.dump(self.synthesizer, handle, protocol=pickle.HIGHEST_PROTOCOL)
        document = {
            "schema": self.schema.to_dict(),
            "hyperparameters": self.config.to_hyperparameters(),
            "info": self.info,
        }
        (directory / MODEL_INFO_FILE).write_text(json.dumps(document, indent=2, default=str))

    @classmethod
    def load(cls, directory: str | Path) -> TrainedModel:
        """Read the files written by ``save``.

        NOTE: ``model.pkl`` is a pickle, so load only model files this pipeline wrote.

        Raises:
            InputError: if either file is missing or unreadable.
        """
        directory = Path(directory)
        try:
            document = json.loads((directory / MODEL_INFO_FILE).read_text())
            with open(directory / MODEL_FILE, "rb") as handle:
                synthesizer = pickle.load(handle)  # noqa: S301 - written by TrainedModel.save
        except (OSError, ValueError, pickle.UnpicklingError, EOFError) as error:
            raise InputError(
                f"model files in {directory} are missing or unreadable ({error}): "
                "train the model again"
            ) from error
        schema = Schema.from_dict(document["schema"])
        config = TrainingConfig.from_hyperparameters(document["hyperparameters"])
        return cls(synthesizer, schema, config, document["info"])

    @property
    def real_rows(self) -> int:
        """Row count of the real table the model was fitted on."""
        return int(self.info["real_rows"])


@dataclass
class Evaluation:
    """The evaluate step's result.

    Attributes:
        synthetic: the synthetic table with exact copies of real rows replaced or removed.
        results: fidelity measures, privacy measures and the privacy gate's decision.
    """

    synthetic: pd.DataFrame
    results: dict[str, Any]

    @property
    def published(self) -> bool:
        """Whether the privacy gate lets the synthetic table be published."""
        return bool(self.results["privacy"]["gate"]["passed"])


def validate(
    path: str | Path,
    *,
    display_name: str | None = None,
    metadata: str | Path | dict | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Prepared:
    """Read a table, infer its schema and profile it.

    Args:
        path: CSV, ``.xlsx`` or ``.parquet`` file. It is only read, never changed.
        display_name: name to show in messages and the report. Defaults to the file name.
        metadata: SDV metadata (a dict or the path of a JSON file) that overrides detection.
        limits: size limits checked before loading and fitting.

    Raises:
        InputError: if the table cannot be used; the message names the value and the fix.
        ConfigError: if the metadata is invalid.
    """
    raw = read_table(path, display_name=display_name, limits=limits)
    if metadata is not None and not isinstance(metadata, dict):
        metadata = load_metadata(metadata)
    table, schema = infer_schema(raw, metadata, limits)

    modelled = schema.modelled()
    if not modelled:
        raise InputError(
            f"{raw.source.name}: no column can be modelled (every column is an identifier, "
            "constant or empty); add columns with measurements or categories"
        )

    profile = profile_table(table, schema)
    notes = list(raw.source.notes)
    for column in schema.columns:
        notes.extend(f"{column.name}: {note}" for note in column.notes)
    logger.info(
        "validated %s: %d rows, %d modelled columns", raw.source.name, len(table), len(modelled)
    )
    return Prepared(table, schema, raw.source.to_dict(), profile, notes)


def train(prepared: Prepared, config: TrainingConfig, progress=None) -> TrainedModel:
    """Fit a synthesizer on the prepared table and check its privacy on held-out rows.

    The model is fitted on all rows. The holdout check then refits it on parts of the table. On
    the rows each fit never saw, it measures the KS complement and the share of synthetic rows
    closer to a training row than to an unseen row (about 0.5 means no memorisation).

    Args:
        prepared: output of ``validate``.
        config: model choice and training settings.
        progress: optional callable ``progress(stage, done, total, message)``.

    Raises:
        TrainingError: if fitting fails.
    """
    schema = prepared.schema
    table = prepared.table[schema.modelled()]
    started = time.perf_counter()

    try:
        synthesizer = fit_synthesizer(table, schema, config, progress=progress)
    except (ConfigError, InputError, TrainingError):
        raise
    except Exception as error:  # SDV and torch raise many unrelated types
        raise TrainingError(f"training the {config.model} model failed: {error}") from error
    fit_seconds = time.perf_counter() - started

    # The holdout check refits the model that was chosen, so auto's search runs only once.
    holdout_started = time.perf_counter()
    holdout = _holdout_check(
        table,
        schema,
        replace(config, model=synthesizer.model_name),
        progress,
        search=synthesizer.info.get("holdout") if config.model == "auto" else None,
    )
    holdout["seconds"] = round(time.perf_counter() - holdout_started, 3)

    info = {
        "model": synthesizer.model_name,
        "requested_model": config.model,
        "real_rows": len(prepared.table),
        "fit_seconds": round(fit_seconds, 3),
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "synthcare_version": __version__,
        "value_ranges": _value_ranges(table, schema),
        "holdout": holdout,
        "details": synthesizer.info,
    }
    logger.info("trained %s on %d rows in %.1f s", info["model"], len(table), info["fit_seconds"])
    return TrainedModel(synthesizer, schema, config, info)


def _holdout_check(
    table: pd.DataFrame, schema: Schema, config: TrainingConfig, progress, search=None
) -> dict:
    """Refit the model on parts of the table and score it on the rows each fit never saw.

    The holdout KS complement is the mean over random half splits. The DCR holdout share is the
    mean over the cross-fitting folds of :mod:`synthcare.crossfit` for tables of up to
    ``CROSS_FIT_MAX_ROWS`` rows, otherwise over the half splits. When ``search`` holds the
    ``auto`` search's fold shares for a copula winner, they are the shares these folds would
    give (same folds, same seeds, deterministic fits), so they are reused, not recomputed. A
    neural winner is refitted, because its final fit may train for more epochs than the search.
    """
    if len(table) < 2 * FOLDS:
        return {"repeats": 0, "dcr_holdout_share": None, "ks_mean_complement": None}

    rng = np.random.default_rng(config.seed)
    sample = table
    if len(table) > 2 * HOLDOUT_MAX_ROWS:
        sample = table.sample(n=2 * HOLDOUT_MAX_ROWS, random_state=config.seed)
    cross_fit = len(sample) <= CROSS_FIT_MAX_ROWS
    neural = config.model in NEURAL_MODELS
    repeats = HOLDOUT_REPEATS if cross_fit and not neural else 1
    folds = (
        fold_plan(len(sample), config.seed, rounds_for(len(sample), neural)) if cross_fit else []
    )
    reused = (
        search is not None
        and not neural
        and cross_fit
        and sample is table
        and len(search.get("dcr_holdout_shares") or []) == len(folds)
    )

    # A half split is fitted like a fold: its number sets the seed offset, as for folds.
    halves = []
    for number in range(repeats):
        order = rng.permutation(len(sample))
        halves.append(Fold(number, order[: len(sample) // 2], order[len(sample) // 2 :]))
    steps = len(halves) + (0 if reused else len(folds))

    ks_scores: list[float] = []
    shares: list[float] = []
    for number, half in enumerate(halves):
        if progress is not None:
            progress("holdout check", number, steps, f"half split {number + 1}")
        fit = _fit_part(sample, schema, config, half)
        fidelity = evaluate_fidelity(fit.holdout, fit.synthetic, schema, seed=config.seed)
        if fidelity["ks_mean_complement"] is not None:
            ks_scores.append(float(fidelity["ks_mean_complement"]))
        if not cross_fit:
            shares.append(dcr_share(fit, schema))

    if reused:
        shares = [float(share) for share in search["dcr_holdout_shares"]]
    for number, fold in enumerate([] if reused else folds):
        if progress is not None:
            progress("holdout check", len(halves) + number, steps, f"fold {number + 1}")
        shares.append(dcr_share(_fit_part(sample, schema, config, fold), schema))

    if progress is not None:
        progress("holdout check", steps, steps)
    return {
        "repeats": repeats,
        "rows_per_half": len(sample) // 2,
        "dcr_method": f"{FOLDS}-fold cross-fitting" if cross_fit else "half split",
        "dcr_folds": len(folds),
        "dcr_reused_from_search": reused,
        "dcr_holdout_shares": [round(share, 4) for share in shares],
        "dcr_holdout_share": round(float(np.mean(shares)), 4),
        "ks_mean_complement": round(float(np.mean(ks_scores)), 4) if ks_scores else None,
    }


def _fit_part(table: pd.DataFrame, schema: Schema, config: TrainingConfig, fold: Fold):
    """Fit the configured model on a fold of ``table`` (see ``crossfit.fit_fold``).

    Raises:
        TrainingError: if fitting or sampling fails, with the model named.
    """
    try:
        return fit_fold(table, schema, config, fold)
    except (ConfigError, InputError, TrainingError):
        raise
    except Exception as error:  # SDV and torch raise many unrelated types
        raise TrainingError(f"training the {config.model} model failed: {error}") from error


def _value_ranges(table: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    """Record each modelled column's range or categories, for checking generation conditions."""
    ranges: dict[str, Any] = {}
    for column in schema.columns:
        if column.name not in table.columns:
            continue
        values = table[column.name].dropna()
        if column.kind == ColumnKind.NUMERICAL and len(values):
            ranges[column.name] = {"min": float(values.min()), "max": float(values.max())}
        elif column.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
            ranges[column.name] = {"categories": sorted(str(value) for value in values.unique())}
    return ranges


def generate(
    model: TrainedModel,
    rows: int | None = None,
    seed: int | None = None,
    conditions: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Sample a synthetic table from a trained model.

    Args:
        model: output of ``train`` or ``TrainedModel.load``.
        rows: number of rows. Defaults to the real table's row count.
        seed: sampling seed. Defaults to the training seed, so a run is reproducible.
        conditions: fixed values per column, for example ``{"sex": "F"}``.

    Returns:
        The synthetic table in the input's column order with the input's dtypes. Identifier
        columns are absent, constant columns hold their constant, empty columns stay empty.

    Raises:
        ConfigError: if ``rows`` or a condition is invalid.
        GenerationError: if sampling fails.
    """
    rows = model.real_rows if rows is None else int(rows)
    if rows < 1:
        raise ConfigError(f"rows must be at least 1, got {rows}")
    seed = model.config.seed if seed is None else int(seed)
    conditions = _check_conditions(model, conditions or {})

    try:
        sampled = model.synthesizer.sample(rows, seed=seed, conditions=conditions or None)
    except (ConfigError, GenerationError):
        raise
    except Exception as error:  # SDV raises ValueError and its own types when sampling fails
        raise GenerationError(f"sampling {rows} rows failed: {error}") from error

    output = pd.DataFrame(index=range(len(sampled)))
    sampled = sampled.reset_index(drop=True)
    for column in model.schema.columns:
        if column.kind == ColumnKind.IDENTIFIER:
            continue
        if column.kind == ColumnKind.CONSTANT:
            output[column.name] = column.constant_value
        elif column.kind == ColumnKind.EMPTY:
            output[column.name] = pd.NA
        else:
            output[column.name] = sampled[column.name]
    return restore_dtypes(output, model.schema)


def check_conditions(prepared: Prepared, conditions: dict[str, Any]) -> dict[str, Any]:
    """Check generation conditions against the real table before any training.

    Raises:
        ConfigError: naming the condition that names no modelled column or lies outside the
            real range or categories.
    """
    table = prepared.table[prepared.schema.modelled()]
    return _check_against_ranges(prepared.schema, _value_ranges(table, prepared.schema), conditions)


def _check_conditions(model: TrainedModel, conditions: dict[str, Any]) -> dict[str, Any]:
    return _check_against_ranges(model.schema, model.info.get("value_ranges", {}), conditions)


def _check_against_ranges(
    schema: Schema, ranges: dict[str, Any], conditions: dict[str, Any]
) -> dict[str, Any]:
    """Check each condition against the column's kind and real range; return typed values."""
    checked: dict[str, Any] = {}
    modelled = set(schema.modelled())
    for name, value in conditions.items():
        if name not in modelled:
            raise ConfigError(
                f"condition column {name!r} is not a modelled column: choose one of "
                f"{', '.join(sorted(modelled))}"
            )
        column_range = ranges.get(name, {})
        if "min" in column_range:
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ConfigError(f"condition {name}={value!r} is not a number") from None
            if not column_range["min"] <= number <= column_range["max"]:
                raise ConfigError(
                    f"condition {name}={value} is outside the real range "
                    f"{column_range['min']:g} to {column_range['max']:g}: choose a value "
                    "in that range"
                )
            checked[name] = number
        elif "categories" in column_range:
            if str(value) not in column_range["categories"]:
                raise ConfigError(
                    f"condition {name}={value!r} is not a category of the real table: choose "
                    f"one of {', '.join(column_range['categories'][:20])}"
                )
            checked[name] = value
        else:
            checked[name] = value
    return checked


def evaluate(
    prepared: Prepared,
    synthetic: pd.DataFrame,
    model: TrainedModel,
    privacy_threshold: float = DEFAULT_PRIVACY_THRESHOLD,
    seed: int | None = None,
    conditions: dict[str, Any] | None = None,
) -> Evaluation:
    """Replace exact copies of real rows, then measure fidelity and apply the privacy gate.

    Each exact copy is removed and, as far as :data:`REPLACEMENT_ROUNDS` further draws from the
    model allow, replaced by a fresh row that is no copy, so the table keeps the row count that
    ``generate`` was asked for.

    Args:
        prepared: the real table.
        synthetic: output of ``generate``.
        model: the trained model, whose holdout check measured the DCR holdout share.
        privacy_threshold: highest DCR holdout share that still publishes the table.
        seed: the seed ``generate`` used (default: the training seed). Replacement draws use
            the seeds that follow it.
        conditions: the conditions ``generate`` used, which replacement rows keep too.

    Raises:
        ConfigError: if the threshold is outside 0 to 1.
        GenerationError: if every generated row, and every replacement draw, is an exact copy.
    """
    if not 0.0 <= privacy_threshold <= 1.0:
        raise ConfigError(f"privacy threshold must be between 0 and 1, got {privacy_threshold}")
    schema = prepared.schema
    seed = model.config.seed if seed is None else int(seed)
    cleaned, copies_removed, replaced = _replace_copies(
        prepared, synthetic, model, seed, conditions or {}
    )
    if cleaned.empty:
        raise GenerationError(
            "every synthetic row is an exact copy of a real row, so nothing can be published: "
            "choose another model or more training data"
        )

    fidelity = evaluate_fidelity(prepared.table, cleaned, schema, seed=model.config.seed)
    share = model.info.get("holdout", {}).get("dcr_holdout_share")
    gate = PrivacyGate(threshold=privacy_threshold)
    if share is None:
        passed = False
        reason = "the table is too small for a holdout privacy check, so the table is withheld"
    else:
        passed = bool(gate.check(share))
        comparison = "at or below" if passed else "above"
        reason = (
            f"DCR holdout share {share:.3f} is {comparison} the threshold {privacy_threshold:.2f}"
        )
        if not passed:
            reason += (
                ": synthetic rows sit closer to the training rows than to unseen rows, a sign of "
                "memorisation, so the synthetic table is withheld"
            )

    privacy = {
        "exact_copies_removed": copies_removed,
        "exact_copies_replaced": replaced,
        "synthetic_rows_generated": len(synthetic),
        "synthetic_rows_published": len(cleaned) if passed else 0,
        "holdout": model.info.get("holdout", {}),
        "gate": {
            "threshold": privacy_threshold,
            "holdout_share": share,
            "passed": passed,
            "reason": reason,
        },
    }
    notes = []
    if copies_removed > COPY_NOTE_SHARE * len(synthetic):
        notes.append(
            f"{copies_removed} of {len(synthetic)} generated rows were exact copies of real rows "
            "and were replaced. Most of the rows that these columns can form occur in the real "
            "table, so rows that are no copy over-represent rare combinations: check the TV "
            "scores before using this table"
        )
    return Evaluation(cleaned, {"fidelity": fidelity, "privacy": privacy, "notes": notes})


def _replace_copies(
    prepared: Prepared,
    synthetic: pd.DataFrame,
    model: TrainedModel,
    seed: int,
    conditions: dict[str, Any],
) -> tuple[pd.DataFrame, int, int]:
    """Drop exact copies of real rows and top the table up with fresh rows that are no copies.

    Returns:
        The table without copies, the number of copies removed from ``synthetic``, and the
        number of replacement rows added.
    """
    modelled = prepared.schema.modelled()
    real = prepared.table[modelled]
    # Hash the real rows once: each replacement draw is checked against them again.
    real_keys = row_keys(real, modelled)
    copies = exact_copies(real, synthetic[modelled], modelled, real_keys)
    removed = int(copies.sum())
    kept = [synthetic.loc[~copies.to_numpy()]]
    missing = removed
    for round_number in range(1, REPLACEMENT_ROUNDS + 1):
        if missing == 0:
            break
        # Rows that are copies are as likely in a new draw, so draw twice the shortfall.
        draw = generate(
            model,
            rows=max(2 * missing, 10),
            seed=derived_seed(seed, round_number),
            conditions=conditions or None,
        )
        fresh = draw.loc[~exact_copies(real, draw[modelled], modelled, real_keys).to_numpy()]
        kept.append(fresh.iloc[:missing])
        missing -= len(kept[-1])
    cleaned = pd.concat(kept, ignore_index=True)
    if missing:
        logger.warning(
            "%d exact copies could not be replaced after %d draws", missing, REPLACEMENT_ROUNDS
        )
    return restore_dtypes(cleaned, prepared.schema), removed, removed - missing
