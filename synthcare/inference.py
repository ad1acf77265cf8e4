"""Column type inference: the kind and dtype of every column of a raw table.

Detection order for a column without a metadata override:

1. empty: no non-missing value.
2. identifier by name: a person-name column (``name``, ``patient_name``, ``surname``...) or a
   contact or record column (``mrn``, ``phone``, ``email``, ``ssn``...) unless its values are
   yes/no flags. ``id``, ``patient_id``, ``subject_id``... are identifiers; another ``*_id``
   column (``site_id``) is one when at least half its values are distinct.
3. constant: one distinct value and no missing cell.
4. boolean: only yes/no, y/n, true/false, t/f words (any case), optionally with 1/0.
5. numerical: at least ``NUMERIC_PARSE_THRESHOLD`` of the values are numbers or ``<x``/``>x``
   bounds, and no integer is written with a leading zero (``007`` is a code). Integers stay
   integers. A column named like a row counter (``row``, ``index``, ``no``...) whose values
   are distinct consecutive integers is an identifier.
6. datetime: at least ``DATETIME_PARSE_THRESHOLD`` of the values parse with one format.
7. identifier by value, for columns where fewer than half the values are numbers: e-mail
   addresses, phone numbers, or text where at least 90 % of the values are distinct.
8. categorical: everything else, up to ``Limits.max_categories`` categories.
"""

import logging

import numpy as np
import pandas as pd

from synthcare import tokens
from synthcare.errors import ConfigError, InputError, LimitError
from synthcare.identifiers import identifier_by_value, is_row_number, name_marks_identifier
from synthcare.limits import Limits
from synthcare.metadata import INTEGER_REPRESENTATIONS, metadata_kind, normalise_metadata
from synthcare.reading import RawTable
from synthcare.restore import constant_values, to_naive_datetimes
from synthcare.schema import ColumnKind, ColumnSchema, Schema

logger = logging.getLogger(__name__)


def infer_table(
    raw: RawTable, metadata: dict | None, limits: Limits
) -> tuple[pd.DataFrame, Schema]:
    """Infer the schema and typed table; see ``synthcare.schema.infer_schema``."""
    frame = raw.frame
    duplicated = frame.columns[frame.columns.duplicated()]
    if len(duplicated):
        raise InputError(
            f"{raw.source.name} has the column name {duplicated[0]!r} more than once. "
            "Give every column a unique name."
        )
    overrides: dict[str, dict] = {}
    if metadata is not None:
        normalised = normalise_metadata(metadata)
        overrides = normalised["columns"]
        unknown = [name for name in overrides if name not in frame.columns]
        if unknown:
            raise ConfigError(
                f"The metadata names column {unknown[0]!r}, which is not in "
                f"{raw.source.name}. Valid column names: {', '.join(map(str, frame.columns))}."
            )
        primary_key = normalised.get("primary_key")
        if primary_key is not None:
            overrides[primary_key] = {"sdtype": "id"}

    decimal = raw.source.decimal or "."
    columns: list[ColumnSchema] = []
    typed: dict[str, pd.Series] = {}
    for name in frame.columns:
        column, values = infer_column(
            str(name), frame[name], decimal=decimal, override=overrides.get(name), limits=limits
        )
        columns.append(column)
        if values is not None:
            typed[column.name] = values
        logger.debug("column %r: %s (%s)", column.name, column.kind, column.dtype)

    table = pd.DataFrame(
        typed, index=pd.RangeIndex(len(frame)), columns=pd.Index(list(typed), dtype=object)
    )
    return table, Schema(columns)


def infer_column(
    name: str,
    values: pd.Series,
    *,
    decimal: str = ".",
    override: dict | None = None,
    limits: Limits,
) -> tuple[ColumnSchema, pd.Series | None]:
    """Infer one column's schema and typed values (None for identifiers, which are dropped)."""
    values = values.reset_index(drop=True)
    native = _native_kind(values)
    text = tokens.normalise_text(values) if native is None else None
    missing = (text.isna() if text is not None else values.isna()).astype(bool)
    present_count = int((~missing).sum())

    if override is not None:
        return _apply_override(name, values, native, missing, decimal, override, limits)

    if present_count == 0:
        return _empty(name, values), _empty_values(len(values))

    if name_marks_identifier(name, values, missing):
        return _identifier(name, "its name marks personal or record data"), None

    if native is not None:
        return _infer_native(name, values, native, missing, limits)

    present = text[~missing]
    distinct = int(present.nunique())
    if distinct == 1 and present_count == len(values):
        return _constant(name, str(present.iloc[0]), decimal, len(values))

    booleans = tokens.parse_booleans(text, normalised=True)
    if booleans is not None:
        return _boolean(name, text), booleans

    numbers = tokens.parse_numbers(text, decimal, normalised=True)
    if numbers.parse_rate >= tokens.NUMERIC_PARSE_THRESHOLD and numbers.plain > 0:
        if numbers.leading_zero == 0:
            if numbers.integral and is_row_number(name, numbers.values, missing):
                reason = "its values are distinct consecutive integers (a row number)"
                return _identifier(name, reason), None
            return _numerical(name, numbers)

        # Codes with leading zeros can still be unique numbers such as phone or record numbers.
        reason = identifier_by_value(present, distinct)
        if reason:
            return _identifier(name, reason), None
        notes = [
            f"Kept as text: {numbers.leading_zero} value(s) are integers written with a leading "
            "zero (such as '007'), which marks codes rather than quantities."
        ]
        return _categorical(name, values, limits, notes)

    dates = tokens.parse_datetimes(text, normalised=True)
    if dates is not None:
        column, typed = _datetime(name, *dates)
        twin = tokens.month_first_twin(column.datetime_format)
        twin_dates = tokens.parse_datetimes(text, twin, normalised=True) if twin else None
        if twin_dates is not None and twin_dates[2] == 1:
            column.notes.append(
                f"Every date also fits month first ({twin}); the dates were read day first "
                f"({column.datetime_format}). Set datetime_format in the metadata to change this."
            )
        return column, typed

    # Mostly numeric columns are measurements with stray words, not free text.
    reason = identifier_by_value(present, distinct) if numbers.parse_rate < 0.5 else None
    if reason:
        return _identifier(name, reason), None
    notes = []
    if 0 < numbers.parse_rate < tokens.NUMERIC_PARSE_THRESHOLD:
        notes.append(
            f"Treated as categorical: only {numbers.parse_rate:.0%} of the values are numbers, "
            f"below the {tokens.NUMERIC_PARSE_THRESHOLD:.0%} needed for a numerical column."
        )
    return _categorical(name, values, limits, notes)


def _native_kind(values: pd.Series) -> ColumnKind | None:
    """Return the kind given by a typed (non-text) dtype, as stored in Parquet files."""
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return ColumnKind.BOOLEAN
    if pd.api.types.is_numeric_dtype(dtype):
        return ColumnKind.NUMERICAL
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return ColumnKind.DATETIME
    return None


def _infer_native(
    name: str, values: pd.Series, native: ColumnKind, missing: pd.Series, limits: Limits
) -> tuple[ColumnSchema, pd.Series | None]:
    present = values[~missing]
    distinct = int(present.nunique())
    if distinct == 1 and not missing.any():
        value = present.iloc[0]
        if native == ColumnKind.DATETIME:
            return ColumnSchema(
                name,
                ColumnKind.CONSTANT,
                "datetime",
                constant_value=pd.Timestamp(value).isoformat(),
            ), to_naive_datetimes(values)
        return _constant_from_value(
            name, value.item() if hasattr(value, "item") else value, len(values)
        )
    if native == ColumnKind.BOOLEAN:
        return ColumnSchema(name, ColumnKind.BOOLEAN, "boolean"), values.astype("boolean")
    if native == ColumnKind.DATETIME:
        converted = to_naive_datetimes(values)
        column = ColumnSchema(name, ColumnKind.DATETIME, "datetime", parse_rate=1.0)
        if getattr(values.dtype, "tz", None) is not None:
            column.notes.append("Time-zone aware values were converted to UTC.")
        return column, converted

    numbers = values.astype("float64")
    # Integers beyond 2**53 lose precision as float64 and may not fit Int64, so they stay floats.
    fits = ((numbers.abs() < 2**53) | numbers.isna()).all()
    integer = pd.api.types.is_integer_dtype(values.dtype) and bool(fits)
    if integer and is_row_number(name, numbers, missing):
        reason = "its values are distinct consecutive integers (a row number)"
        return _identifier(name, reason), None
    column = ColumnSchema(
        name, ColumnKind.NUMERICAL, "int64" if integer else "float64", parse_rate=1.0
    )
    if integer:
        return column, numbers.round().astype("Int64")
    return column, numbers


def _apply_override(
    name: str,
    values: pd.Series,
    native: ColumnKind | None,
    missing: pd.Series,
    decimal: str,
    override: dict,
    limits: Limits,
) -> tuple[ColumnSchema, pd.Series | None]:
    kind = metadata_kind(override)
    sdtype = override["sdtype"]
    if kind == "identifier":
        return _identifier(name, f"the metadata sets sdtype {sdtype!r}"), None

    present_count = int((~missing).sum())
    if present_count == 0:
        column = _empty(name, values)
        column.notes.append(f"The metadata sdtype {sdtype!r} was not applied: no values.")
        return column, _empty_values(len(values))

    text = values.astype("string") if native is not None else values
    present = tokens.normalise_text(text)[~missing]
    if present.nunique() == 1 and present_count == len(values):
        column, typed = _constant(name, str(present.iloc[0]), decimal, len(values))
        column.notes.append(f"The metadata sdtype {sdtype!r} was not applied: one value only.")
        return column, typed

    note = f"Kind set by the metadata (sdtype {sdtype!r})."
    if kind == "numerical":
        if native == ColumnKind.NUMERICAL:
            numbers = tokens.NumericParse(
                values=values.astype("float64"),
                plain=present_count,
                bounds=0,
                other=0,
                non_missing=present_count,
                integral=pd.api.types.is_integer_dtype(values.dtype),
                leading_zero=0,
                examples=[],
            )
        else:
            numbers = tokens.parse_numbers(text, decimal)
        if numbers.plain + numbers.bounds == 0:
            raise ConfigError(
                f"The metadata sets column {name!r} to numerical, but none of its values is a "
                f"number (for example {present.iloc[0]!r}). Fix the metadata or the column."
            )
        representation = override.get("computer_representation")
        if representation in INTEGER_REPRESENTATIONS:
            numbers.integral = True
        elif representation == "Float":
            numbers.integral = False
        column, typed = _numerical(name, numbers)
    elif kind == "boolean":
        booleans = tokens.parse_booleans(text, allow_digits=True)
        if booleans is None:
            lowered = present.str.lower()
            allowed = tokens.TRUE_WORDS | tokens.FALSE_WORDS | {"1", "0", "1.0", "0.0"}
            bad = present[~lowered.isin(allowed)].iloc[0]
            raise ConfigError(
                f"The metadata sets column {name!r} to boolean, but {bad!r} is not a boolean "
                "value (yes/no, true/false, 1/0). Fix the metadata or the column."
            )
        column, typed = _boolean(name, tokens.normalise_text(text)), booleans
    elif kind == "datetime":
        if native == ColumnKind.DATETIME:
            column = ColumnSchema(name, ColumnKind.DATETIME, "datetime", parse_rate=1.0)
            typed = to_naive_datetimes(values)
        else:
            fmt = override.get("datetime_format")
            dates = tokens.parse_datetimes(text, fmt)
            if dates is None or dates[2] == 0:
                hint = f"with format {fmt!r}" if fmt else "as a date"
                raise ConfigError(
                    f"The metadata sets column {name!r} to datetime, but its values do not "
                    f"parse {hint} (for example {present.iloc[0]!r}). Fix the metadata "
                    "'datetime_format' or the column."
                )
            column, typed = _datetime(name, *dates)
    else:
        column, typed = _categorical(name, text, limits, [])
    column.notes.insert(0, note)
    return column, typed


def _identifier(name: str, reason: str) -> ColumnSchema:
    return ColumnSchema(
        name,
        ColumnKind.IDENTIFIER,
        "string",
        notes=[f"Identifier, because {reason}: dropped before modelling, never copied."],
    )


def _boolean(name: str, text: pd.Series) -> ColumnSchema:
    """Return the schema of a boolean column read from normalised text."""
    true_token, false_token = tokens.boolean_tokens(text, normalised=True)
    return ColumnSchema(
        name, ColumnKind.BOOLEAN, "boolean", true_token=true_token, false_token=false_token
    )


def _empty(name: str, values: pd.Series) -> ColumnSchema:
    return ColumnSchema(
        name, ColumnKind.EMPTY, "string", notes=["No values: not modelled, left empty."]
    )


def _empty_values(length: int) -> pd.Series:
    return pd.Series(pd.NA, index=pd.RangeIndex(length), dtype="string")


def _constant(name: str, text: str, decimal: str, length: int) -> tuple[ColumnSchema, pd.Series]:
    single = pd.Series([text], dtype="string")
    booleans = tokens.parse_booleans(single)
    if booleans is not None:
        column, typed = _constant_from_value(name, bool(booleans.iloc[0]), length)
        column.true_token, column.false_token = tokens.boolean_tokens(single)
        return column, typed
    numbers = tokens.parse_numbers(single, decimal)
    if numbers.plain == 1 and numbers.leading_zero == 0:
        value = float(numbers.values.iloc[0])
        return _constant_from_value(name, int(value) if numbers.integral else value, length)
    return _constant_from_value(name, text, length)


def _constant_from_value(name: str, value: object, length: int) -> tuple[ColumnSchema, pd.Series]:
    if isinstance(value, bool | np.bool_):
        dtype, value = "boolean", bool(value)
    elif isinstance(value, int | np.integer):
        dtype, value = "int64", int(value)
    elif isinstance(value, float | np.floating):
        dtype, value = "float64", float(value)
    else:
        dtype, value = "string", str(value)
    column = ColumnSchema(
        name,
        ColumnKind.CONSTANT,
        dtype,
        constant_value=value,
        notes=[f"Constant: every row is {value!r}; copied to the output, not modelled."],
    )
    return column, constant_values(column, length)


def _numerical(name: str, numbers: tokens.NumericParse) -> tuple[ColumnSchema, pd.Series]:
    values = numbers.values
    integral = numbers.integral and bool(((values.abs() < 2**53) | values.isna()).all())
    column = ColumnSchema(
        name,
        ColumnKind.NUMERICAL,
        "int64" if integral else "float64",
        parse_rate=round(numbers.parse_rate, 6),
    )
    if numbers.unit is not None:
        column.notes.append(
            f"The unit {numbers.unit!r} was removed from {numbers.with_unit} value(s)."
        )
    if numbers.bounds or numbers.other:
        column.token_rule = tokens.NUMERIC_TEXT_RULE
        parts = [f"{numbers.plain} of {numbers.non_missing} values are numbers"]
        if numbers.bounds:
            parts.append(f"{numbers.bounds} are '<x'/'>x' bounds read as x")
        if numbers.other:
            examples = ", ".join(repr(example) for example in numbers.examples)
            parts.append(f"{numbers.other} other texts ({examples}) were set to missing")
        column.notes.append("; ".join(parts) + f" (parse rate {numbers.parse_rate:.0%}).")
    if integral:
        rounded = values.round()
        # NaN != NaN, so missing cells are excluded explicitly.
        changed = int(((rounded != values) & values.notna()).sum())
        if changed:
            column.notes.append(f"{changed} non-integer value(s) were rounded to integers.")
        return column, rounded.astype("Int64")
    return column, values


def _datetime(
    name: str, values: pd.Series, fmt: str, rate: float
) -> tuple[ColumnSchema, pd.Series]:
    column = ColumnSchema(
        name, ColumnKind.DATETIME, "datetime", datetime_format=fmt, parse_rate=round(rate, 6)
    )
    if fmt == tokens.ISO_UTC_FORMAT:
        column.notes.append("Timestamps with time-zone offsets were converted to UTC.")
    if rate < 1:
        column.notes.append(f"{1 - rate:.0%} of the values did not match {fmt} and are missing.")
    return column, values


def _categorical(
    name: str, values: pd.Series, limits: Limits, notes: list[str]
) -> tuple[ColumnSchema, pd.Series]:
    typed = tokens.normalise_text(values, keep_words=True).astype("string")
    categories = int(typed.nunique())
    if categories > limits.max_categories:
        raise LimitError(
            f"Column {name!r} has {categories:,} distinct values, more than the maximum of "
            f"{limits.max_categories:,} categories. Group rare values, or mark the column as "
            'an identifier in the metadata ({"sdtype": "id"}).'
        )
    return ColumnSchema(name, ColumnKind.CATEGORICAL, "string", notes=notes), typed
