"""Small typed tables and schemas for the synthesizer, evaluation and privacy tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from synthcare.schema import ColumnKind, ColumnSchema, Schema

DATA = Path(__file__).resolve().parent.parent / "data"

# Kinds of the RA-like table's columns as schema inference assigns them.
RA_KINDS = {
    "Age": ("numerical", "int64"),
    "sex": ("categorical", "int64"),
    "MH": ("constant", "int64"),
    "EAM": ("constant", "int64"),
    "Hb": ("numerical", "float64"),
    "RBCs": ("numerical", "float64"),
    "WBCs": ("numerical", "float64"),
    "Plat": ("numerical", "int64"),
    "ESR": ("numerical", "int64"),
    "CRP": ("numerical", "float64"),
    "DAS": ("numerical", "float64"),
    "YKL40": ("numerical", "float64"),
    "RF": ("numerical", "float64"),
    "Anticcp": ("numerical", "float64"),
    "Ast": ("numerical", "int64"),
    "Alt": ("numerical", "int64"),
    "KMeans_Cluster": ("categorical", "int64"),
}


def make_schema(kinds: dict[str, tuple[str, str]]) -> Schema:
    """Build a schema from ``{name: (kind, dtype)}``."""
    return Schema(
        [ColumnSchema(name, ColumnKind(kind), dtype) for name, (kind, dtype) in kinds.items()]
    )


def typed(frame: pd.DataFrame, kinds: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """Cast a frame to the dtypes that schema inference produces."""
    output = {}
    for name, (_, dtype) in kinds.items():
        series = frame[name]
        if dtype == "int64":
            output[name] = pd.to_numeric(series).round().astype("Int64")
        elif dtype == "float64":
            output[name] = pd.to_numeric(series).astype("float64")
        elif dtype == "boolean":
            output[name] = series.astype("boolean")
        elif dtype == "datetime":
            output[name] = pd.to_datetime(series)
        else:
            output[name] = series.astype("string")
    return pd.DataFrame(output)


def ra_table() -> tuple[pd.DataFrame, Schema]:
    """Return the 60-row RA-like table, typed, and its schema."""
    frame = pd.read_csv(DATA / "ra_like_60.csv")
    return typed(frame, RA_KINDS), make_schema(RA_KINDS)


MIXED_KINDS = {
    "age": ("numerical", "int64"),
    "weight": ("numerical", "float64"),
    "lab": ("numerical", "float64"),
    "gain": ("numerical", "int64"),
    "grade": ("numerical", "int64"),
    "site": ("categorical", "string"),
    "smoker": ("boolean", "boolean"),
    "visit": ("datetime", "datetime"),
}


def mixed_table(rows: int = 80, seed: int = 0) -> tuple[pd.DataFrame, Schema]:
    """Return a correlated table with every modelled kind, gaps, a sentinel and zero inflation."""
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 85, rows)
    weight = np.round(50 + 0.4 * age + rng.normal(0, 8, rows), 1)
    lab = np.round(np.exp(rng.normal(1.0, 0.8, rows)), 2)
    lab[rng.random(rows) < 0.1] = 999.0
    gain = np.where(rng.random(rows) < 0.4, 0, rng.integers(100, 5000, rows))
    grade = rng.integers(1, 5, rows)
    site = rng.choice(["north", "south", "east"], rows, p=[0.6, 0.3, 0.1]).astype(object)
    site[rng.random(rows) < 0.1] = None
    smoker = rng.random(rows) < 0.3
    visit = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, rows), unit="D")
    weight[rng.random(rows) < 0.1] = np.nan
    frame = pd.DataFrame(
        {
            "age": age,
            "weight": weight,
            "lab": lab,
            "gain": gain,
            "grade": grade,
            "site": site,
            "smoker": smoker,
            "visit": visit,
        }
    )
    return typed(frame, MIXED_KINDS), make_schema(MIXED_KINDS)
