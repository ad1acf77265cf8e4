"""Reading of binary table formats: Excel .xlsx workbooks (openpyxl) and Parquet (pyarrow)."""

import datetime as dt
import itertools
import logging
import math
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from synthcare.errors import InputError, LimitError, SynthcareError
from synthcare.limits import Limits
from synthcare.reading import check_column_count, check_header

logger = logging.getLogger(__name__)

# Rows with a single value above the header, such as a report title, are skipped; at most this
# many.
_MAX_TITLE_ROWS = 5


def read_xlsx(path: Path, name: str, limits: Limits) -> tuple[pd.DataFrame, list[str]]:
    """Read the first non-empty worksheet of an .xlsx workbook as a frame of strings.

    Cells become text the same way for every type so that type inference treats Excel and CSV
    alike: numbers in Python's shortest round-trip form, dates as ISO 8601 (date only when the
    time is midnight), booleans as ``TRUE``/``FALSE``. Formulas give their cached values.

    Returns:
        The frame and notes about the sheet that was read.

    Raises:
        InputError: The workbook cannot be opened or has no header.
        LimitError: The sheet exceeds the row or column limit.
    """
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as err:
        raise InputError(
            f"{name} is not a readable table: it looks like an Excel workbook but could not be "
            f"opened ({type(err).__name__}). Save it again as .xlsx or CSV."
        ) from err

    notes: list[str] = []
    try:
        sheets = workbook.worksheets
        sheet = next((ws for ws in sheets if _sheet_has_cells(ws)), None)
        if sheet is None:
            raise InputError(f"{name} has no data: every worksheet is empty.")
        if len(sheets) > 1:
            notes.append(
                f"The workbook has {len(sheets)} worksheets; only {sheet.title!r} was read."
            )
        return _read_sheet(sheet, name, limits, notes), notes
    except SynthcareError:
        raise
    except Exception as err:
        # openpyxl parses the sheet XML lazily, so a damaged workbook fails here with whatever
        # the XML parser raises (ParseError, KeyError, ValueError and more).
        raise InputError(
            f"{name} is not a readable table: a worksheet could not be read "
            f"({type(err).__name__}). Save it again as .xlsx or CSV."
        ) from err
    finally:
        workbook.close()


def _sheet_has_cells(sheet) -> bool:
    for row in sheet.iter_rows(values_only=True):
        if any(_cell_text(value) is not None for value in row):
            return True
    return False


def _read_sheet(sheet, name: str, limits: Limits, notes: list[str]) -> pd.DataFrame:
    # The sheet's stored dimension, when present, lets limits be checked before reading rows.
    if sheet.max_row is not None and sheet.max_row > limits.max_rows + 1:
        raise LimitError(
            f"{name} has {sheet.max_row - 1:,} data rows, more than the maximum of "
            f"{limits.max_rows:,}. Upload a smaller extract of the table."
        )
    if sheet.max_column is not None:
        check_column_count(sheet.max_column, name, limits)

    rows = (
        (number, [_cell_text(value) for value in row])
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)
    )
    header, data_rows = _split_header(rows, notes)
    if header is None:
        raise InputError(f"{name} has no header row.")
    while header and header[-1] is None:
        header.pop()
    width = len(header)
    check_column_count(width, name, limits)

    columns: list[list[str | None]] = [[] for _ in range(width)]
    count = 0
    for row_number, cells in data_rows:
        if all(cell is None for cell in cells):
            continue
        extra = [cell for cell in cells[width:] if cell is not None]
        if extra:
            raise InputError(
                f"{name}: sheet {sheet.title!r} row {row_number} has a value ({extra[0]!r}) "
                "to the right of the last named column. Give that column a name or clear it."
            )
        count += 1
        if count > limits.max_rows:
            raise LimitError(
                f"{name} has more than the maximum of {limits.max_rows:,} data rows. "
                "Upload a smaller extract of the table."
            )
        cells = cells[:width] + [None] * (width - len(cells))
        for column, cell in zip(columns, cells, strict=True):
            column.append(cell)

    names = ["" if cell is None else cell for cell in header]
    kept_indexes = [
        i
        for i, column_name in enumerate(names)
        if column_name or any(v is not None for v in columns[i])
    ]
    dropped = [i + 1 for i in range(width) if i not in set(kept_indexes)]
    if dropped:
        notes.append(
            f"Unnamed column(s) {', '.join(map(str, dropped))} had no values and were dropped."
        )
    kept_names = [names[i] for i in kept_indexes]
    check_header(kept_names, name, limits)
    data = {names[i]: pd.array(columns[i], dtype="string") for i in kept_indexes}
    return pd.DataFrame(data, columns=kept_names)


def _split_header(
    rows: Iterator[tuple[int, list[str | None]]], notes: list[str]
) -> tuple[list[str | None] | None, Iterator[tuple[int, list[str | None]]]]:
    """Return the header cells and the rows below it, skipping title rows above the header.

    Rows with a single value (such as a report title) above the first row with two or more
    values are titles, when such a row follows within ``_MAX_TITLE_ROWS`` rows.
    """
    buffered: list[tuple[int, list[str | None]]] = []
    for number, cells in rows:
        filled = sum(cell is not None for cell in cells)
        if filled == 0:
            continue
        buffered.append((number, cells))
        if filled >= 2 or len(buffered) > _MAX_TITLE_ROWS:
            break
    if not buffered:
        return None, iter(())

    header_index = 0
    last_filled = sum(cell is not None for cell in buffered[-1][1])
    if len(buffered) > 1 and last_filled >= 2:
        header_index = len(buffered) - 1
        titles = [str(next(cell for cell in cells if cell)) for _, cells in buffered[:-1]]
        notes.append(
            f"{len(titles)} row(s) above the header were skipped as titles: "
            + "; ".join(repr(title) for title in titles)
            + "."
        )
    header = buffered[header_index][1]
    return header, itertools.chain(buffered[header_index + 1 :], rows)


def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return None
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    text = str(value).strip()
    return text or None


def read_parquet(path: Path, name: str, limits: Limits) -> tuple[pd.DataFrame, list[str]]:
    """Read a Parquet file, checking row and column counts from its metadata before loading.

    Column types stored in the file are kept.

    Raises:
        InputError: The file is not valid Parquet or has invalid column names.
        LimitError: The row or column count exceeds the limits.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet_file = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as err:
        raise InputError(
            f"{name} is not a readable table: the Parquet file could not be opened ({err})."
        ) from err

    metadata = parquet_file.metadata
    check_column_count(metadata.num_columns, name, limits)
    if metadata.num_rows > limits.max_rows:
        raise LimitError(
            f"{name} has {metadata.num_rows:,} data rows, more than the maximum of "
            f"{limits.max_rows:,}. Upload a smaller extract of the table."
        )
    names = [str(column) for column in parquet_file.schema_arrow.names]
    check_header([column.strip() for column in names], name, limits)

    try:
        table = parquet_file.read()
        frame = table.to_pandas()
    except (pa.ArrowException, OSError, ValueError, TypeError) as err:
        raise InputError(
            f"{name} is not a readable table: the Parquet data could not be loaded ({err})."
        ) from err

    # pandas metadata in the file can restore an index; the table's columns are what counts.
    frame = frame.reset_index(drop=True)
    frame.columns = [str(column).strip() for column in frame.columns]
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype("string")
    return frame, []
