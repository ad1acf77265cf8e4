"""read_table: dialects, encodings, formats, header checks and limits."""

import codecs
import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from synthcare.errors import ConfigError, InputError, LimitError
from synthcare.limits import DEFAULT_LIMITS, Limits
from synthcare.reading import RawTable, read_table

SMALL = Limits(min_rows=1)


def write_text(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def table_text(delimiter: str = ",", rows: int = 12) -> str:
    lines = [delimiter.join(["Hb", "ESR", "site"])]
    for i in range(rows):
        lines.append(delimiter.join([f"1{i % 10}.5", str(20 + i), f"s{i % 3}"]))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_read_delimiter_detected(tmp_path, delimiter):
    raw = read_table(write_text(tmp_path, table_text(delimiter)))
    assert raw.source.delimiter == delimiter
    assert list(raw.frame.columns) == ["Hb", "ESR", "site"]
    assert raw.frame.shape == (12, 3)


def test_read_cells_are_strings_or_missing(tmp_path):
    text = "a,b\n" + "".join(f" {i} ,\n" for i in range(10)) + "x,y\n"
    raw = read_table(write_text(tmp_path, text))
    assert raw.frame["a"].iloc[0] == "0"
    assert raw.frame["b"].isna().sum() == 10
    assert str(raw.frame["a"].dtype) == "string"


def test_read_quoted_fields_with_delimiters_and_newlines(tmp_path):
    rows = ["name;note", *[f'"a;{i}";"line one\nline two"' for i in range(10)]]
    raw = read_table(write_text(tmp_path, "\n".join(rows) + "\n"))
    assert raw.source.delimiter == ";"
    assert raw.frame["name"].iloc[3] == "a;3"
    assert raw.frame["note"].iloc[0] == "line one\nline two"


def test_read_crlf_line_endings(tmp_path):
    raw = read_table(write_text(tmp_path, table_text().replace("\n", "\r\n")))
    assert raw.frame["site"].iloc[0] == "s0"
    assert raw.frame.shape == (12, 3)


def test_read_single_column(tmp_path):
    raw = read_table(write_text(tmp_path, "Hb\n" + "".join(f"{i}.5\n" for i in range(10))))
    assert list(raw.frame.columns) == ["Hb"]
    assert len(raw.frame) == 10


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("cp1252", "Hélène Müller"), ("cp1256", "سارة"), ("cp1251", "Ольга Иванова")],
)
def test_read_windows_code_page(tmp_path, encoding, name):
    rows = ["patient,city"] + [
        f"{name} {i},Straße" if encoding == "cp1252" else f"{name},{i}" for i in range(10)
    ]
    raw = read_table(write_text(tmp_path, "\n".join(rows) + "\n", encoding))
    assert raw.source.encoding == encoding
    assert raw.frame["patient"].iloc[0].startswith(name)


def test_read_mostly_utf8_with_stray_byte(tmp_path):
    text = "name,city\n" + "".join(f"Zoë {i},Zürich\n" for i in range(12))
    data = text.encode("utf-8").replace(b"Z\xc3\xbcrich\n", b"Z\xfcrich\n", 1)
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    raw = read_table(path)
    assert raw.source.encoding == "utf-8"
    assert raw.frame["city"].iloc[0] == "Z\ufffdrich"
    assert raw.frame["city"].iloc[1] == "Zürich"
    assert any("1 invalid UTF-8 byte sequence" in note for note in raw.source.notes)


def test_read_bom_with_invalid_utf8(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(codecs.BOM_UTF8 + table_text().encode() + b"x\xff,1,2\n")
    raw = read_table(path)
    assert raw.source.encoding == "utf-8-sig"
    assert raw.frame["Hb"].iloc[-1] == "x\ufffd"


def test_read_utf16_with_bom(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + table_text("\t").encode("utf-16-le"))
    raw = read_table(path)
    assert raw.source.encoding == "utf-16"
    assert list(raw.frame.columns) == ["Hb", "ESR", "site"]


def test_read_source_info(tmp_path):
    path = write_text(tmp_path, table_text())
    raw = read_table(path, display_name="upload.csv")
    info = raw.source.to_dict()
    assert info["name"] == "upload.csv"
    assert info["format"] == "csv"
    assert info["size_bytes"] == path.stat().st_size
    assert len(info["sha256"]) == 64
    assert info["encoding"] == "utf-8"
    json.dumps(info)


def test_read_decimal_comma_only_without_comma_delimiter(tmp_path):
    text = "a;b\n" + "".join(f"{i},5;{i}\n" for i in range(10))
    assert read_table(write_text(tmp_path, text)).source.decimal == ","
    assert read_table(write_text(tmp_path, table_text(";"))).source.decimal == "."


def test_read_excel_sep_line(tmp_path):
    raw = read_table(write_text(tmp_path, "sep=;\n" + table_text(";")))
    assert raw.source.delimiter == ";"
    assert list(raw.frame.columns) == ["Hb", "ESR", "site"]
    assert any("sep=;" in note for note in raw.source.notes)


def test_read_sep_line_keeps_line_numbers(tmp_path):
    lines = table_text(";").splitlines()
    lines[4] = "1;2"
    with pytest.raises(InputError, match="line 6 has 2 fields"):
        read_table(write_text(tmp_path, "sep=;\n" + "\n".join(lines)))


def test_read_whole_row_quoted_semicolons(tmp_path):
    lines = [f'"{line}"' for line in table_text(";").splitlines()]
    raw = read_table(write_text(tmp_path, "\n".join(lines)))
    assert list(raw.frame.columns) == ["Hb", "ESR", "site"]
    assert raw.source.delimiter == ";"
    assert raw.frame["site"].iloc[1] == "s1"


def test_read_quoted_single_column_not_split(tmp_path):
    text = '"Hb"\n' + "".join(f'"{i}.5"\n' for i in range(10))
    raw = read_table(write_text(tmp_path, text))
    assert list(raw.frame.columns) == ["Hb"]
    assert raw.source.notes == []


def test_read_title_lines_skipped(tmp_path):
    text = "Lab results export\nPrinted 2024-03-01\n\n" + table_text(";")
    raw = read_table(write_text(tmp_path, text))
    assert list(raw.frame.columns) == ["Hb", "ESR", "site"]
    assert raw.source.delimiter == ";"
    assert any("'Lab results export'" in note for note in raw.source.notes)


def test_read_title_lines_keep_line_numbers(tmp_path):
    lines = table_text().splitlines()
    lines[3] = "1,2"
    with pytest.raises(InputError, match="line 5 has 2 fields"):
        read_table(write_text(tmp_path, "Lab results export\n" + "\n".join(lines)))


def test_read_blank_lines_skipped(tmp_path):
    text = table_text().replace("\n", "\n\n", 3) + ",,\n"
    raw = read_table(write_text(tmp_path, text))
    assert len(raw.frame) == 12


def test_read_unnamed_empty_column_dropped_with_note(tmp_path):
    text = table_text().replace("\n", ",\n")
    raw = read_table(write_text(tmp_path, text))
    assert list(raw.frame.columns) == ["Hb", "ESR", "site"]
    assert any("Unnamed column(s) 4" in note for note in raw.source.notes)


def test_read_unnamed_column_with_values_rejected(tmp_path):
    text = ",a\n" + "".join(f"{i},{i}\n" for i in range(10))
    with pytest.raises(InputError, match="column 1 has no name"):
        read_table(write_text(tmp_path, text))


def test_read_short_row_rejected(tmp_path):
    lines = table_text().splitlines()
    lines[7] = "10.5,20"
    with pytest.raises(InputError, match="line 8 has 2 fields but the header has 3"):
        read_table(write_text(tmp_path, "\n".join(lines)))


def test_read_missing_file(tmp_path):
    with pytest.raises(InputError, match="was not found"):
        read_table(tmp_path / "absent.csv")


def test_read_directory_rejected(tmp_path):
    with pytest.raises(InputError, match="not a file"):
        read_table(tmp_path)


def test_read_empty_file(tmp_path):
    with pytest.raises(InputError, match="is empty"):
        read_table(write_text(tmp_path, ""))


def test_read_old_excel_rejected(tmp_path):
    with pytest.raises(InputError, match=r"\.xls"):
        read_table(write_text(tmp_path, "\xd0\xcf junk", "latin-1", "old.xls"))


def test_read_file_size_limit_before_reading(tmp_path, monkeypatch):
    path = write_text(tmp_path, table_text())
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("file was read"))
    with pytest.raises(LimitError, match="maximum of 100 bytes"):
        read_table(path, limits=Limits(max_file_bytes=100))


def test_read_row_limit(tmp_path):
    with pytest.raises(LimitError, match="maximum of 11 data rows"):
        read_table(write_text(tmp_path, table_text()), limits=Limits(max_rows=11, min_rows=1))


def test_read_column_limit(tmp_path):
    with pytest.raises(LimitError, match="3 columns, more than the maximum of 2"):
        read_table(write_text(tmp_path, table_text()), limits=Limits(max_columns=2))


def test_read_min_rows_configurable(tmp_path):
    path = write_text(tmp_path, table_text(rows=3))
    assert len(read_table(path, limits=SMALL).frame) == 3
    with pytest.raises(InputError, match="minimum of 10"):
        read_table(path)


def test_default_limits_documented_values():
    assert DEFAULT_LIMITS.max_file_bytes == 100 * 1024 * 1024
    assert DEFAULT_LIMITS.min_rows == 10
    with pytest.raises(AttributeError):
        DEFAULT_LIMITS.min_rows = 3  # type: ignore[misc]


def test_read_old_excel_by_content(tmp_path):
    path = tmp_path / "upload.bin"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(InputError, match=r"old Excel \(\.xls\)"):
        read_table(path)


def test_read_short_arabic_words_cp1256(tmp_path):
    words = ["من", "في", "هو", "لا"]
    text = "word,n\n" + "".join(f"{words[i % 4]},{i}\n" for i in range(12))
    raw = read_table(write_text(tmp_path, text, "cp1256"))
    assert raw.source.encoding == "cp1256"
    assert raw.frame["word"].tolist()[:4] == words


@pytest.mark.parametrize("field", ["max_file_bytes", "max_rows", "min_rows", "max_categories"])
@pytest.mark.parametrize("value", [0, -5, 2.5, "10", True])
def test_limits_invalid_values_rejected(field, value):
    with pytest.raises(ConfigError, match=field):
        Limits(**{field: value})


def test_read_binary_with_csv_name_rejected(tmp_path):
    path = tmp_path / "image.csv"
    path.write_bytes(bytes(range(1, 32)) * 50)
    with pytest.raises(InputError, match="not a readable table"):
        read_table(path)


def write_xlsx(path: Path, rows: list[list], sheets: int = 1) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    for row in rows:
        sheet.append(row)
    for index in range(1, sheets):
        workbook.create_sheet(f"Other{index}").append(["x"])
    workbook.save(path)
    return path


def xlsx_rows() -> list[list]:
    rows: list[list] = [["Hb", "ward", "visit", "smoker", "visits"]]
    for i in range(12):
        rows.append([11.5 + i / 10, f"00{i % 3}", dt.datetime(2024, 1, i + 1), i % 2 == 0, i % 4])
    return rows


def test_read_xlsx_cells_as_text(tmp_path):
    raw = read_table(write_xlsx(tmp_path / "t.xlsx", xlsx_rows()))
    assert raw.source.format == "xlsx"
    assert raw.source.encoding is None
    assert raw.frame.shape == (12, 5)
    assert raw.frame["Hb"].iloc[0] == "11.5"
    assert raw.frame["ward"].iloc[1] == "001"
    assert raw.frame["visit"].iloc[0] == "2024-01-01"
    assert raw.frame["smoker"].iloc[0] == "TRUE"
    assert raw.frame["visits"].iloc[3] == "3"


def test_read_xlsx_title_rows_skipped(tmp_path):
    rows = [["Lab results export"], [], ["Printed 2024-03-01"], *xlsx_rows()]
    raw = read_table(write_xlsx(tmp_path / "t.xlsx", rows))
    assert list(raw.frame.columns) == ["Hb", "ward", "visit", "smoker", "visits"]
    assert len(raw.frame) == 12
    assert any("'Lab results export'" in note for note in raw.source.notes)


def test_read_xlsx_single_column(tmp_path):
    rows = [["Hb"]] + [[11.5 + i] for i in range(12)]
    raw = read_table(write_xlsx(tmp_path / "t.xlsx", rows))
    assert list(raw.frame.columns) == ["Hb"]
    assert len(raw.frame) == 12


def test_read_xlsx_error_row_number_counts_from_top(tmp_path):
    rows = [[], ["a", "b"]] + [[i, i] for i in range(12)]
    rows[5] = [1, 2, "stray"]
    with pytest.raises(InputError, match="row 6 has a value"):
        read_table(write_xlsx(tmp_path / "t.xlsx", rows))


def test_read_xlsx_other_sheets_noted(tmp_path):
    raw = read_table(write_xlsx(tmp_path / "t.xlsx", xlsx_rows(), sheets=3))
    assert any("3 worksheets" in note and "'Data'" in note for note in raw.source.notes)


def test_read_xlsx_duplicate_header(tmp_path):
    rows = [["a", "a"]] + [[i, i] for i in range(12)]
    with pytest.raises(InputError, match="columns 1 and 2"):
        read_table(write_xlsx(tmp_path / "t.xlsx", rows))


def test_read_xlsx_row_limit(tmp_path):
    with pytest.raises(LimitError, match="maximum of 5"):
        read_table(write_xlsx(tmp_path / "t.xlsx", xlsx_rows()), limits=Limits(max_rows=5))


def test_read_xlsx_value_without_header(tmp_path):
    rows = [["a", "b"]] + [[i, i] for i in range(12)]
    rows[4] = [1, 2, "stray"]
    with pytest.raises(InputError, match="row 5 has a value"):
        read_table(write_xlsx(tmp_path / "t.xlsx", rows))


def test_read_corrupt_xlsx(tmp_path):
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    with pytest.raises(InputError, match="not a readable table"):
        read_table(path)


def test_read_parquet_keeps_types(tmp_path):
    frame = pd.DataFrame(
        {"Hb": [11.5 + i / 10 for i in range(12)], "ESR": list(range(12)), "ok": [True] * 12}
    )
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    raw = read_table(path)
    assert isinstance(raw, RawTable)
    assert raw.source.format == "parquet"
    assert str(raw.frame["ESR"].dtype) == "int64"
    assert raw.frame["Hb"].iloc[1] == pytest.approx(11.6)


def test_read_parquet_limits_from_metadata(tmp_path, monkeypatch):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": list(range(50)), "b": list(range(50))}), path)
    monkeypatch.setattr(pq.ParquetFile, "read", lambda self: pytest.fail("data was loaded"))
    with pytest.raises(LimitError, match="50 data rows"):
        read_table(path, limits=Limits(max_rows=20))
    with pytest.raises(LimitError, match="2 columns"):
        read_table(path, limits=Limits(max_columns=1))


def test_read_corrupt_parquet(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1" + b"\x01" * 100)
    with pytest.raises(InputError, match="not a readable table"):
        read_table(path)


def test_read_xlsx_types_inferred(tmp_path):
    from synthcare.schema import ColumnKind, infer_schema

    table, schema = infer_schema(read_table(write_xlsx(tmp_path / "t.xlsx", xlsx_rows())))
    assert schema["Hb"].kind == ColumnKind.NUMERICAL
    assert schema["ward"].kind == ColumnKind.CATEGORICAL
    assert schema["visit"].datetime_format == "%Y-%m-%d"
    assert schema["smoker"].kind == ColumnKind.BOOLEAN
    assert schema["visits"].dtype == "int64"
    assert table["visit"].iloc[2] == pd.Timestamp(2024, 1, 3)


def test_limit_error_is_input_error():
    assert issubclass(LimitError, InputError)


def test_read_xlsx_damaged_sheet(tmp_path):
    import zipfile

    good = write_xlsx(tmp_path / "good.xlsx", xlsx_rows())
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) // 2]
            target.writestr(item, content)
    with pytest.raises(InputError, match="not a readable table"):
        read_table(damaged)


def test_read_parquet_huge_integers_as_float(tmp_path):
    from synthcare.schema import infer_schema

    path = tmp_path / "t.parquet"
    values = pa.array([2**63 + 5, 1, 7] * 4, pa.uint64())
    pq.write_table(pa.table({"big": values, "small": pa.array([1, 2, 3] * 4)}), path)
    table, schema = infer_schema(read_table(path))
    assert schema["big"].dtype == "float64"
    assert schema["small"].dtype == "int64"
    assert str(table["small"].dtype) == "Int64"
