"""Parsing of cell text into numbers, booleans and dates, including laboratory tokens.

All functions work on whole pandas Series with pyarrow string kernels, so a column costs a few
vectorised passes over its values and no Python loop per cell, except when matched numbers
are converted.
"""

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Cell texts that mean "no value" in every column, compared case-insensitively after white
# space is stripped. Blank cells are already missing when the table is read.
MISSING_TOKENS = frozenset({"na", "n/a", "nan", "nat", "<na>", "null", "?", "-", "--", ".", "#n/a"})

# Words that mean "no value" in numerical, boolean and datetime columns, where they cannot be a
# value. In a categorical column they are kept as categories, because clinical scales use words
# such as "None" as a level (no improvement, no symptom).
MISSING_WORDS = frozenset({"none", "missing", "nd", "n.d."})


TRUE_WORDS = frozenset({"yes", "y", "true", "t"})
FALSE_WORDS = frozenset({"no", "n", "false", "f"})

# A column is numerical when at least this share of its non-missing values is a number or a
# '<x' / '>x' bound, so that a few laboratory words do not turn it into a categorical.
NUMERIC_PARSE_THRESHOLD = 0.8

# A column is a datetime when at least this share of its non-missing values parses with one
# format; the rest become missing.
DATETIME_PARSE_THRESHOLD = 0.95

NUMERIC_TEXT_RULE = "'<x' and '<=x' -> x; '>x' and '>=x' -> x; any other text -> missing"

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_PLAIN = re.compile(rf"^{_NUMBER}$")
_BOUND = re.compile(rf"^(?:<=?|>=?|≤|≥)\s*({_NUMBER})$")
# Numbers with thousands separators: "1.234,5" with a decimal comma, "1,234.5" with a decimal
# point. Only values of this exact shape lose their separators.
_GROUPED_DOT = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$")
_GROUPED_COMMA = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
# A number followed by a unit such as "mg/dl", "%" or "°C": the unit has no digits.
_NUMBER_WITH_UNIT = re.compile(rf"^(?:<=?|>=?|≤|≥)?\s*{_NUMBER}\s*([^\d\s<>=≤≥+\-.,][^\d]*)$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
_INTEGER_TEXT = re.compile(r"^[+-]?\d+$")

# Formats tried in order. Day first comes before month first because dd/mm/yyyy is the usual
# form outside the United States. A column that fits both is read day first, with a note.
DATETIME_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%m-%d-%Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d, %Y",
)
# Output format for ISO 8601 input with time-zone offsets: the values are converted to UTC, and
# the literal Z marks them as UTC when they are written back.
ISO_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_MONTH_FIRST = {"%m/%d/%Y": "%d/%m/%Y", "%m/%d/%Y %H:%M": "%d/%m/%Y %H:%M", "%m-%d-%Y": "%d-%m-%Y"}


TEXT_DTYPE = "string[pyarrow]"


def normalise_text(values: pd.Series, *, keep_words: bool = False) -> pd.Series:
    """Return cells as stripped text, with blanks and missing-value tokens set to missing.

    Args:
        values: Cells of one column.
        keep_words: Whether ``MISSING_WORDS`` stay as text, as they do in categorical columns;
            ``MISSING_TOKENS`` and blanks are missing either way.

    The result uses pyarrow-backed strings, whose string methods run in compiled code; a
    column of 100,000 cells takes milliseconds per pass.
    """
    text = values.astype(TEXT_DTYPE).str.strip()
    lowered = text.str.lower()
    tokens = MISSING_TOKENS if keep_words else MISSING_TOKENS | MISSING_WORDS
    missing = (lowered.isin(tokens) | (lowered == "")).fillna(True).astype(bool)
    return text.mask(missing)


def _mask(result: pd.Series) -> pd.Series:
    return result.fillna(False).astype(bool)


@dataclass
class NumericParse:
    """Outcome of parsing a text column as numbers.

    Attributes:
        values: float64 values; NaN where the cell was missing or not a number.
        plain: Count of cells that were plain numbers.
        bounds: Count of ``<x``/``>x`` cells, whose value is the bound x.
        other: Count of non-missing cells that gave no number (words and malformed text).
        non_missing: Count of non-missing cells.
        integral: Whether every parsed value is a whole number written without a decimal mark
            or exponent.
        leading_zero: Count of integer-looking cells with a leading zero, such as ``007``.
        examples: Up to three distinct texts that gave no number.
        unit: Unit written after the numbers (such as ``mg/dl``), removed before parsing;
            None when the values carry no common unit.
        with_unit: Count of cells whose unit was removed.
    """

    values: pd.Series
    plain: int
    bounds: int
    other: int
    non_missing: int
    integral: bool
    leading_zero: int
    examples: list[str]
    unit: str | None = None
    with_unit: int = 0

    @property
    def parse_rate(self) -> float:
        """Share of non-missing cells that gave a number (plain or bound)."""
        if self.non_missing == 0:
            return 0.0
        return (self.plain + self.bounds) / self.non_missing


def parse_numbers(
    values: pd.Series, decimal: str = ".", *, normalised: bool = False
) -> NumericParse:
    """Parse text cells as numbers, applying the laboratory token rule ``NUMERIC_TEXT_RULE``.

    Args:
        values: Text cells; missing cells and missing-value tokens are skipped.
        decimal: Decimal mark used in the file (``.`` or ``,``).
        normalised: Whether ``values`` is already the output of ``normalise_text``.
    """
    text = values if normalised else normalise_text(values)
    missing = text.isna().astype(bool)
    if decimal == ",":
        grouped = _mask(text.str.fullmatch(_GROUPED_DOT))
        text = text.mask(grouped, text.str.replace(".", "", regex=False))
        text = text.str.replace(",", ".", regex=False)
    else:
        grouped = _mask(text.str.fullmatch(_GROUPED_COMMA))
        text = text.mask(grouped, text.str.replace(",", "", regex=False))

    unit, with_unit = _common_unit(text, int((~missing).sum()))
    if unit is not None:
        text = text.str.replace(rf"(?i)\s*{re.escape(unit)}$", "", regex=True)

    plain_mask = _mask(text.str.fullmatch(_PLAIN))
    bound_text = text.str.extract(_BOUND, expand=False)
    bound_mask = _mask(bound_text.notna()) & ~plain_mask

    numbers = pd.Series(np.nan, index=values.index, dtype="float64")
    if plain_mask.any():
        numbers[plain_mask] = _to_float(text[plain_mask])
    if bound_mask.any():
        numbers[bound_mask] = _to_float(bound_text[bound_mask])
    numbers[~np.isfinite(numbers)] = np.nan

    non_missing = int((~missing).sum())
    parsed = plain_mask | bound_mask
    other_mask = ~missing & ~parsed
    written = text[plain_mask]
    integral = bool(
        parsed.any()
        and _mask(written.str.fullmatch(_INTEGER_TEXT)).all()
        and _mask(bound_text[bound_mask].str.fullmatch(_INTEGER_TEXT)).all()
        and (numbers[parsed].abs() < 2**53).all()
    )
    leading_zero = int(_mask(written.str.match(_LEADING_ZERO)).sum())
    examples = list(dict.fromkeys(text[other_mask].head(50).tolist()))[:3]
    return NumericParse(
        values=numbers,
        plain=int(plain_mask.sum()),
        bounds=int(bound_mask.sum()),
        other=int(other_mask.sum()),
        non_missing=non_missing,
        integral=integral,
        leading_zero=leading_zero,
        examples=[str(example) for example in examples],
        unit=unit,
        with_unit=with_unit,
    )


def _common_unit(text: pd.Series, non_missing: int) -> tuple[str | None, int]:
    """Return the unit after the numbers when one unit follows at least half the values."""
    if non_missing == 0:
        return None, 0
    units = text.str.extract(_NUMBER_WITH_UNIT, expand=False).dropna()
    if units.empty:
        return None, 0
    counts = units.str.strip().str.lower().value_counts()
    if counts.iloc[0] * 2 < non_missing:
        return None, 0
    return str(counts.index[0]), int(counts.iloc[0])


def _to_float(text: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(text.astype(object), errors="coerce")
    return np.asarray(numbers, dtype="float64")


def parse_booleans(
    values: pd.Series, *, allow_digits: bool = False, normalised: bool = False
) -> pd.Series | None:
    """Parse yes/no and true/false words (any case) into a pandas ``boolean`` Series.

    ``1`` and ``0`` count as true and false only when the column also contains words, or when
    ``allow_digits`` is set. Returns None when some non-missing cell is not a boolean word.
    """
    lowered = (values if normalised else normalise_text(values)).str.lower()
    missing = lowered.isna().astype(bool)
    present = lowered[~missing]
    if present.empty:
        return None
    is_word = _mask(present.isin(TRUE_WORDS | FALSE_WORDS))
    is_digit = _mask(present.isin({"1", "0", "1.0", "0.0"}))
    if not (is_word | is_digit).all():
        return None
    if not allow_digits and not is_word.any():
        return None
    result = pd.Series(pd.NA, index=values.index, dtype="boolean")
    result[~missing] = _mask(present.isin(TRUE_WORDS | {"1", "1.0"})).to_numpy()
    return result


# The false word that goes with each true word, and the reverse, for columns where only one
# of the two appears.
_BOOLEAN_PARTNERS = {"yes": "no", "y": "n", "true": "false", "t": "f", "1": "0", "1.0": "0.0"}
_BOOLEAN_PARTNERS.update({false: true for true, false in list(_BOOLEAN_PARTNERS.items())})


def boolean_tokens(values: pd.Series, *, normalised: bool = False) -> tuple[str, str]:
    """Return the texts a boolean column uses for true and false, as written in the input.

    The most frequent spelling of each side wins (``yes`` over ``Y``). A side that never
    appears takes the partner of the other side in the same letter case (``TRUE`` gives
    ``FALSE``). A column of digits only gives ``1`` and ``0``.
    """
    text = (values if normalised else normalise_text(values)).dropna()
    lowered = text.str.lower()
    true_texts = text[_mask(lowered.isin(TRUE_WORDS))]
    false_texts = text[_mask(lowered.isin(FALSE_WORDS))]
    if true_texts.empty and false_texts.empty:
        true_texts = text[_mask(lowered.isin({"1", "1.0"}))]
        false_texts = text[_mask(lowered.isin({"0", "0.0"}))]
    true_token = str(true_texts.value_counts().index[0]) if len(true_texts) else None
    false_token = str(false_texts.value_counts().index[0]) if len(false_texts) else None
    if true_token is None and false_token is None:
        return "true", "false"
    if true_token is None:
        true_token = _same_case(_BOOLEAN_PARTNERS[false_token.lower()], false_token)
    if false_token is None:
        false_token = _same_case(_BOOLEAN_PARTNERS[true_token.lower()], true_token)
    return true_token, false_token


def _same_case(word: str, model: str) -> str:
    if model.isupper():
        return word.upper()
    if model[:1].isupper():
        return word.capitalize()
    return word


def parse_datetimes(
    values: pd.Series, fmt: str | None = None, *, normalised: bool = False
) -> tuple[pd.Series, str, float] | None:
    """Parse text cells as datetimes with the first format that fits.

    Args:
        values: Text cells.
        fmt: A strftime format to use instead of trying ``DATETIME_FORMATS``.
        normalised: Whether ``values`` is already the output of ``normalise_text``.

    Returns:
        ``(datetime64[ns] values, format, parse rate)`` for the first format whose parse rate
        reaches ``DATETIME_PARSE_THRESHOLD`` (or for ``fmt`` whatever its rate), else None.
    """
    text = values if normalised else normalise_text(values)
    missing = text.isna().astype(bool)
    present = text[~missing]
    if present.empty:
        return None
    sample = present.head(200)
    if fmt is None and (sample.str.count(r"\d") >= 4).mean() < DATETIME_PARSE_THRESHOLD:
        # Every supported format has at least four digits, so most columns stop here.
        return None
    text = text.astype(object)
    formats = (fmt,) if fmt else DATETIME_FORMATS
    sample = sample.astype(object)
    for candidate in formats:
        if fmt is None:
            probe = pd.to_datetime(sample, format=candidate, errors="coerce")
            if probe.notna().mean() < DATETIME_PARSE_THRESHOLD:
                continue
        try:
            parsed = pd.to_datetime(text, format=candidate, errors="coerce")
        except (ValueError, TypeError):
            continue
        rate = float(parsed[~missing].notna().mean())
        if fmt is None and rate < DATETIME_PARSE_THRESHOLD:
            continue
        return parsed.astype("datetime64[ns]"), candidate, rate
    if fmt is None:
        return _parse_iso_with_offsets(text, sample, missing)
    return None


def _parse_iso_with_offsets(
    text: pd.Series, sample: pd.Series, missing: pd.Series
) -> tuple[pd.Series, str, float] | None:
    """Parse ISO 8601 timestamps with a ``Z`` or ``+hh:mm`` offset, converted to naive UTC."""
    probe = pd.to_datetime(sample, format="ISO8601", utc=True, errors="coerce")
    if probe.notna().mean() < DATETIME_PARSE_THRESHOLD:
        return None
    parsed = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    rate = float(parsed[~missing].notna().mean())
    if rate < DATETIME_PARSE_THRESHOLD:
        return None
    return parsed.dt.tz_convert(None).astype("datetime64[ns]"), ISO_UTC_FORMAT, rate


def month_first_twin(fmt: str) -> str | None:
    """Return the month-first format that matches the same texts as a day-first ``fmt``."""
    for month_first, day_first in _MONTH_FIRST.items():
        if day_first == fmt:
            return month_first
    return None
