"""infer_schema, Schema serialisation, SDV metadata, load_metadata and restore_dtypes."""

import json
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

from synthcare.errors import ConfigError, InputError, LimitError
from synthcare.limits import Limits
from synthcare.reading import RawTable, SourceInfo
from synthcare.schema import (
    ColumnKind,
    ColumnSchema,
    Schema,
    infer_schema,
    load_metadata,
    restore_dtypes,
)


def raw_of(columns: dict[str, list], decimal: str = ".") -> RawTable:
    frame = pd.DataFrame(
        {name: pd.array(values, dtype="string") for name, values in columns.items()}
    )
    source = SourceInfo("t.csv", "csv", 1, "0" * 64, "utf-8", ",", decimal)
    return RawTable(frame, source)


def infer_one(values: list, name: str = "x", **kwargs) -> tuple[pd.Series | None, ColumnSchema]:
    table, schema = infer_schema(raw_of({name: values}), **kwargs)
    return (table[name] if name in table else None), schema[name]


def repeat(values: list, times: int = 4) -> list:
    return values * times


def test_infer_integers_with_gaps_stay_int64():
    values, column = infer_one(repeat(["1", None, "3", "12"]))
    assert column.kind == ColumnKind.NUMERICAL
    assert column.dtype == "int64"
    assert str(values.dtype) == "Int64"
    assert values.isna().sum() == 4


def test_infer_integer_gaps_not_reported_rounded():
    _, column = infer_one(repeat(["1", None, "NA", "2"]))
    assert column.dtype == "int64"
    assert not any("rounded" in note for note in column.notes)


def test_metadata_integer_with_gaps_counts_only_rounded():
    raw = raw_of({"dose": repeat(["1.4", None, "2", "NA"])})
    metadata = {"columns": {"dose": {"sdtype": "numerical", "computer_representation": "Int64"}}}
    _, schema = infer_schema(raw, metadata)
    assert any("4 non-integer value(s) were rounded" in note for note in schema["dose"].notes)


def test_infer_float_column():
    values, column = infer_one(repeat(["1.5", "2", "3.25"]))
    assert column.dtype == "float64"
    assert values.dtype == np.float64


def test_infer_integer_written_with_decimal_point_is_float():
    _, column = infer_one(repeat(["1.0", "2.0", "3.0"]))
    assert column.dtype == "float64"


def test_infer_missing_tokens():
    values, column = infer_one(repeat(["1", "NA", "n/a", "?", "7"]))
    assert column.kind == ColumnKind.NUMERICAL
    assert column.parse_rate == 1.0
    assert column.token_rule is None
    assert values.isna().sum() == 12


def test_infer_lab_tokens_rule():
    values, column = infer_one(repeat(["<5", ">=200", "12", "7.5", "14", "9", "11", "n.d."]))
    assert column.kind == ColumnKind.NUMERICAL
    assert column.token_rule is not None
    assert values.iloc[0] == 5
    assert values.iloc[1] == 200
    assert column.parse_rate == 1.0


def test_infer_word_tokens_become_missing():
    values, column = infer_one(repeat(["negative", "12", "7.5", "14", "9", "11"]))
    assert column.kind == ColumnKind.NUMERICAL
    assert column.parse_rate == pytest.approx(5 / 6)
    assert values.iloc[0] is np.nan or np.isnan(values.iloc[0])
    assert any("'negative'" in note for note in column.notes)


def test_infer_none_level_stays_category():
    # Shaped like the Improved column of the Arthritis trial: "None" means no improvement.
    improved = ["None"] * 42 + ["Some"] * 14 + ["Marked"] * 28 + ["NA", ""]
    values, column = infer_one(improved, name="Improved")
    assert column.kind == ColumnKind.CATEGORICAL
    assert (values == "None").sum() == 42
    assert values.isna().sum() == 2


def test_infer_missing_words_in_numbers_are_missing():
    values, column = infer_one(repeat(["None", "12", "missing", "7"]))
    assert column.kind == ColumnKind.NUMERICAL
    assert column.parse_rate == 1.0
    assert values.isna().sum() == 8


def test_restore_keeps_none_category():
    table, schema = infer_schema(raw_of({"Improved": repeat(["None", "Some", "Marked"])}))
    restored = restore_dtypes(pd.DataFrame({"Improved": ["None", "NA", "Some"]}), schema)
    assert restored["Improved"].tolist()[0] == "None"
    assert restored["Improved"].isna().tolist() == [False, True, False]


def test_infer_numbers_with_common_unit():
    values, column = infer_one(repeat(["12 mg/dl", "7.5 MG/DL", "<3 mg/dl", "9", "negative"]))
    assert column.kind == ColumnKind.NUMERICAL
    assert values.tolist()[:4] == [12.0, 7.5, 3.0, 9.0]
    assert any("'mg/dl' was removed from 12" in note for note in column.notes)


def test_infer_percent_values_numerical():
    values, column = infer_one(repeat(["12%", "7%", "100%"]))
    assert column.dtype == "int64"
    assert values.iloc[2] == 100


def test_infer_mixed_units_not_stripped():
    _, column = infer_one(repeat(["12 mg", "7 g", "3 kg", "4 mg", "8 g"]))
    assert column.kind == ColumnKind.CATEGORICAL


def test_infer_below_threshold_is_categorical_with_note():
    _, column = infer_one(repeat(["high", "low", "12", "7"]))
    assert column.kind == ColumnKind.CATEGORICAL
    assert any("50%" in note for note in column.notes)


def test_infer_boolean_words():
    values, column = infer_one(repeat(["Yes", "no", None, "YES"]))
    assert column.kind == ColumnKind.BOOLEAN
    assert str(values.dtype) == "boolean"
    assert values.tolist()[:4] == [True, False, pd.NA, True]


def test_infer_zero_one_alone_is_numerical():
    _, column = infer_one(repeat(["0", "1", "1"]))
    assert column.kind == ColumnKind.NUMERICAL


def test_infer_zero_one_with_words_is_boolean():
    values, column = infer_one(repeat(["0", "1", "true", "false"]))
    assert column.kind == ColumnKind.BOOLEAN
    assert values.tolist()[:4] == [False, True, True, False]


@pytest.mark.parametrize(
    ("texts", "fmt"),
    [
        (["2024-01-31", "2023-12-01", "2024-02-29"], "%Y-%m-%d"),
        (
            ["2024-01-31 10:00:00", "2023-12-01 08:30:00", "2024-02-29 23:59:59"],
            "%Y-%m-%d %H:%M:%S",
        ),
        (["31/01/2024", "01/12/2023", "29/02/2024"], "%d/%m/%Y"),
        (["01/31/2024", "12/01/2023", "02/29/2024"], "%m/%d/%Y"),
        (["31.01.2024", "01.12.2023", "29.02.2024"], "%d.%m.%Y"),
    ],
)
def test_infer_datetime_formats(texts, fmt):
    values, column = infer_one(repeat(texts))
    assert column.kind == ColumnKind.DATETIME
    assert column.datetime_format == fmt
    assert values.dtype == "datetime64[ns]"
    assert values.iloc[0] == pd.Timestamp(2024, 1, 31, values.iloc[0].hour)


def test_infer_iso_offsets_converted_to_utc():
    values, column = infer_one(repeat(["2024-01-31T10:00:00+02:00", "2024-02-01T08:30:00Z"]))
    assert column.kind == ColumnKind.DATETIME
    assert column.datetime_format == "%Y-%m-%dT%H:%M:%SZ"
    assert values.iloc[0] == pd.Timestamp(2024, 1, 31, 8)
    assert values.iloc[1].strftime(column.datetime_format) == "2024-02-01T08:30:00Z"
    assert any("UTC" in note for note in column.notes)


def test_infer_ambiguous_dates_read_day_first():
    values, column = infer_one(repeat(["01/02/2024", "03/04/2024", "05/06/2024"]))
    assert column.datetime_format == "%d/%m/%Y"
    assert values.iloc[0] == pd.Timestamp(2024, 2, 1)
    assert any("also fits month first" in note for note in column.notes)


def test_infer_unambiguous_day_first_no_note():
    _, column = infer_one(repeat(["13/02/2024", "03/04/2024", "05/06/2024"]))
    assert column.datetime_format == "%d/%m/%Y"
    assert column.notes == []


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("patient_name", repeat(["Ann Lee", "Bo Kim", "Ann Lee"])),
        ("Surname", repeat(["Lee", "Kim", "Roe"])),
        ("MRN", [f"{100 + i}" for i in range(12)]),
        ("PhoneNumber", repeat(["555 1000", "555 1001", "555 1000"])),
        ("patient_id", [f"P{i % 4}" for i in range(12)]),
        ("ID", [str(100 + i % 3) for i in range(12)]),
        ("ward_id", [f"W{i % 8}" for i in range(12)]),
        ("contact", [f"user{i}@example.org" for i in range(12)]),
        ("mobile_contact", [f"+44 20 7946 {i:04d}" for i in range(12)]),
        ("reference", [f"R{i:05d}X" for i in range(12)]),
        ("row_number", [str(i) for i in range(1, 13)]),
        ("contact", [f"0{7700900000 + i * 37}" for i in range(12)]),
    ],
)
def test_infer_identifiers(name, values):
    typed, column = infer_one(values, name=name)
    assert column.kind == ColumnKind.IDENTIFIER
    assert typed is None


@pytest.mark.parametrize(
    ("name", "values", "kind"),
    [
        ("drug_name", repeat(["aspirin", "ibuprofen", "aspirin"]), ColumnKind.CATEGORICAL),
        ("site_id", repeat(["A", "B", "A"]), ColumnKind.CATEGORICAL),
        ("email_consent", repeat(["yes", "no", "yes"]), ColumnKind.BOOLEAN),
        ("PhoneAvailable", repeat(["Y", "N", None]), ColumnKind.BOOLEAN),
        ("ESR", [str(i) for i in range(20, 32)], ColumnKind.NUMERICAL),
        ("YKL40", [f"{100 + i * 7.3:.1f}" for i in range(12)], ColumnKind.NUMERICAL),
    ],
)
def test_infer_not_identifiers(name, values, kind):
    _, column = infer_one(values, name=name)
    assert column.kind == kind


def test_infer_constant_with_missing_is_not_constant():
    _, column = infer_one(repeat(["5", None]))
    assert column.kind == ColumnKind.NUMERICAL


@pytest.mark.parametrize(
    ("text", "value", "dtype"),
    [
        ("0", 0, "int64"),
        ("2.5", 2.5, "float64"),
        ("yes", True, "boolean"),
        ("007", "007", "string"),
    ],
)
def test_infer_constant_value_typed(text, value, dtype):
    values, column = infer_one([text] * 12)
    assert column.kind == ColumnKind.CONSTANT
    assert column.constant_value == value
    assert type(column.constant_value) is type(value)
    assert column.dtype == dtype
    assert len(values) == 12


def test_infer_empty_column():
    values, column = infer_one([None] * 6 + ["NA"] * 6)
    assert column.kind == ColumnKind.EMPTY
    assert values.isna().all()


def test_infer_leading_zero_codes_text():
    values, column = infer_one(repeat(["007", "012", "100"]))
    assert column.kind == ColumnKind.CATEGORICAL
    assert values.iloc[0] == "007"


def test_infer_category_limit():
    values = [f"c{i % 30}" for i in range(100)]
    with pytest.raises(LimitError, match="30 distinct values.*maximum of 20"):
        infer_schema(raw_of({"ward": values}), limits=Limits(max_categories=20))


def test_infer_decimal_comma_source():
    table, schema = infer_schema(raw_of({"a": repeat(["1,5", "2,25", "1.234,5"])}, decimal=","))
    assert schema["a"].dtype == "float64"
    assert table["a"].tolist()[:3] == [1.5, 2.25, 1234.5]


def test_infer_parquet_native_types():
    frame = pd.DataFrame(
        {
            "n": pd.array([1, None, 3] * 4, dtype="Int64"),
            "f": [1.5, 2.5, np.nan] * 4,
            "b": [True, False, True] * 4,
            "d": pd.to_datetime(["2024-01-01", "2024-02-01", None] * 4).tz_localize("UTC"),
            "c": pd.Categorical(["x", "y", "x"] * 4).astype(object),
        }
    )
    raw = RawTable(frame, SourceInfo("t.parquet", "parquet", 1, "0" * 64))
    table, schema = infer_schema(raw)
    assert [schema[name].kind for name in "nfbdc"] == [
        ColumnKind.NUMERICAL,
        ColumnKind.NUMERICAL,
        ColumnKind.BOOLEAN,
        ColumnKind.DATETIME,
        ColumnKind.CATEGORICAL,
    ]
    assert str(table["n"].dtype) == "Int64"
    assert str(table["d"].dtype) == "datetime64[ns]"


def test_infer_input_frame_unchanged():
    raw = raw_of({"a": repeat(["<5", "7"]), "name": repeat(["Ann", "Bo"])})
    before = raw.frame.copy()
    infer_schema(raw)
    pd.testing.assert_frame_equal(raw.frame, before)


# --- metadata overrides -------------------------------------------------------------------


def sex_raw() -> RawTable:
    return raw_of({"sex": repeat(["0", "1", "2"]), "Hb": repeat(["11.5", "12", "9.8"])})


def test_metadata_overrides_kind():
    metadata = {"columns": {"sex": {"sdtype": "categorical"}}}
    table, schema = infer_schema(sex_raw(), metadata)
    assert schema["sex"].kind == ColumnKind.CATEGORICAL
    assert table["sex"].iloc[2] == "2"
    assert schema["Hb"].kind == ColumnKind.NUMERICAL
    assert any("metadata" in note for note in schema["sex"].notes)


def test_metadata_multi_table_with_one_table():
    metadata = {"tables": {"ra": {"columns": {"Hb": {"sdtype": "id"}}}}, "relationships": []}
    table, schema = infer_schema(sex_raw(), metadata)
    assert schema["Hb"].kind == ColumnKind.IDENTIFIER
    assert "Hb" not in table


def test_metadata_primary_key_is_identifier():
    metadata = {"columns": {"sex": {"sdtype": "numerical"}}, "primary_key": "sex"}
    _, schema = infer_schema(sex_raw(), metadata)
    assert schema["sex"].kind == ColumnKind.IDENTIFIER


def test_metadata_unknown_column_lists_valid_names():
    metadata = {"columns": {"Hgb": {"sdtype": "numerical"}}}
    with pytest.raises(ConfigError, match="'Hgb'.*Valid column names: sex, Hb"):
        infer_schema(sex_raw(), metadata)


def test_metadata_mistyped_sdtype_lists_valid_sdtypes():
    metadata = {"columns": {"Hb": {"sdtype": "numeric"}}}
    with pytest.raises(ConfigError) as caught:
        infer_schema(sex_raw(), metadata)
    assert "'numeric'" in str(caught.value)
    assert "numerical" in str(caught.value)
    assert "categorical" in str(caught.value)


def test_metadata_several_tables_rejected():
    metadata = {"tables": {"a": {"columns": {}}, "b": {"columns": {}}}}
    with pytest.raises(ConfigError, match="2 tables"):
        infer_schema(sex_raw(), metadata)


def test_metadata_numerical_on_text_rejected():
    raw = raw_of({"ward": repeat(["east", "west"])})
    with pytest.raises(ConfigError, match="none of its values is a number"):
        infer_schema(raw, {"columns": {"ward": {"sdtype": "numerical"}}})


def test_metadata_boolean_bad_value_named():
    raw = raw_of({"flag": repeat(["yes", "no", "maybe"])})
    with pytest.raises(ConfigError, match="'maybe'"):
        infer_schema(raw, {"columns": {"flag": {"sdtype": "boolean"}}})


def test_metadata_boolean_from_digits():
    raw = raw_of({"flag": repeat(["1", "0", None])})
    table, schema = infer_schema(raw, {"columns": {"flag": {"sdtype": "boolean"}}})
    assert schema["flag"].kind == ColumnKind.BOOLEAN
    assert table["flag"].tolist()[:3] == [True, False, pd.NA]


def test_metadata_datetime_format_used():
    raw = raw_of({"visit": repeat(["2024|01|31", "2024|02|01"])})
    metadata = {"columns": {"visit": {"sdtype": "datetime", "datetime_format": "%Y|%m|%d"}}}
    table, schema = infer_schema(raw, metadata)
    assert schema["visit"].datetime_format == "%Y|%m|%d"
    assert table["visit"].iloc[0] == pd.Timestamp(2024, 1, 31)


def test_metadata_datetime_format_mismatch_rejected():
    raw = raw_of({"visit": repeat(["2024-01-31", "2024-02-01"])})
    metadata = {"columns": {"visit": {"sdtype": "datetime", "datetime_format": "%d/%m/%Y"}}}
    with pytest.raises(ConfigError, match="datetime_format"):
        infer_schema(raw, metadata)


def test_metadata_integer_representation():
    raw = raw_of({"dose": repeat(["1.0", "2.0", "3.0"])})
    metadata = {"columns": {"dose": {"sdtype": "numerical", "computer_representation": "Int64"}}}
    table, schema = infer_schema(raw, metadata)
    assert schema["dose"].dtype == "int64"
    assert str(table["dose"].dtype) == "Int64"


def test_metadata_integer_representation_rounds_with_note():
    raw = raw_of({"dose": repeat(["1.4", "2.6", "3"])})
    metadata = {"columns": {"dose": {"sdtype": "numerical", "computer_representation": "Int8"}}}
    table, schema = infer_schema(raw, metadata)
    assert table["dose"].tolist()[:3] == [1, 3, 3]
    assert any("8 non-integer value(s) were rounded" in note for note in schema["dose"].notes)


def test_load_metadata_file(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"columns": {"Hb": {"sdtype": "numerical"}}, "primary_key": None}))
    assert load_metadata(path) == {"columns": {"Hb": {"sdtype": "numerical"}}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"columns": []}', "'columns' object"),
        ('{"columns": {"a": {}}}', "has no 'sdtype'"),
        ('{"columns": {"a": {"sdtype": "float"}}}', "Valid sdtypes"),
        ('{"columns": {"a": {"sdtype": "id"}}, "primary_key": "b"}', "primary_key"),
    ],
)
def test_load_metadata_invalid(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_metadata(path)


def test_load_metadata_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="was not found"):
        load_metadata(tmp_path / "absent.json")


# --- Schema serialisation and SDV metadata -----------------------------------------------


def mixed_raw() -> RawTable:
    return raw_of(
        {
            "Hb": repeat(["11.5", "12", "<9"]),
            "ESR": repeat(["20", None, "31"]),
            "smoker": repeat(["yes", "no", "no"]),
            "visit": repeat(["01/02/2024", "13/03/2024", "28/02/2023"]),
            "ward": repeat(["007", "012", "007"]),
            "name": repeat(["Ann", "Bo", "Cy"]),
            "MH": ["0"] * 12,
            "notes": [None] * 12,
        }
    )


def test_schema_round_trip_json():
    _, schema = infer_schema(mixed_raw())
    again = Schema.from_dict(json.loads(json.dumps(schema.to_dict())))
    assert again == schema


def test_schema_boolean_tokens_round_trip():
    _, schema = infer_schema(raw_of({"smoker": repeat(["yes", "no", "no"])}))
    assert schema["smoker"].true_token == "yes"
    assert schema["smoker"].false_token == "no"
    data = json.loads(json.dumps(schema.to_dict()))
    assert data["columns"][0]["true_token"] == "yes"
    assert Schema.from_dict(data)["smoker"].false_token == "no"


def test_schema_without_boolean_tokens_loads():
    data = {"columns": [{"name": "smoker", "kind": "boolean", "dtype": "boolean"}]}
    column = Schema.from_dict(data)["smoker"]
    assert column.true_token is None
    assert column.false_token is None


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["TRUE", "FALSE", "TRUE"], ("TRUE", "FALSE")),
        (["Y", "N", "Y"], ("Y", "N")),
        (["True", None, "True", "no"], ("True", "no")),
    ],
)
def test_infer_boolean_tokens(texts, expected):
    _, column = infer_one(repeat(texts))
    assert (column.true_token, column.false_token) == expected


def test_infer_boolean_token_partner_when_one_side_missing():
    _, column = infer_one(repeat(["TRUE", None]))
    assert column.kind == ColumnKind.BOOLEAN
    assert (column.true_token, column.false_token) == ("TRUE", "FALSE")


def test_infer_constant_boolean_keeps_tokens():
    _, column = infer_one(repeat(["Yes"]))
    assert column.kind == ColumnKind.CONSTANT
    assert (column.true_token, column.false_token) == ("Yes", "No")


def test_schema_helpers():
    _, schema = infer_schema(mixed_raw())
    assert schema.modelled() == ["Hb", "ESR", "smoker", "visit", "ward"]
    assert schema.by_kind(ColumnKind.IDENTIFIER) == ["name"]
    assert schema.by_kind("constant") == ["MH"]
    assert schema.by_kind("empty") == ["notes"]
    assert schema.names()[0] == "Hb"
    assert "Hb" in schema


@pytest.mark.parametrize(
    "data",
    [
        {"columns": "x"},
        {"columns": [{"name": "a", "kind": "number", "dtype": "int64"}]},
        {"columns": [{"name": "a", "kind": "numerical", "dtype": "int32"}]},
        {"columns": [{"kind": "numerical", "dtype": "int64"}]},
        {"schema_version": 99, "columns": []},
        {"columns": [{"name": "a", "kind": "boolean", "dtype": "boolean", "true_token": 1}]},
    ],
)
def test_schema_from_dict_invalid(data):
    with pytest.raises(ConfigError):
        Schema.from_dict(data)


def test_to_sdv_metadata_loads_in_sdv():
    from sdv.metadata import Metadata

    table, schema = infer_schema(mixed_raw())
    metadata_dict = schema.to_sdv_metadata()
    assert set(metadata_dict["columns"]) == set(schema.modelled())
    assert metadata_dict["columns"]["visit"] == {"sdtype": "datetime"}
    assert metadata_dict["columns"]["ward"] == {"sdtype": "categorical"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metadata = Metadata.load_from_dict(metadata_dict, single_table_name="table")
    metadata.validate_data({"table": table[schema.modelled()]})


# --- restore_dtypes ----------------------------------------------------------------------


def test_restore_dtypes_from_synthesizer_output():
    table, schema = infer_schema(mixed_raw())
    synthetic = pd.DataFrame(
        {
            "Hb": [11.2, np.nan],
            "ESR": [20.6, np.nan],
            "smoker": [1.0, 0.0],
            "visit": pd.to_datetime(["2024-02-01", None]),
            "ward": ["007", None],
        }
    )
    restored = restore_dtypes(synthetic, schema)
    assert restored["ESR"].tolist() == [21, pd.NA]
    assert str(restored["ESR"].dtype) == "Int64"
    assert str(restored["smoker"].dtype) == "boolean"
    assert restored["smoker"].tolist() == [True, False]
    assert str(restored["ward"].dtype) == "string"
    assert str(restored["visit"].dtype) == "datetime64[ns]"
    assert synthetic["ESR"].iloc[0] == 20.6


def test_restore_dtypes_from_csv_text():
    table, schema = infer_schema(mixed_raw())
    text = pd.DataFrame(
        {
            "Hb": ["11.5", ""],
            "ESR": ["20", ""],
            "smoker": ["True", "False"],
            "visit": ["13/03/2024", ""],
            "ward": ["007", ""],
            "MH": ["0", "0"],
            "notes": ["", ""],
            "extra": ["a", "b"],
        }
    )
    restored = restore_dtypes(text, schema)
    assert restored["visit"].iloc[0] == pd.Timestamp(2024, 3, 13)
    assert restored["ESR"].iloc[0] == 20
    assert restored["ward"].isna().iloc[1]
    assert str(restored["MH"].dtype) == "Int64"
    assert restored["notes"].isna().all()
    assert restored["extra"].tolist() == ["a", "b"]


def test_restore_dtypes_pandas_missing_markers():
    _, schema = infer_schema(mixed_raw())
    text = pd.DataFrame({"visit": ["NaT", "2024-03-13T10:00:00Z"], "ESR": ["nan", "<NA>"]})
    restored = restore_dtypes(text, schema)
    assert restored["visit"].isna().iloc[0]
    assert restored["visit"].iloc[1] == pd.Timestamp(2024, 3, 13, 10)
    assert restored["ESR"].isna().all()


def test_restore_dtypes_keeps_values_unclipped():
    _, schema = infer_schema(mixed_raw())
    restored = restore_dtypes(pd.DataFrame({"ESR": [-1000.4, 1e9]}), schema)
    assert restored["ESR"].tolist() == [-1000, 1_000_000_000]


def test_restore_dtypes_bad_value_named():
    _, schema = infer_schema(mixed_raw())
    with pytest.raises(InputError, match="'ESR'.*'abc'"):
        restore_dtypes(pd.DataFrame({"ESR": ["12", "abc"]}), schema)


def test_restore_round_trip_of_typed_table():
    table, schema = infer_schema(mixed_raw())
    restored = restore_dtypes(table, schema)
    pd.testing.assert_frame_equal(restored, table)


# --- scale ---------------------------------------------------------------------------------


def test_infer_5000_rows_unique_id_fast_and_small():
    rows = 5000
    rng = np.random.default_rng(0)
    raw = raw_of(
        {
            "record": [f"R{i:07d}" for i in range(rows)],
            "Hb": [f"{v:.1f}" for v in rng.normal(12, 1.5, rows)],
            "ward": [f"w{i % 7}" for i in range(rows)],
        }
    )
    tracemalloc.start()
    started = time.perf_counter()
    table, schema = infer_schema(raw)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert schema["record"].kind == ColumnKind.IDENTIFIER
    assert list(table.columns) == ["Hb", "ward"]
    assert elapsed < 5
    assert peak < 50 * 1024 * 1024
