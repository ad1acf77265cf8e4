"""Property tests: any file gives a table and schema, or a SynthcareError, never another error."""

import csv
import datetime as dt
import io
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from synthcare.errors import ConfigError, SynthcareError
from synthcare.limits import Limits
from synthcare.profile import profile_table
from synthcare.reading import read_table
from synthcare.schema import Schema, infer_schema, restore_dtypes
from synthcare.tokens import parse_numbers

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LIMITS = Limits(min_rows=1, max_categories=50)
BOOLEAN_CASE = Path(__file__).resolve().parents[1] / "data" / "cases" / "boolean_variants.csv"

ODD_NAMES = st.sampled_from(
    ['"quoted"', "line\nbreak", "<b>Hb</b>", "🩸 Hb", "123", "a,b", "a;b", "  spaced  ", "é", "NA"]
)
PRINTABLE = st.characters(blacklist_categories=("Cs", "Cc"))
COLUMN_NAMES = st.one_of(ODD_NAMES, st.text(PRINTABLE, min_size=1, max_size=12))
CELLS = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda x: f"{x:.3f}"),
    st.sampled_from(["<5", ">200", "<=0.1", "negative", "NA", "?", "", "yes", "no", "TRUE"]),
    st.sampled_from(["007", "01/02/2024", "2024-13-45", "13/01/2024", "1,5", "1.234,5", "-1"]),
    st.text(PRINTABLE, max_size=10),
    st.text(max_size=3),
)
DIALECTS = st.fixed_dictionaries(
    {
        "delimiter": st.sampled_from([",", ";", "\t", "|"]),
        "quoting": st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]),
        "lineterminator": st.sampled_from(["\n", "\r\n"]),
    }
)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "cp1256", "utf-16"])


@st.composite
def tables(draw, names=COLUMN_NAMES, cells=CELLS, ragged=True):
    width = draw(st.integers(1, 5))
    header = draw(st.lists(names, min_size=width, max_size=width, unique_by=str.strip))
    rows = draw(st.lists(st.lists(cells, min_size=width, max_size=width), max_size=15))
    if ragged and draw(st.booleans()):
        # A ragged row somewhere, to exercise the field-count check.
        rows.insert(draw(st.integers(0, len(rows))), draw(st.lists(cells, max_size=width + 2)))
    return header, rows


def csv_text(header: list[str], rows: list[list[str]], dialect: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, **dialect)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def run_all_steps(path) -> None:
    try:
        raw = read_table(path, limits=LIMITS)
        table, schema = infer_schema(raw, limits=LIMITS)
    except SynthcareError as err:
        event(str(err).split(":")[0][-40:])
        assert str(err)
        assert "\n" not in str(err).replace(repr("\n")[1:-1], "")
        return
    event("table")
    assert len(table) == len(raw.frame)
    assert [column.name for column in schema.columns] == list(raw.frame.columns)
    assert_typed_matches_schema(table, schema)
    assert Schema.from_dict(schema.to_dict()) == schema
    profile_table(table, schema)
    restored = restore_dtypes(table, schema)
    pd.testing.assert_frame_equal(restored, table)


PANDAS_DTYPES = {
    "int64": "Int64",
    "float64": "float64",
    "string": "string",
    "boolean": "boolean",
    "datetime": "datetime64[ns]",
}


def assert_typed_matches_schema(table: pd.DataFrame, schema: Schema) -> None:
    for column in schema.columns:
        if column.kind == "identifier":
            assert column.name not in table.columns
        else:
            assert str(table[column.name].dtype) == PANDAS_DTYPES[column.dtype]
        if column.kind == "empty":
            assert table[column.name].isna().all()
        if column.kind == "constant":
            assert table[column.name].notna().all()


@SETTINGS
@given(table=tables(), dialect=DIALECTS, encoding=ENCODINGS)
def test_any_csv_gives_schema_or_synthcare_error(tmp_path, table, dialect, encoding):
    header, rows = table
    data = csv_text(header, rows, dialect).encode(encoding, errors="replace")
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    run_all_steps(path)


@SETTINGS
@given(data=st.binary(max_size=400))
def test_any_bytes_give_table_or_synthcare_error(tmp_path, data):
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    run_all_steps(path)


SAFE_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ_0123456789", min_size=1)
# Accented letters appear inside real words: the code-page scoring, by design, distrusts words
# made only of accented letters, which is what Arabic or Cyrillic text decoded as cp1252 gives.
SAFE_CELLS = st.one_of(
    st.text(alphabet="abcdefgh0123456789.-<> ", max_size=8),
    st.sampled_from(["café", "Müller", "Hélène", "señor", "naïve", "Øre", "Ärzte", "où"]),
)


@SETTINGS
@given(
    table=tables(names=SAFE_NAMES, cells=SAFE_CELLS, ragged=False),
    dialect=DIALECTS,
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
)
def test_simple_csv_round_trips(tmp_path, table, dialect, encoding):
    header, rows = table
    assume(len(set(header)) == len(header))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    assume(len(rows) >= 1)
    path = tmp_path / "t.csv"
    path.write_bytes(csv_text(header, rows, dialect).encode(encoding))

    raw = read_table(path, limits=LIMITS)

    assert list(raw.frame.columns) == header
    expected = [[cell.strip() or None for cell in row] for row in rows]
    actual = [
        [None if pd.isna(cell) else cell for cell in row]
        for row in raw.frame.itertuples(index=False)
    ]
    assert actual == expected


@SETTINGS
@given(
    numbers=st.lists(
        st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), min_size=1, max_size=20
    ),
    decimal=st.sampled_from([".", ","]),
)
def test_parse_numbers_reads_formatted_floats(numbers, decimal):
    texts = [repr(number) for number in numbers]
    if decimal == ",":
        texts = [text.replace(".", ",") for text in texts]
    parsed = parse_numbers(pd.Series(texts, dtype="string"), decimal)
    assert parsed.parse_rate == 1.0
    for number, value in zip(numbers, parsed.values, strict=True):
        assert math.isclose(number, value, rel_tol=1e-12, abs_tol=0.0)


@SETTINGS
@given(bound=st.integers(0, 10_000), sign=st.sampled_from(["<", ">", "<=", ">=", "≤", "≥"]))
def test_parse_numbers_bounds_read_as_value(bound, sign):
    parsed = parse_numbers(pd.Series([f"{sign}{bound}", "1"], dtype="string"))
    assert parsed.values.iloc[0] == bound
    assert parsed.bounds == 1


@pytest.mark.parametrize("encoding", ["cp1252", "cp1256"])
def test_code_page_detection_on_clinical_words(tmp_path, encoding):
    words = {
        "cp1252": ["Hélène", "Müller", "Jürgen", "François", "Señora", "Ødegård"],
        "cp1256": ["أحمد", "منى", "سارة", "عمر", "فاطمة", "يوسف"],
    }[encoding]
    text = "patient,Hb\n" + "".join(f"{words[i % 6]},{11 + i}\n" for i in range(12))
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode(encoding))
    raw = read_table(path)
    assert raw.source.encoding == encoding
    assert raw.frame["patient"].tolist()[:6] == words


SDTYPES = st.sampled_from(
    ["numerical", "categorical", "boolean", "datetime", "id", "email", "numeric", "float", ""]
)
METADATA_ENTRIES = st.fixed_dictionaries(
    {"sdtype": SDTYPES},
    optional={
        "datetime_format": st.sampled_from(["%d/%m/%Y", "%Y-%m-%d", "%Q", "", "%H"]),
        "computer_representation": st.sampled_from(["Int64", "Float", "Int8", "text"]),
    },
)


@SETTINGS
@given(
    table=tables(ragged=False),
    entries=st.dictionaries(st.sampled_from(["a", "b", "c", "Hb", "x"]), METADATA_ENTRIES),
    wrap=st.booleans(),
)
def test_any_metadata_gives_schema_or_synthcare_error(tmp_path, table, entries, wrap):
    header, rows = table
    path = tmp_path / "t.csv"
    path.write_text(csv_text(header, rows, {"delimiter": ","}), encoding="utf-8")
    metadata = {"columns": entries}
    if wrap:
        metadata = {"tables": {"t": metadata}, "relationships": []}
    try:
        raw = read_table(path, limits=LIMITS)
        table_typed, schema = infer_schema(raw, metadata, limits=LIMITS)
    except SynthcareError as err:
        event(type(err).__name__)
        return
    event("table")
    assert_typed_matches_schema(table_typed, schema)
    for name, entry in entries.items():
        if entry["sdtype"] in ("id", "email"):
            assert name not in table_typed.columns
    pd.testing.assert_frame_equal(restore_dtypes(table_typed, schema), table_typed)


SYNTHETIC_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=False),
    st.integers(-(10**6), 10**6),
    st.booleans(),
    st.none(),
    st.text(max_size=6),
    st.sampled_from(["2024-01-31", "31/01/2024", "True", "no", "1e3", ""]),
)


@SETTINGS
@given(values=st.lists(SYNTHETIC_VALUES, min_size=1, max_size=12))
def test_restore_dtypes_gives_frame_or_input_error(values):
    _, schema = infer_schema(read_table(BOOLEAN_CASE))
    frame = pd.DataFrame({"smoker": values, "Hb": values, "fbs": values})
    for column in ("smoker", "Hb", "fbs"):
        try:
            restored = restore_dtypes(frame[[column]], schema)
        except SynthcareError:
            event("error")
            continue
        event("restored")
        assert str(restored[column].dtype) in ("boolean", "float64")


XLSX_CELLS = st.one_of(
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.dates(min_value=dt.date(1900, 3, 1)),
    st.text(PRINTABLE, max_size=8),
    st.sampled_from(["<5", "negative", "007", "yes", ""]),
)


@settings(SETTINGS, max_examples=50)
@given(
    header=st.lists(st.one_of(COLUMN_NAMES, st.none()), min_size=1, max_size=4),
    rows=st.lists(st.lists(XLSX_CELLS, max_size=5), max_size=12),
)
def test_any_xlsx_gives_schema_or_synthcare_error(tmp_path, header, rows):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in [header, *rows]:
        sheet.append(row)
    path = tmp_path / "t.xlsx"
    workbook.save(path)
    run_all_steps(path)


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5))
COLUMN_DICTS = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=3), JSON_SCALARS),
        "kind": st.one_of(st.sampled_from(["numerical", "constant", "empty", "bad"]), JSON_SCALARS),
        "dtype": st.one_of(st.sampled_from(["int64", "string", "datetime"]), JSON_SCALARS),
        "parse_rate": JSON_SCALARS,
        "notes": st.one_of(st.lists(st.text(max_size=4), max_size=2), JSON_SCALARS),
        "constant_value": st.one_of(JSON_SCALARS, st.lists(st.integers(), max_size=1)),
        "datetime_format": JSON_SCALARS,
    },
)


@SETTINGS
@given(data=st.one_of(JSON_SCALARS, st.fixed_dictionaries({"columns": st.lists(COLUMN_DICTS)})))
def test_schema_from_any_dict_or_config_error(data):
    try:
        schema = Schema.from_dict(data)
    except ConfigError:
        event("error")
        return
    event("schema")
    assert Schema.from_dict(schema.to_dict()) == schema
