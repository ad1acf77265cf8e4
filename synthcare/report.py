"""Publish step: the report document, the synthetic CSV and the error report.

``report.json`` has stable keys, documented in docs/report-format.md. ``render_html`` lives in
``synthcare.html`` and is re-exported here.
"""

from __future__ import annotations

import csv
import io
import platform
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import pandas as pd

from synthcare import __version__
from synthcare.errors import InputError
from synthcare.html import render_html
from synthcare.schema import ColumnKind, Schema, restore_dtypes

__all__ = [
    "FORMAT_VERSION",
    "build_report",
    "error_report",
    "read_synthetic_csv",
    "render_html",
    "synthetic_csv_text",
]

FORMAT_VERSION = 1

# A spreadsheet treats a cell that starts with one of these characters as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMULA_ESCAPE = "'"

_VERSIONED_PACKAGES = ("sdv", "pandas", "numpy", "scipy", "torch")


def _package_versions() -> dict[str, str]:
    versions = {"synthcare": __version__, "python": platform.python_version()}
    for name in _VERSIONED_PACKAGES:
        try:
            versions[name] = package_metadata.version(name)
        except package_metadata.PackageNotFoundError:
            continue
    return versions


def _not_evaluated(schema: Schema) -> list[dict[str, str]]:
    reasons = {
        ColumnKind.IDENTIFIER: "identifier: never modelled, absent from the synthetic table",
        ColumnKind.CONSTANT: "constant: copied as its single value, so no score",
        ColumnKind.EMPTY: "empty: no values to model, kept empty",
    }
    return [
        {"column": column.name, "kind": str(column.kind), "reason": reasons[column.kind]}
        for column in schema.columns
        if column.kind in reasons
    ]


def build_report(prepared, model, evaluation, *, generation: dict | None = None) -> dict[str, Any]:
    """Assemble ``report.json`` from the outputs of the four steps.

    Args:
        prepared: ``steps.Prepared``.
        model: ``steps.TrainedModel``.
        evaluation: ``steps.Evaluation``.
        generation: request of the generate step (``rows``, ``seed``, ``conditions``).

    Returns:
        A JSON-serialisable dict with the keys described in docs/report-format.md.
    """
    fidelity = evaluation.results["fidelity"]
    privacy = evaluation.results["privacy"]
    holdout = model.info.get("holdout", {})
    baseline = fidelity.get("baseline") or {}
    generation = dict(generation or {})
    generation.setdefault("rows", model.real_rows)
    generation.setdefault("seed", model.config.seed)
    generation.setdefault("conditions", {})

    summary = {
        "published": evaluation.published,
        "model": model.info["model"],
        "ks_mean_complement": fidelity.get("ks_mean_complement"),
        "holdout_ks_mean_complement": holdout.get("ks_mean_complement"),
        "baseline_ks_mean_complement": baseline.get("ks_mean_complement"),
        "tv_mean_complement": fidelity.get("tv_mean_complement"),
        "correlation_similarity": fidelity.get("correlation_similarity"),
        "dcr_holdout_share": privacy["gate"]["holdout_share"],
        "exact_copies_removed": privacy["exact_copies_removed"],
        "exact_copies_replaced": privacy.get("exact_copies_replaced", 0),
        "real_rows": model.real_rows,
        "synthetic_rows": privacy["synthetic_rows_published"],
    }
    return {
        "format_version": FORMAT_VERSION,
        "status": "published" if evaluation.published else "withheld",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": _package_versions(),
        "summary": summary,
        "input": {
            **prepared.source,
            "rows": len(prepared.table),
            "columns": len(prepared.schema.columns),
        },
        "schema": prepared.schema.to_dict(),
        "profile": prepared.profile,
        "model": {
            "name": model.info["model"],
            "requested": model.info.get("requested_model"),
            "hyperparameters": model.config.to_hyperparameters(),
            "fit_seconds": model.info.get("fit_seconds"),
            "details": model.info.get("details", {}),
        },
        "generation": generation,
        "fidelity": fidelity,
        "privacy": privacy,
        "not_evaluated": _not_evaluated(prepared.schema),
        "notes": list(prepared.notes)
        + list(generation.get("notes", []))
        + list(evaluation.results.get("notes", [])),
    }


def error_report(
    step: str,
    reason: str,
    input_location: dict[str, Any] | str | None,
    error_type: str,
    run_id: str | None = None,
) -> dict[str, Any]:
    """Build ``error.json`` for a failed run.

    Args:
        step: the step that failed (validate, train, generate, evaluate, publish).
        reason: one plain paragraph saying what failed and what to do.
        input_location: where the input is (a path, or ``bucket``/``key``/``version_id``).
        error_type: the error class name, e.g. ``InputError``.
        run_id: the run's id in the cloud, if any.
    """
    return {
        "format_version": FORMAT_VERSION,
        "status": "failed",
        "step": step,
        "error_type": error_type,
        "reason": reason,
        "input": input_location,
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": _package_versions(),
    }


def _neutralise_formula(value: str) -> str:
    if value.startswith(FORMULA_PREFIXES):
        return FORMULA_ESCAPE + value
    return value


def _restore_formula(value: str) -> str:
    if value.startswith(FORMULA_ESCAPE) and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def _boolean_text(values: pd.Series, true_token: str, false_token: str | None) -> pd.Series:
    """Write booleans with the input's tokens, neutralised like any other text."""
    false_token = false_token or "false"

    def to_text(value: object) -> object:
        if pd.isna(value):
            return value
        return _neutralise_formula(true_token if bool(value) else false_token)

    return values.astype(object).map(to_text)


def _boolean_values(
    values: pd.Series, true_token: str | None, false_token: str | None
) -> pd.Series:
    """Read boolean cells written with the schema's tokens or as true/false.

    Other texts (``yes``, ``1``) are left for ``restore_dtypes``, which parses them or raises
    ``InputError`` naming the value.
    """
    truths = {"true", (true_token or "true").lower()}
    falsities = {"false", (false_token or "false").lower()}

    def to_value(value: object) -> object:
        if pd.isna(value):
            return pd.NA
        text = _restore_formula(str(value)).strip()
        if text.lower() in truths:
            return True
        if text.lower() in falsities:
            return False
        return text

    return values.map(to_value)


def synthetic_csv_text(frame: pd.DataFrame, schema: Schema) -> str:
    """Write the synthetic table as CSV text that is safe to open in a spreadsheet.

    Text cells that start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return get a
    leading apostrophe, so a spreadsheet shows them as text instead of running them as a
    formula. Numbers are written as numbers, integers without a decimal point, dates in the
    input's format, booleans with the input's true and false texts when the schema has them.
    Lines end with CRLF, as RFC 4180 specifies.
    """
    columns = {column.name: column for column in schema.columns}
    output = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        column = columns.get(name)
        values = frame[name]
        if column is not None and column.kind == ColumnKind.DATETIME:
            text_format = column.datetime_format or "%Y-%m-%d"
            output[name] = pd.to_datetime(values).dt.strftime(text_format)
        elif column is not None and column.dtype == "boolean" and column.true_token:
            output[name] = _boolean_text(values, column.true_token, column.false_token)
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            output[name] = values
        else:
            output[name] = values.map(
                lambda value: value if pd.isna(value) else _neutralise_formula(str(value))
            )
    buffer = io.StringIO()
    output.to_csv(buffer, index=False, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    return buffer.getvalue()


def read_synthetic_csv(source: str | Path | bytes, schema: Schema) -> pd.DataFrame:
    """Read a CSV written by ``synthetic_csv_text`` back into the schema's dtypes.

    Args:
        source: CSV text or bytes, or the path of a CSV file.
        schema: the schema the table was generated with.

    Raises:
        InputError: if the CSV cannot be parsed or lacks a column of the schema.
    """
    if isinstance(source, bytes):
        source = source.decode("utf-8")
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source):
        text = Path(source).read_text(encoding="utf-8")
    else:
        text = source

    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, pd.errors.ParserError) as error:
        raise InputError(f"synthetic CSV cannot be parsed: {error}") from error

    expected = [column.name for column in schema.columns if column.kind != ColumnKind.IDENTIFIER]
    missing = [name for name in expected if name not in frame.columns]
    if missing:
        raise InputError(f"synthetic CSV lacks the columns {', '.join(missing)}")

    typed = pd.DataFrame(index=frame.index)
    for column in schema.columns:
        if column.kind == ColumnKind.IDENTIFIER:
            continue
        values = frame[column.name]
        if column.dtype in ("int64", "float64"):
            typed[column.name] = pd.to_numeric(values, errors="coerce")
        elif column.kind == ColumnKind.DATETIME:
            typed[column.name] = pd.to_datetime(
                values, format=column.datetime_format or "ISO8601", errors="coerce"
            )
        elif column.dtype == "boolean":
            typed[column.name] = _boolean_values(values, column.true_token, column.false_token)
        else:
            typed[column.name] = values.map(
                lambda value: value if pd.isna(value) else _restore_formula(value)
            )
    return restore_dtypes(typed, schema)
