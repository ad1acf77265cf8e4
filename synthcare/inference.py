"""Column type inference and dtype restoration.

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
import re

import numpy as np
import pandas as pd

from synthcare import tokens
from synthcare.errors import ConfigError, InputError, LimitError
from synthcare.limits import Limits
from synthcare.metadata import INTEGER_REPRESENTATIONS, metadata_kind, normalise_metadata
from synthcare.reading import RawTable
from synthcare.schema import ColumnKind, ColumnSchema, Schema

logger = logging.getLogger(__name__)

UNIQUE_TEXT_SHARE = 0.9
UNIQUE_TEXT_MIN_VALUES = 10
VALUE_PATTERN_SHARE = 0.9

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s().\-/]{7,}$")
_PHONE_SEPARATOR = re.compile(r"[\s()\-/+.]")
_NAME_SPLIT = re.compile(r"[^0-9a-z]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

PERSON_NAME_WORDS = frozenset(
    {"patient", "full", "first", "last", "given", "family", "middle", "person", "maiden", "sur"}
)
PERSON_NAME_TOKENS = frozenset({"surname", "firstname", "lastname", "fullname", "forename"})
RECORD_TOKENS = frozenset(
    {
        "mrn",
        "ssn",
        "nhs",
        "phone",
        "telephone",
        "tel",
        "mobile",
        "email",
        "mail",
        "fax",
        "passport",
        "address",
        "uuid",
        "guid",
    }
)
ID_TOKENS = frozenset({"id", "identifier", "uid", "pid"})
PERSON_ID_WORDS = frozenset(
    {"patient", "subject", "participant", "person", "case", "record", "study", "visit"}
)
ROW_NUMBER_TOKENS = frozenset({"row", "index", "idx", "no", "nr", "number", "line", "seq"})


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

    if _name_is_identifier(name, values, missing):
        return _identifier(name, "its name marks personal or record data"), None

    if native is not None:
        return _infer_native(name, values, native, missing, limits)

    present = text[~missing]
    distinct = int(present.nunique())
    if distinct == 1 and present_count == len(values):
        return _constant(name, str(present.iloc[0]), decimal, len(values))

    booleans = tokens.parse_booleans(text)
    if booleans is not None:
        return ColumnSchema(name, ColumnKind.BOOLEAN, "boolean"), booleans

    numbers = tokens.parse_numbers(text, decimal)
    if numbers.parse_rate >= tokens.NUMERIC_PARSE_THRESHOLD and numbers.plain > 0:
        if numbers.leading_zero == 0:
            if numbers.integral and _is_row_number(name, numbers.values, missing):
                reason = "its values are distinct consecutive integers (a row number)"
                return _identifier(name, reason), None
            return _numerical(name, numbers)

        # Codes with leading zeros can still be unique numbers such as phone or record numbers.
        reason = _identifier_by_value(present, distinct)
        if reason:
            return _identifier(name, reason), None
        notes = [
            f"Kept as text: {numbers.leading_zero} value(s) are integers written with a leading "
            "zero (such as '007'), which marks codes rather than quantities."
        ]
        return _categorical(name, text, missing, limits, notes)

    dates = tokens.parse_datetimes(text)
    if dates is not None:
        column, typed = _datetime(name, *dates)
        twin = tokens.month_first_twin(column.datetime_format)
        twin_dates = tokens.parse_datetimes(text, twin) if twin else None
        if twin_dates is not None and twin_dates[2] == 1:
            column.notes.append(
                f"Every date also fits month first ({twin}); the dates were read day first "
                f"({column.datetime_format}). Set datetime_format in the metadata to change this."
            )
        return column, typed

    # Mostly numeric columns are measurements with stray words, not free text.
    reason = _identifier_by_value(present, distinct) if numbers.parse_rate < 0.5 else None
    if reason:
        return _identifier(name, reason), None
    notes = []
    if 0 < numbers.parse_rate < tokens.NUMERIC_PARSE_THRESHOLD:
        notes.append(
            f"Treated as categorical: only {numbers.parse_rate:.0%} of the values are numbers, "
            f"below the {tokens.NUMERIC_PARSE_THRESHOLD:.0%} needed for a numerical column."
        )
    return _categorical(name, text, missing, limits, notes)


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
            ), _to_datetime_values(values)
        return _constant_from_value(
            name, value.item() if hasattr(value, "item") else value, len(values)
        )
    if native == ColumnKind.BOOLEAN:
        return ColumnSchema(name, ColumnKind.BOOLEAN, "boolean"), values.astype("boolean")
    if native == ColumnKind.DATETIME:
        converted = _to_datetime_values(values)
        column = ColumnSchema(name, ColumnKind.DATETIME, "datetime", parse_rate=1.0)
        if getattr(values.dtype, "tz", None) is not None:
            column.notes.append("Time-zone aware values were converted to UTC.")
        return column, converted

    numbers = values.astype("float64")
    # Integers beyond 2**53 lose precision as float64 and may not fit Int64, so they stay floats.
    fits = ((numbers.abs() < 2**53) | numbers.isna()).all()
    integer = pd.api.types.is_integer_dtype(values.dtype) and bool(fits)
    if integer and _is_row_number(name, numbers, missing):
        reason = "its values are distinct consecutive integers (a row number)"
        return _identifier(name, reason), None
    column = ColumnSchema(
        name, ColumnKind.NUMERICAL, "int64" if integer else "float64", parse_rate=1.0
    )
    if integer:
        return column, numbers.round().astype("Int64")
    return column, numbers


def _to_datetime_values(values: pd.Series) -> pd.Series:
    if getattr(values.dtype, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.astype("datetime64[ns]")


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
        column, typed = ColumnSchema(name, ColumnKind.BOOLEAN, "boolean"), booleans
    elif kind == "datetime":
        if native == ColumnKind.DATETIME:
            column = ColumnSchema(name, ColumnKind.DATETIME, "datetime", parse_rate=1.0)
            typed = _to_datetime_values(values)
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
        column, typed = _categorical(name, text, missing, limits, [])
    column.notes.insert(0, note)
    return column, typed


def _name_is_identifier(name: str, values: pd.Series, missing: pd.Series) -> bool:
    words = _name_words(name)
    if not words:
        return False
    if words & PERSON_NAME_TOKENS:
        return True
    if "name" in words and words - {"name"} <= PERSON_NAME_WORDS:
        return True

    # A yes/no column such as "phone_available" or "email_consent" is a flag, not contact data.
    if tokens.parse_booleans(values) is not None:
        return False
    if words & RECORD_TOKENS:
        return True
    if "record" in words and words & {"number", "no", "num", "nr"}:
        return True
    if words & ID_TOKENS:
        # "patient_id" repeats over visits and still links rows to a person, but "site_id" with a
        # handful of values is a category.
        if words - ID_TOKENS <= PERSON_ID_WORDS:
            return True
        present = values[~missing]
        return len(present) > 0 and present.nunique() * 2 >= len(present)
    return False


def _name_words(name: str) -> set[str]:
    spaced = _CAMEL.sub(" ", name)
    return {word for word in _NAME_SPLIT.split(spaced.lower()) if word}


def _identifier_by_value(present: pd.Series, distinct: int) -> str | None:
    count = len(present)
    if count == 0:
        return None
    if present.str.fullmatch(_EMAIL).mean() >= VALUE_PATTERN_SHARE:
        return "its values are e-mail addresses"
    phones = present.str.fullmatch(_PHONE) & present.str.contains(_PHONE_SEPARATOR)
    digits = present.str.count(r"\d")
    if (phones & (digits >= 7)).mean() >= VALUE_PATTERN_SHARE:
        return "its values are phone numbers"
    if count >= UNIQUE_TEXT_MIN_VALUES and distinct >= UNIQUE_TEXT_SHARE * count:
        return f"{distinct} of its {count} values are distinct"
    return None


def _is_row_number(name: str, numbers: pd.Series, missing: pd.Series) -> bool:
    """Return whether a column is a row counter: named like one, distinct consecutive integers.

    The name is required because a measurement can also run through consecutive integers in a
    small table.
    """
    words = _name_words(name)
    if not (words & ROW_NUMBER_TOKENS or name.strip() in ("#", "n", "N")):
        return False
    if missing.any() or len(numbers) < UNIQUE_TEXT_MIN_VALUES:
        return False
    span = numbers.max() - numbers.min() + 1
    return bool(span == len(numbers) and numbers.nunique() == len(numbers))


def _identifier(name: str, reason: str) -> ColumnSchema:
    return ColumnSchema(
        name,
        ColumnKind.IDENTIFIER,
        "string",
        notes=[f"Identifier, because {reason}: dropped before modelling, never copied."],
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
        return _constant_from_value(name, bool(booleans.iloc[0]), length)
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


def constant_values(column: ColumnSchema, length: int) -> pd.Series:
    """Return ``length`` copies of a constant column's value in the column's dtype."""
    return cast_values(pd.Series([column.constant_value] * length), column)


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
        changed = int((rounded != values).sum())
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
    name: str, text: pd.Series, missing: pd.Series, limits: Limits, notes: list[str]
) -> tuple[ColumnSchema, pd.Series]:
    typed = tokens.normalise_text(text).mask(missing).astype("string")
    categories = int(typed.nunique())
    if categories > limits.max_categories:
        raise LimitError(
            f"Column {name!r} has {categories:,} distinct values, more than the maximum of "
            f"{limits.max_categories:,} categories. Group rare values, or mark the column as "
            'an identifier in the metadata ({"sdtype": "id"}).'
        )
    return ColumnSchema(name, ColumnKind.CATEGORICAL, "string", notes=notes), typed


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
    return tokens.normalise_text(values).astype("string")


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
        return _to_datetime_values(values)
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
