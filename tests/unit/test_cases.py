"""Each awkward input file behaves as documented in docs/inputs.md."""

import hashlib
import io
from pathlib import Path

import pandas as pd
import pytest

from synthcare.errors import InputError, SynthcareError
from synthcare.reading import read_table
from synthcare.schema import ColumnKind, infer_schema

CASES = Path(__file__).resolve().parents[1] / "data" / "cases"


def load(name: str):
    raw = read_table(CASES / name)
    table, schema = infer_schema(raw)
    return raw, table, schema


def kinds(schema) -> dict[str, ColumnKind]:
    return {column.name: column.kind for column in schema.columns}


def test_bom_utf8_first_header_clean():
    raw, _, schema = load("bom_utf8.csv")
    assert list(raw.frame.columns) == ["Hb", "ESR", "CRP"]
    assert raw.source.encoding == "utf-8-sig"
    assert schema.modelled() == ["Hb", "ESR", "CRP"]


def test_arabic_cp1256_decoded():
    raw, table, schema = load("arabic_cp1256.csv")
    assert raw.source.encoding == "cp1256"
    assert "أحمد" in set(raw.frame["name"].dropna())
    assert any("cp1256" in note for note in raw.source.notes)
    assert schema["name"].kind == ColumnKind.IDENTIFIER
    assert "name" not in table.columns
    assert "name" not in schema.modelled()


def test_semicolon_decimal_comma_numerical():
    raw, table, schema = load("semicolon_decimal_comma.csv")
    assert raw.source.delimiter == ";"
    assert raw.source.decimal == ","
    assert schema.by_kind("numerical") == ["Hb", "ESR", "CRP"]
    assert table["Hb"].iloc[0] == pytest.approx(11.8)
    assert table["CRP"].iloc[0] == pytest.approx(36.42)
    assert str(table["ESR"].dtype) == "Int64"


def test_duplicate_and_empty_headers_rejected():
    with pytest.raises(InputError) as caught:
        read_table(CASES / "duplicate_and_empty_headers.csv")
    message = str(caught.value)
    assert "'ESR'" in message
    assert "columns 1 and 2" in message
    assert "column 3 has no name" in message
    assert "\n" not in message


def test_all_empty_column_kept_empty():
    _, table, schema = load("all_empty_column.csv")
    assert schema["visit_date"].kind == ColumnKind.EMPTY
    assert schema["notes"].kind == ColumnKind.EMPTY
    assert "visit_date" not in schema.modelled()
    assert table["visit_date"].isna().all()
    assert schema.modelled() == ["Hb", "ESR"]


def test_constant_columns_not_modelled():
    _, table, schema = load("constant_columns.csv")
    assert schema["MH"].kind == ColumnKind.CONSTANT
    assert schema["MH"].constant_value == 0
    assert schema["EAM"].kind == ColumnKind.CONSTANT
    assert schema.modelled() == ["Hb", "ESR"]
    assert (table["MH"] == 0).all()


def test_leading_zero_codes_stay_text():
    _, table, schema = load("leading_zero_codes.csv")
    assert schema["ward_code"].kind == ColumnKind.CATEGORICAL
    assert schema["ward_code"].dtype == "string"
    assert set(table["ward_code"].dropna()) == {"007", "012", "030"}


def test_mixed_lab_tokens_stay_numerical():
    raw, table, schema = load("mixed_lab_tokens.csv")
    crp = schema["CRP"]
    assert crp.kind == ColumnKind.NUMERICAL
    assert crp.parse_rate == pytest.approx(0.875)
    assert crp.token_rule is not None
    assert any("negative" in note for note in crp.notes)
    texts = raw.frame["CRP"]
    assert table["CRP"][texts == "<5"].eq(5.0).all()
    assert table["CRP"][texts == ">200"].eq(200.0).all()
    assert table["CRP"][texts == "negative"].isna().all()
    assert table["CRP"][texts == "-1"].eq(-1.0).all()


def test_header_only_no_data_rows():
    with pytest.raises(InputError, match="no data rows"):
        read_table(CASES / "header_only.csv")


def test_single_row_states_minimum():
    with pytest.raises(InputError) as caught:
        read_table(CASES / "single_row.csv")
    message = str(caught.value)
    assert "minimum of 10" in message
    assert "KS test" in message


def test_five_rows_rejected_before_training():
    with pytest.raises(InputError, match="5 data rows"):
        read_table(CASES / "five_rows.csv")


def test_identifier_columns_detected():
    _, table, schema = load("identifier_columns.csv")
    assert schema.by_kind("identifier") == ["patient_name", "mrn", "phone"]
    assert list(table.columns) == ["Hb", "ESR"]
    assert schema.modelled() == ["Hb", "ESR"]


def test_not_a_table_rejected():
    with pytest.raises(InputError, match="not a readable table"):
        read_table(CASES / "not_a_table.csv")


def test_integers_with_missing_stay_integers():
    raw, table, schema = load("integers_with_missing.csv")
    assert schema["ESR"].dtype == "int64"
    assert schema["Insulin"].dtype == "int64"
    assert str(table["Insulin"].dtype) == "Int64"
    assert table["Insulin"].isna().mean() == pytest.approx(raw.frame["Insulin"].isna().mean())
    assert table["Insulin"].isna().mean() > 0.5
    assert schema["Hb"].dtype == "float64"


def test_dates_day_first_parsed():
    raw, table, schema = load("dates_day_first.csv")
    visit = schema["visit"]
    assert visit.kind == ColumnKind.DATETIME
    assert visit.datetime_format == "%d/%m/%Y"
    assert table["visit"].iloc[12] == pd.Timestamp(2024, 1, 13)
    written = table["visit"].dt.strftime(visit.datetime_format)
    assert written.tolist() == raw.frame["visit"].tolist()


def test_whole_row_quoted_resplit():
    raw, table, schema = load("whole_row_quoted.csv")
    assert list(raw.frame.columns) == ["Hb", "ESR", "CRP"]
    assert any("quoted" in note for note in raw.source.notes)
    assert schema.by_kind("numerical") == ["Hb", "ESR", "CRP"]
    assert table["CRP"].iloc[0] == pytest.approx(24.55)


def test_ragged_rows_name_first_bad_line():
    with pytest.raises(InputError) as caught:
        read_table(CASES / "ragged_rows.csv")
    assert "line 5" in str(caught.value)
    assert "5 fields" in str(caught.value)


def test_boolean_variants_keep_missing():
    raw, table, schema = load("boolean_variants.csv")
    assert schema["smoker"].kind == ColumnKind.BOOLEAN
    assert schema["fbs"].kind == ColumnKind.BOOLEAN
    assert str(table["fbs"].dtype) == "boolean"
    assert table["fbs"].isna().sum() == raw.frame["fbs"].isna().sum()
    assert table["fbs"].isna().sum() > 0
    assert table["smoker"].iloc[0]


def test_boolean_variants_csv_keeps_tokens():
    from synthcare.report import read_synthetic_csv, synthetic_csv_text

    raw, table, schema = load("boolean_variants.csv")
    text = synthetic_csv_text(table, schema)
    written = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    present = raw.frame["fbs"].notna()
    assert written["smoker"].tolist() == raw.frame["smoker"].str.strip().tolist()
    assert written["fbs"][present].tolist() == raw.frame["fbs"][present].str.strip().tolist()
    again = read_synthetic_csv(text, schema)
    pd.testing.assert_series_equal(again["smoker"], table["smoker"])
    pd.testing.assert_series_equal(again["fbs"], table["fbs"])


@pytest.mark.parametrize("path", sorted(CASES.glob("*.csv")), ids=lambda p: p.name)
def test_case_input_never_modified(path):
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        load(path.name)
    except SynthcareError as err:
        assert "\n" not in str(err)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_arthritis_sample_keeps_none_level(tmp_path):
    from synthcare.samples import write_sample_csv

    raw = read_table(write_sample_csv("sample:arthritis", tmp_path))
    table, schema = infer_schema(raw)
    assert schema["Improved"].kind == ColumnKind.CATEGORICAL
    assert (table["Improved"] == "None").sum() == 42
    assert table["Improved"].isna().sum() == 0


def test_pbc_sample_has_no_false_rounding_note(tmp_path):
    from synthcare.samples import write_sample_csv

    _, schema = infer_schema(read_table(write_sample_csv("sample:pbc", tmp_path)))
    assert schema["trt"].dtype == "int64"
    assert not any("rounded" in note for note in schema["trt"].notes)
