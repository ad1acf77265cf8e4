"""Casting of synthesizer output, or a table read back from CSV, to a schema's dtypes."""

import pandas as pd

from synthcare import tokens
from synthcare.errors import InputError
from synthcare.schema import ColumnKind, ColumnSchema, Schema


def to_naive_datetimes(values: pd.Series) -> pd.Series:
    """Return datetimes as ``datetime64[ns]``, converting time-zone aware values to UTC."""
    if getattr(values.dtype, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.astype("datetime64[ns]")


def constant_values(column: ColumnSchema, length: int) -> pd.Series:
    """Return ``length`` copies of a constant column's value in the column's dtype."""
    return cast_values(pd.Series([column.constant_value] * length), column)


def cast_values(values: pd.Series, column: ColumnSchema) -> pd.Series:
    """Cast values to a column's dtype; ``InputError`` names the first value that fails."""
    values = values.reset_index(drop=True)
    dtype = column.dtype
    if dtype in ("int64", "float64"):
        numbers = _to_float(values, column)
        if dtype == "float64":
            return numbers
        if (numbers.abs() >= 2**63).any():
            bad = values[numbers.abs() >= 2**63].iloc[0]
            raise InputError(f"Column {column.name!r}: {bad!r} is too large for an integer.")
        return numbers.round().astype("Int64")
    if dtype == "boolean":
        return _to_boolean(values, column)
    if dtype == "datetime":
        return _to_datetime(values, column)
    return tokens.normalise_text(values, keep_words=True).astype("string")


def _to_float(values: pd.Series, column: ColumnSchema) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("float64")
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.astype("Float64").astype("float64")
    text = tokens.normalise_text(values)
    numbers = pd.Series(
        pd.to_numeric(text.astype(object), errors="coerce"), index=values.index, dtype="float64"
    )
    _check_converted(text, numbers, column)
    return numbers


def _to_boolean(values: pd.Series, column: ColumnSchema) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.astype("float64")
        result = pd.Series(pd.NA, index=values.index, dtype="boolean")
        present = numbers.notna()
        result[present] = numbers[present] >= 0.5
        return result
    text = values.astype("string")
    if tokens.normalise_text(text).isna().all():
        return pd.Series(pd.NA, index=values.index, dtype="boolean")
    parsed = tokens.parse_booleans(text, allow_digits=True)
    if parsed is None:
        allowed = tokens.TRUE_WORDS | tokens.FALSE_WORDS | {"1", "0", "1.0", "0.0"}
        present = tokens.normalise_text(text).dropna()
        bad = present[~present.str.lower().isin(allowed).fillna(False).astype(bool)]
        raise InputError(
            f"Column {column.name!r}: {bad.iloc[0]!r} is not a boolean value (true/false)."
        )
    return parsed


def _to_datetime(values: pd.Series, column: ColumnSchema) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return to_naive_datetimes(values)
    if pd.api.types.is_numeric_dtype(values.dtype):
        # Synthesizers that work on epoch nanoseconds return numbers for datetime columns.
        return pd.to_datetime(values.astype("float64"), unit="ns", errors="coerce").astype(
            "datetime64[ns]"
        )
    text = tokens.normalise_text(values).astype(object)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if column.datetime_format:
        parsed = pd.to_datetime(text, format=column.datetime_format, errors="coerce")
        parsed = parsed.astype("datetime64[ns]")
    if (parsed.isna() & text.notna()).any():
        # Text written by other tools is often ISO 8601; offsets are converted to naive UTC.
        iso = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
        parsed = parsed.fillna(iso.dt.tz_convert(None).astype("datetime64[ns]"))
    _check_converted(text, parsed, column)
    return parsed


def _check_converted(text: pd.Series, converted: pd.Series, column: ColumnSchema) -> None:
    """Raise ``InputError`` for the first non-missing text that gave a missing value."""
    failed = (text.notna() & converted.isna()).to_numpy(dtype=bool)
    if failed.any():
        bad = text[failed].iloc[0]
        raise InputError(
            f"Column {column.name!r}: {bad!r} cannot be converted to {column.dtype}. "
            "Check that the file was written for this schema."
        )


def restore_frame(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Cast a frame to the schema's dtypes; see ``synthcare.schema.restore_dtypes``."""
    restored = {}
    for name in frame.columns:
        if name in schema:
            column = schema[name]
            if column.kind == ColumnKind.IDENTIFIER:
                restored[name] = frame[name].reset_index(drop=True).astype("string")
            else:
                restored[name] = cast_values(frame[name], column)
        else:
            restored[name] = frame[name].reset_index(drop=True)
    result = pd.DataFrame(restored, index=pd.RangeIndex(len(frame)), columns=frame.columns)
    result.index = frame.index
    return result
