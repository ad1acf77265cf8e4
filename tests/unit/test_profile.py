"""profile_table: per-column summaries."""

import json
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from synthcare.profile import profile_table
from synthcare.reading import read_table
from synthcare.schema import infer_schema

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def ra_profile():
    table, schema = infer_schema(read_table(DATA / "ra_like_60.csv"))
    return table, schema, profile_table(table, schema)


def entry(profile: dict, name: str) -> dict:
    return next(column for column in profile["columns"] if column["name"] == name)


def test_profile_json_serialisable(ra_profile):
    _, _, profile = ra_profile
    assert json.loads(json.dumps(profile, allow_nan=False)) == profile


def test_profile_numerical_summary(ra_profile):
    table, _, profile = ra_profile
    hb = entry(profile, "Hb")
    values = table["Hb"].dropna()
    assert profile["rows"] == 60
    assert hb["count"] == 60
    assert hb["missing_rate"] == 0.0
    assert hb["min"] == pytest.approx(values.min())
    assert hb["max"] == pytest.approx(values.max())
    assert hb["mean"] == pytest.approx(values.mean())
    assert hb["sd"] == pytest.approx(values.std())
    assert hb["median"] == pytest.approx(values.median())
    assert hb["q1"] == pytest.approx(values.quantile(0.25))
    assert hb["skewness"] == pytest.approx(stats.skew(values, bias=False))


def test_profile_constant_value(ra_profile):
    _, _, profile = ra_profile
    mh = entry(profile, "MH")
    assert mh["kind"] == "constant"
    assert mh["value"] == 0
    assert mh["modelled"] is False


def test_profile_categorical_top_and_missing():
    raw = read_table(DATA / "cases" / "boolean_variants.csv")
    table, schema = infer_schema(raw)
    profile = profile_table(table, schema)
    fbs = entry(profile, "fbs")
    assert fbs["missing_rate"] == pytest.approx(table["fbs"].isna().mean())
    assert fbs["missing_rate"] > 0
    assert sum(item["count"] for item in fbs["top"]) == fbs["count"]
    assert {item["value"] for item in fbs["top"]} == {"True", "False"}


def test_profile_identifier_listed_without_values():
    table, schema = infer_schema(read_table(DATA / "cases" / "identifier_columns.csv"))
    profile = profile_table(table, schema)
    mrn = entry(profile, "mrn")
    assert mrn == {"name": "mrn", "kind": "identifier", "dtype": "string", "modelled": False}


def test_profile_datetime_and_empty():
    table, schema = infer_schema(read_table(DATA / "cases" / "dates_day_first.csv"))
    visit = entry(profile_table(table, schema), "visit")
    assert visit["min"] == pd.Timestamp(table["visit"].min()).isoformat()
    table, schema = infer_schema(read_table(DATA / "cases" / "all_empty_column.csv"))
    notes = entry(profile_table(table, schema), "notes")
    assert notes["count"] == 0
    assert notes["missing_rate"] == 1.0
