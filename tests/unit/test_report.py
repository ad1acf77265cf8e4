"""Report safety and the synthetic CSV round trip."""

from __future__ import annotations

import pandas as pd
import pytest

from synthcare.html import render_html
from synthcare.report import error_report, read_synthetic_csv, synthetic_csv_text
from synthcare.schema import ColumnKind, ColumnSchema, Schema


def _schema() -> Schema:
    return Schema(
        columns=[
            ColumnSchema(name="note", kind=ColumnKind.CATEGORICAL, dtype="string"),
            ColumnSchema(name="ESR", kind=ColumnKind.NUMERICAL, dtype="int64"),
            ColumnSchema(name="CRP", kind=ColumnKind.NUMERICAL, dtype="float64"),
        ]
    )


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "note": pd.array(["=HYPERLINK(1)", "+1", "-ve", "@sum", "plain", None], dtype="string"),
            "ESR": pd.array([-1, 2, 3, 4, 5, None], dtype="Int64"),
            "CRP": [1.5, -2.25, 0.0, 3.0, 4.0, None],
        }
    )


def test_csv_neutralises_formula_prefixes():
    text = synthetic_csv_text(_frame(), _schema())
    lines = text.split("\r\n")
    cells = [line.split(",")[0] for line in lines[1:5]]
    assert cells == ["'=HYPERLINK(1)", "'+1", "'-ve", "'@sum"]


def test_csv_keeps_negative_numbers():
    text = synthetic_csv_text(_frame(), _schema())
    assert ",-1," in text
    assert ",-2.25" in text


def test_csv_integers_have_no_decimal_point():
    text = synthetic_csv_text(_frame(), _schema())
    assert text.split("\r\n")[2] == "'+1,2,-2.25"


def test_csv_round_trip_restores_values():
    frame = _frame()
    restored = read_synthetic_csv(synthetic_csv_text(frame, _schema()), _schema())
    assert restored["note"].tolist()[:5] == frame["note"].tolist()[:5]
    assert restored["note"].isna().iloc[5]
    assert restored["ESR"].dtype == "Int64"
    assert restored["CRP"].tolist()[:5] == frame["CRP"].tolist()[:5]


def test_csv_missing_column_is_rejected():
    from synthcare.errors import InputError

    with pytest.raises(InputError, match="ESR"):
        read_synthetic_csv("note,CRP\r\na,1.0\r\n", _schema())


def test_html_escapes_user_strings():
    hostile = "<script>alert(1)</script>"
    report = {
        "summary": {"published": True, "exact_copies_removed": 0},
        "privacy": {"gate": {"reason": hostile}},
        "input": {"name": hostile, "rows": 1, "columns": 1, "sha256": "x"},
        "model": {"name": hostile, "details": {"candidates": [{"model": hostile}]}},
        "fidelity": {"columns": [{"column": hostile, "kind": "categorical", "metric": "tv"}]},
        "not_evaluated": [{"column": hostile, "reason": hostile}],
        "notes": [hostile],
    }
    frame = pd.DataFrame({hostile: [hostile, "b"]})
    page = render_html(report, frame, frame)
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


def test_error_report_fields():
    document = error_report("validate", "no data rows", {"bucket": "b", "key": "k"}, "InputError")
    assert document["status"] == "failed"
    assert document["step"] == "validate"
    assert document["reason"] == "no data rows"
    assert document["input"] == {"bucket": "b", "key": "k"}
    assert document["error_type"] == "InputError"
