"""Reading of input tables: CSV (any common dialect and encoding), Excel .xlsx and Parquet.

``read_table`` does no type guessing for CSV and Excel files: every cell of the returned frame
is a ``str`` with surrounding white space removed, or missing (``pd.NA``) when it was blank.
Parquet columns keep the types stored in the file.
"""

import csv
import hashlib
import io
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from synthcare.encoding import decode_bytes
from synthcare.errors import InputError, LimitError
from synthcare.limits import DEFAULT_LIMITS, Limits

logger = logging.getLogger(__name__)

DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SAMPLE_CHARS = 65536
_SAMPLE_ROWS = 200
# Most title lines (such as "Lab export 2024-03-01") skipped above the header. A title line
# contains no delimiter, and the lines after it must form a table.
_MAX_TITLE_LINES = 5
_XLSX_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"
# Compound document header of old Office files, .xls workbooks among them.
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_COMMA_DECIMAL = re.compile(r"^[+-]?\d+,\d+$")
_DOT_DECIMAL = re.compile(r"^[+-]?\d+\.\d+$")
_SEP_LINE = re.compile(r"^sep=([,;\t|])[ \t]*(?:\r\n|\n|\r)")


@dataclass
class SourceInfo:
    """Origin of a table and the way it was read.

    Attributes:
        name: File name shown to the user (the display name when one was given).
        format: ``csv``, ``xlsx`` or ``parquet``.
        size_bytes: File size in bytes.
        sha256: Hex SHA-256 digest of the file content.
        encoding: Text encoding used to decode a CSV file (a Python codec name such as
            ``utf-8``, ``utf-8-sig`` or ``cp1256``); None for binary formats.
        delimiter: CSV field delimiter; None for binary formats.
        decimal: Decimal mark of numbers in a CSV file (``.`` or ``,``); None for binary
            formats, whose numbers are typed.
        notes: Plain sentences about anything the reader changed or chose on the user's
            behalf (re-split rows, dropped empty columns, the sheet read).
    """

    name: str
    format: str
    size_bytes: int
    sha256: str
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Return the fields as a JSON-serialisable dict."""
        return asdict(self)


@dataclass
class RawTable:
    """A table as read from a file, before type inference."""

    frame: pd.DataFrame
    source: SourceInfo


def read_table(
    path: str | os.PathLike,
    *,
    display_name: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> RawTable:
    """Read a CSV, Excel (.xlsx) or Parquet file into a ``RawTable``.

    The format is taken from the file's first bytes (zip container: xlsx, ``PAR1``: Parquet)
    and otherwise the content is read as CSV. The file is never modified.

    Args:
        path: File to read.
        display_name: Name to use in messages and in ``SourceInfo.name`` (for example the
            original upload name when ``path`` is a temporary copy). Defaults to the file name.
        limits: Size limits to enforce.

    Returns:
        The table and a description of how it was read.

    Raises:
        InputError: The file is missing, not a table, malformed, or has too few rows.
        LimitError: The file, its row count or its column count exceeds ``limits``.
    """
    path = Path(path)
    name = display_name or path.name
    try:
        size = path.stat().st_size
    except FileNotFoundError as err:
        raise InputError(f"{name} was not found. Check the path and try again.") from err
    except OSError as err:
        raise InputError(f"{name} could not be opened: {err.strerror}.") from err
    if not path.is_file():
        raise InputError(f"{name} is not a file. Give the path of a CSV, .xlsx or .parquet file.")
    if size > limits.max_file_bytes:
        raise LimitError(
            f"{name} is {size:,} bytes, more than the maximum of {limits.max_file_bytes:,} "
            "bytes. Upload a smaller extract of the table."
        )
    if size == 0:
        raise InputError(f"{name} is empty. Upload a file with a header row and data rows.")

    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as err:
        raise InputError(f"{name} could not be opened: {err.strerror}.") from err

    if head.startswith(_XLSX_MAGIC):
        from synthcare.spreadsheets import read_xlsx

        frame, notes = read_xlsx(path, name, limits)
        source = SourceInfo(name, "xlsx", size, _sha256_file(path), notes=notes)
    elif head.startswith(_PARQUET_MAGIC):
        from synthcare.spreadsheets import read_parquet

        frame, notes = read_parquet(path, name, limits)
        source = SourceInfo(name, "parquet", size, _sha256_file(path), notes=notes)
    else:
        if head.startswith(_OLE2_MAGIC) or Path(name).suffix.lower() == ".xls":
            raise InputError(
                f"{name} is an old Excel (.xls) workbook, which is not supported. "
                "Save it as .xlsx or CSV and upload it again."
            )
        try:
            data = path.read_bytes()
        except OSError as err:
            raise InputError(f"{name} could not be read: {err.strerror}.") from err
        frame, source = _read_csv_bytes(data, name, limits)

    check_row_count(len(frame), name, limits)
    logger.info(
        "read %s: %d rows, %d columns, format %s", name, len(frame), frame.shape[1], source.format
    )
    return RawTable(frame=frame, source=source)


def check_row_count(rows: int, name: str, limits: Limits) -> None:
    """Raise ``InputError`` when a table has no data rows or fewer than ``limits.min_rows``."""
    if rows == 0:
        raise InputError(
            f"{name} has no data rows: only a header was found. Add data rows below the header."
        )
    if rows < limits.min_rows:
        raise InputError(
            f"{name} has {rows} data row{'s' if rows != 1 else ''}, fewer than the minimum of "
            f"{limits.min_rows}: the evaluation holds out part of the rows and compares "
            "distributions with a KS test, which needs enough rows on each side. "
            "Add more rows."
        )


def check_column_count(columns: int, name: str, limits: Limits) -> None:
    """Raise ``LimitError`` when a table has more than ``limits.max_columns`` columns."""
    if columns > limits.max_columns:
        raise LimitError(
            f"{name} has {columns:,} columns, more than the maximum of "
            f"{limits.max_columns:,}. Remove the columns that are not needed."
        )


def check_header(names: list[str], name: str, limits: Limits) -> None:
    """Check column names: count, duplicates and empty names.

    Raises:
        LimitError: More columns than ``limits.max_columns``.
        InputError: A name is empty or used more than once; the message lists them with
            their 1-based column positions.
    """
    check_column_count(len(names), name, limits)
    positions: dict[str, list[int]] = {}
    for position, column in enumerate(names, start=1):
        positions.setdefault(column, []).append(position)

    problems = []
    for column, where in positions.items():
        if column and len(where) > 1:
            joined = " and ".join(str(p) for p in where)
            problems.append(f"the column name {column!r} is used more than once (columns {joined})")
    if "" in positions:
        joined = ", ".join(str(p) for p in positions[""])
        plural = "s" if len(positions[""]) > 1 else ""
        problems.append(f"column{plural} {joined} {'have' if plural else 'has'} no name")
    if problems:
        raise InputError(
            f"{name} has an invalid header: {'; '.join(problems)}. "
            "Give every column a unique, non-empty name and upload the file again."
        )


def _read_csv_bytes(data: bytes, name: str, limits: Limits) -> tuple[pd.DataFrame, SourceInfo]:
    text, encoding, replaced = decode_bytes(data, name)
    notes: list[str] = []
    if encoding not in ("utf-8", "utf-8-sig"):
        notes.append(f"The file is not UTF-8; it was decoded as {encoding}.")
    if replaced:
        notes.append(
            f"{replaced} invalid UTF-8 byte sequence(s) were replaced with the character U+FFFD."
        )

    text, delimiter, skipped_lines = _resolve_layout(text, notes)
    frame = _parse_csv(text, delimiter, name, limits, notes, skipped_lines)
    decimal = _detect_decimal(frame, delimiter)
    if decimal == ",":
        notes.append("Numbers use a decimal comma.")
    source = SourceInfo(
        name=name,
        format="csv",
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=encoding,
        delimiter=delimiter,
        decimal=decimal,
        notes=notes,
    )
    return frame, source


def _resolve_layout(text: str, notes: list[str]) -> tuple[str, str, int]:
    """Find the delimiter and where the header starts.

    Handles, in order: an Excel ``sep=`` line, title lines above the header, and files where
    every line is one quoted string.

    Returns:
        The text to parse (from the header on), the delimiter, and the count of file lines
        before that text, so that reported line numbers match the file.
    """
    hint = _SEP_LINE.match(text)
    if hint:
        # Excel writes "sep=;" as the first line to name the delimiter of the lines below.
        delimiter = hint.group(1)
        notes.append(f"The first line 'sep={delimiter}' named the delimiter and was skipped.")
        return text[hint.end() :], delimiter, 1

    delimiter, columns = _detect_delimiter(text)
    if columns >= 2:
        return text, delimiter, 0

    if _every_line_quoted(text):
        inner = _unquote_lines(text)
        inner_delimiter, inner_columns = _detect_delimiter(inner)
        if inner_columns >= 2:
            notes.append(
                "Every line was one quoted string; the lines were unquoted and split into "
                f"columns at each {_DELIMITER_NAMES[inner_delimiter]}."
            )
            return inner, inner_delimiter, 0

    for skip in range(1, _MAX_TITLE_LINES + 1):
        lines = text.splitlines(keepends=True)[:skip]
        if len(lines) < skip or any('"' in line for line in lines):
            break
        rest = text[sum(len(line) for line in lines) :]
        rest_delimiter, rest_columns = _detect_delimiter(rest)
        titles = [line.strip() for line in lines]
        if rest_columns >= 2 and all(rest_delimiter not in title for title in titles):
            quoted_titles = "; ".join(repr(title) for title in titles if title)
            notes.append(
                f"{skip} line(s) above the header were skipped as titles: {quoted_titles}."
            )
            return rest, rest_delimiter, skip
    return text, delimiter, 0


def _sample_rows(text: str, delimiter: str) -> list[list[str]]:
    sample = text[:_SAMPLE_CHARS]
    if len(text) > _SAMPLE_CHARS:
        cut = max(sample.rfind("\n"), sample.rfind("\r"))
        if cut > 0:
            sample = sample[:cut]
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, skipinitialspace=True)
    rows: list[list[str]] = []
    try:
        for row in reader:
            if row:
                rows.append(row)
            if len(rows) >= _SAMPLE_ROWS:
                break
    except csv.Error:
        # A quoted field cut by the sample boundary; the rows before it are enough.
        pass
    return rows


def _detect_delimiter(text: str) -> tuple[str, int]:
    """Return the delimiter that splits the sample most consistently, and the column count.

    A delimiter qualifies when it splits the header into at least two fields. The winner is the
    one whose rows most often have the header's field count, then the one with more columns.
    Returns ``(",", 1)`` when none qualifies, because the table then has one column.
    """
    best: tuple[float, int, str] | None = None
    for delimiter in DELIMITERS:
        rows = _sample_rows(text, delimiter)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        data_rows = rows[1:] or rows
        consistency = sum(1 for row in data_rows if len(row) == width) / len(data_rows)
        candidate = (consistency, width, delimiter)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is None:
        return ",", 1
    return best[2], best[1]


def _every_line_quoted(text: str) -> bool:
    lines = [line.strip() for line in text[:_SAMPLE_CHARS].splitlines() if line.strip()]
    if not lines:
        return False
    return all(len(line) >= 2 and line[0] == '"' and line[-1] == '"' for line in lines)


def _unquote_lines(text: str) -> str:
    """Return the content of each one-field line, or ``text`` unchanged if any line has more."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=",", quotechar='"')
    lines = []
    try:
        for row in reader:
            if len(row) > 1:
                return text
            lines.append(row[0] if row else "")
    except csv.Error:
        return text
    return "\n".join(lines)


def _parse_csv(
    text: str, delimiter: str, name: str, limits: Limits, notes: list[str], line_offset: int = 0
) -> pd.DataFrame:
    """Parse CSV text into a string frame; ``line_offset`` lines precede ``text`` in the file."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    rows = _checked_rows(reader, name)
    try:
        header = next(rows)
    except StopIteration:
        raise InputError(f"{name} contains no header and no data rows.") from None

    names = [cell.strip() for cell in header]
    width = len(names)
    check_column_count(width, name, limits)

    columns: list[list[str | None]] = [[] for _ in range(width)]
    count = 0
    skipped = 0
    for row in rows:
        if len(row) != width:
            if not any(cell.strip() for cell in row):
                skipped += 1
                continue
            line = reader.line_num + line_offset
            raise InputError(
                f"{name}: line {line} has {len(row)} fields but the header has {width}. "
                f"Fix that line (a stray {_DELIMITER_NAMES[delimiter]} or a missing field) "
                "and upload the file again."
            )
        cells = [cell.strip() or None for cell in row]
        if all(cell is None for cell in cells):
            skipped += 1
            continue
        count += 1
        if count > limits.max_rows:
            raise LimitError(
                f"{name} has more than the maximum of {limits.max_rows:,} data rows. "
                "Upload a smaller extract of the table."
            )
        for column, cell in zip(columns, cells, strict=True):
            column.append(cell)

    if skipped:
        notes.append(f"{skipped} blank line{'s' if skipped > 1 else ''} skipped.")
    return _frame_from_columns(names, columns, name, limits, notes)


def _checked_rows(reader: Iterable[list[str]], name: str) -> Iterator[list[str]]:
    iterator = iter(reader)
    while True:
        try:
            row = next(iterator)
        except StopIteration:
            return
        except csv.Error as err:
            line = getattr(reader, "line_num", "?")
            raise InputError(
                f"{name}: line {line} could not be parsed as CSV ({err}). "
                "Check the quotes on that line."
            ) from err
        if row:
            yield row


def _frame_from_columns(
    names: list[str],
    columns: list[list[str | None]],
    name: str,
    limits: Limits,
    notes: list[str],
) -> pd.DataFrame:
    """Build the string frame; unnamed columns without any value are dropped with a note."""
    kept_names: list[str] = []
    kept_columns: list[list[str | None]] = []
    dropped: list[int] = []
    for position, (column_name, values) in enumerate(zip(names, columns, strict=True), start=1):
        if not column_name and all(value is None for value in values):
            dropped.append(position)
            continue
        kept_names.append(column_name)
        kept_columns.append(values)
    check_header(kept_names, name, limits)
    if dropped:
        joined = ", ".join(str(p) for p in dropped)
        notes.append(f"Unnamed column(s) {joined} had no values and were dropped.")

    data = {
        column_name: pd.array(values, dtype="string")
        for column_name, values in zip(kept_names, kept_columns, strict=True)
    }
    return pd.DataFrame(data, columns=kept_names)


def _detect_decimal(frame: pd.DataFrame, delimiter: str) -> str:
    """Return ``,`` when numbers in the sample use a decimal comma, else ``.``.

    Only a file not delimited by commas can carry unquoted decimal commas, so a comma-delimited
    file is always read with ``.``.
    """
    if delimiter == "," or frame.empty:
        return "."
    sample = frame.head(_SAMPLE_ROWS)
    comma = dot = 0
    for column in sample.columns:
        values = sample[column].dropna()
        comma += int(values.str.match(_COMMA_DECIMAL).sum())
        dot += int(values.str.match(_DOT_DECIMAL).sum())
    return "," if comma > dot else "."


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
