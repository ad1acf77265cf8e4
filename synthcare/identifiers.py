"""Detection of identifier columns: personal data, record numbers and row counters.

``infer_schema`` drops identifier columns from the typed table, so they are not modelled.
Detection leans towards dropping a column when its name or values point to a person or a record.
"""

import re

import pandas as pd

from synthcare import tokens

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


def name_marks_identifier(name: str, values: pd.Series, missing: pd.Series) -> bool:
    """Return whether a column's name marks a person, contact data or a record key."""
    words = _name_words(name)
    if not words:
        return False
    if words & PERSON_NAME_TOKENS:
        return True
    if "name" in words and words - {"name"} <= PERSON_NAME_WORDS:
        return True

    if words & RECORD_TOKENS or ("record" in words and words & {"number", "no", "num", "nr"}):
        # A yes/no column such as "phone_available" or "email_consent" is a flag, not contact
        # data.
        return tokens.parse_booleans(values) is None
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


def identifier_by_value(present: pd.Series, distinct: int) -> str | None:
    """Return why the non-missing values look like identifiers, or None when they do not.

    Args:
        present: Non-missing cells as normalised text.
        distinct: Count of distinct values in ``present``.
    """
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


def is_row_number(name: str, numbers: pd.Series, missing: pd.Series) -> bool:
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
