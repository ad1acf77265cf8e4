"""SDV metadata files that a user supplies to override column detection.

Accepted forms (SDV 1.x and 2.0 metadata JSON):

- single table: ``{"columns": {"Hb": {"sdtype": "numerical"}, ...}, "primary_key": ...}``
- multi-table with exactly one table: ``{"tables": {"name": {"columns": {...}}}, ...}``
"""

import json
import os
from pathlib import Path

from synthcare.errors import ConfigError

# sdtypes that are modelled, mapped to synthcare kinds.
MODELLED_SDTYPES = {
    "numerical": "numerical",
    "categorical": "categorical",
    "boolean": "boolean",
    "datetime": "datetime",
}

# sdtypes that mark personal or key data, all treated as identifiers. SDV also accepts any Faker
# provider name as an sdtype; this list has the common personal-data ones.
IDENTIFIER_SDTYPES = frozenset(
    {
        "id",
        "unknown",
        "text",
        "name",
        "first_name",
        "last_name",
        "email",
        "phone_number",
        "address",
        "street_address",
        "city",
        "postcode",
        "zipcode",
        "country",
        "ssn",
        "license_plate",
        "ipv4_address",
        "ipv6_address",
        "company",
        "job",
        "iban",
        "credit_card_number",
        "date_of_birth",
    }
)

VALID_SDTYPES = tuple(sorted(set(MODELLED_SDTYPES) | IDENTIFIER_SDTYPES))
INTEGER_REPRESENTATIONS = frozenset(
    {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"}
)


def load_metadata_file(path: str | os.PathLike) -> dict:
    """Read and normalise an SDV metadata JSON file; see ``synthcare.schema.load_metadata``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"Metadata file {path.name} was not found.") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"Metadata file {path.name} could not be read: {err}.") from err
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigError(
            f"Metadata file {path.name} is not valid JSON (line {err.lineno}, column "
            f"{err.colno}: {err.msg})."
        ) from None
    return normalise_metadata(data, path.name)


def normalise_metadata(data: object, name: str = "metadata") -> dict:
    """Return the single-table form of an SDV metadata dict.

    Raises:
        ConfigError: The dict is not SDV metadata, has several tables, or a column entry has
            no valid sdtype.
    """
    if not isinstance(data, dict):
        raise ConfigError(f"{name} is not SDV metadata: expected a JSON object.")
    if "tables" in data:
        tables = data["tables"]
        if not isinstance(tables, dict) or len(tables) != 1:
            count = len(tables) if isinstance(tables, dict) else 0
            raise ConfigError(
                f"{name} describes {count} tables; synthcare needs metadata for exactly one table."
            )
        table = next(iter(tables.values()))
    else:
        table = data
    if not isinstance(table, dict) or not isinstance(table.get("columns"), dict):
        raise ConfigError(
            f"{name} is not SDV metadata: expected a 'columns' object mapping column names to "
            '{"sdtype": ...}.'
        )

    columns: dict[str, dict] = {}
    for column, entry in table["columns"].items():
        if not isinstance(entry, dict) or "sdtype" not in entry:
            raise ConfigError(f"{name}: column {column!r} has no 'sdtype'.")
        sdtype = entry["sdtype"]
        if sdtype not in MODELLED_SDTYPES and sdtype not in IDENTIFIER_SDTYPES:
            raise ConfigError(
                f"{name}: sdtype {sdtype!r} of column {column!r} is not valid. "
                f"Valid sdtypes: {', '.join(VALID_SDTYPES)}."
            )
        columns[str(column)] = dict(entry)

    result: dict = {"columns": columns}
    primary_key = table.get("primary_key")
    if primary_key is not None:
        if not isinstance(primary_key, str) or primary_key not in columns:
            raise ConfigError(
                f"{name}: primary_key {primary_key!r} is not one of the listed columns."
            )
        result["primary_key"] = primary_key
    return result


def metadata_kind(entry: dict) -> str:
    """Return the synthcare kind for one column entry of normalised metadata."""
    sdtype = entry["sdtype"]
    return MODELLED_SDTYPES.get(sdtype, "identifier")
