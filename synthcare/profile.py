"""Per-column distribution summaries of a typed table."""

import math

import numpy as np
import pandas as pd

from synthcare.schema import ColumnKind, Schema

TOP_CATEGORIES = 10


def profile_table(table: pd.DataFrame, schema: Schema) -> dict:
    """Summarise each column's distribution.

    Every column gets its kind, ``count`` (non-missing values), ``missing_rate`` and
    ``distinct``. Numerical columns add min, max, mean, sd (sample standard deviation), q1,
    median, q3 and skewness (bias-corrected, as ``pandas.Series.skew``). Categorical and
    boolean columns add the ``top`` most frequent values with count and share. Datetime columns
    add min and max as ISO 8601 text, and constant columns their ``value``. Identifier columns,
    absent from ``table``, are listed with their kind only.

    Args:
        table: The typed table returned by ``infer_schema``.
        schema: Its schema.

    Returns:
        ``{"rows": int, "columns": [per-column dict, ...]}``, JSON-serialisable (NaN becomes
        None).
    """
    columns = []
    for column in schema.columns:
        entry: dict = {"name": column.name, "kind": str(column.kind), "dtype": column.dtype}
        if column.name not in table.columns:
            entry["modelled"] = False
            columns.append(entry)
            continue
        values = table[column.name]
        present = values.dropna()
        entry["modelled"] = column.modelled
        entry["count"] = int(len(present))
        entry["missing_rate"] = _number(1 - len(present) / len(values)) if len(values) else None
        entry["distinct"] = int(present.nunique())
        if column.kind == ColumnKind.NUMERICAL:
            entry.update(_numerical_summary(present))
        elif column.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
            entry["top"] = _top_values(present)
        elif column.kind == ColumnKind.DATETIME and len(present):
            entry["min"] = pd.Timestamp(present.min()).isoformat()
            entry["max"] = pd.Timestamp(present.max()).isoformat()
        elif column.kind == ColumnKind.CONSTANT:
            entry["value"] = column.constant_value
        columns.append(entry)
    return {"rows": int(len(table)), "columns": columns}


def _numerical_summary(present: pd.Series) -> dict:
    numbers = present.astype("float64")
    if numbers.empty:
        keys = ("min", "max", "mean", "sd", "q1", "median", "q3", "skewness")
        return dict.fromkeys(keys)
    quartiles = numbers.quantile([0.25, 0.5, 0.75]).to_numpy()
    return {
        "min": _number(numbers.min()),
        "max": _number(numbers.max()),
        "mean": _number(numbers.mean()),
        "sd": _number(numbers.std()),
        "q1": _number(quartiles[0]),
        "median": _number(quartiles[1]),
        "q3": _number(quartiles[2]),
        "skewness": _number(numbers.skew()),
    }


def _top_values(present: pd.Series) -> list[dict]:
    counts = present.astype("string").value_counts()
    total = int(counts.sum())
    return [
        {"value": str(value), "count": int(count), "share": _number(count / total)}
        for value, count in counts.head(TOP_CATEGORIES).items()
    ]


def _number(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    if math.isnan(number) or math.isinf(number):
        return None
    return float(np.round(number, 10))
