"""The table schema: one kind and dtype per column, inferred from the data or set by metadata.

``infer_schema`` turns a ``RawTable`` into a typed frame and a ``Schema``. ``restore_dtypes``
casts synthesizer output back to the schema's dtypes. ``load_metadata`` reads an SDV metadata
file that overrides detection.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from synthcare.errors import ConfigError
from synthcare.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    import pandas as pd

    from synthcare.reading import RawTable

SCHEMA_VERSION = 1
DTYPES = ("int64", "float64", "string", "boolean", "datetime")


class ColumnKind(StrEnum):
    """What a column is, which decides whether and how it is modelled."""

    NUMERICAL = "numerical"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    IDENTIFIER = "identifier"
    CONSTANT = "constant"
    EMPTY = "empty"


MODELLED_KINDS = (
    ColumnKind.NUMERICAL,
    ColumnKind.CATEGORICAL,
    ColumnKind.BOOLEAN,
    ColumnKind.DATETIME,
)


@dataclass
class ColumnSchema:
    """One column of the schema.

    Attributes:
        name: Column name as in the input header.
        kind: Detected or metadata-given kind.
        dtype: Value type: ``int64`` (held as pandas ``Int64``), ``float64``, ``string``,
            ``boolean`` (pandas ``boolean``) or ``datetime`` (``datetime64[ns]``).
        datetime_format: strftime format of the input text, for writing datetimes back in the
            same form; None when the column is not a datetime or had typed values.
        constant_value: The single value of a constant column (int, float, bool or str).
        token_rule: Rule applied to non-numeric cells of a numerical column, when there were
            any; None otherwise.
        parse_rate: Share of non-missing cells that gave a value of the column's type, for
            numerical and datetime columns.
        true_token: Text the input used for true in a boolean column (such as ``yes`` or
            ``TRUE``), written back in the synthetic CSV; None for other columns and for typed
            input, which is written as ``True``.
        false_token: Text the input used for false, paired with ``true_token``.
        notes: Plain sentences about what was detected or changed.
    """

    name: str
    kind: ColumnKind
    dtype: str
    datetime_format: str | None = None
    constant_value: Any = None
    token_rule: str | None = None
    parse_rate: float | None = None
    true_token: str | None = None
    false_token: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def modelled(self) -> bool:
        """Whether the synthesizer models this column."""
        return self.kind in MODELLED_KINDS

    def to_dict(self) -> dict:
        """Return the column as a JSON-serialisable dict."""
        return {
            "name": self.name,
            "kind": str(self.kind),
            "dtype": self.dtype,
            "datetime_format": self.datetime_format,
            "constant_value": self.constant_value,
            "token_rule": self.token_rule,
            "parse_rate": self.parse_rate,
            "true_token": self.true_token,
            "false_token": self.false_token,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: dict) -> ColumnSchema:
        """Build a column from ``to_dict`` output.

        Raises:
            ConfigError: A field is missing or has an invalid value.
        """
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ConfigError(f"Invalid schema column {data!r}: it needs a 'name' string.")
        name = data["name"]
        try:
            kind = ColumnKind(data.get("kind"))
        except ValueError:
            valid = ", ".join(k.value for k in ColumnKind)
            raise ConfigError(
                f"Invalid kind {data.get('kind')!r} for column {name!r} in the schema. "
                f"Valid kinds: {valid}."
            ) from None
        dtype = data.get("dtype")
        if dtype not in DTYPES:
            raise ConfigError(
                f"Invalid dtype {dtype!r} for column {name!r} in the schema. "
                f"Valid dtypes: {', '.join(DTYPES)}."
            )
        parse_rate = data.get("parse_rate")
        if parse_rate is not None and (
            isinstance(parse_rate, bool)
            or not isinstance(parse_rate, int | float)
            or not 0 <= parse_rate <= 1
        ):
            raise ConfigError(f"Invalid parse_rate {parse_rate!r} for column {name!r}.")
        notes = data.get("notes") or []
        if not isinstance(notes, list):
            raise ConfigError(f"Invalid notes for column {name!r}: expected a list.")
        for key in ("datetime_format", "token_rule", "true_token", "false_token"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ConfigError(f"Invalid {key} {data[key]!r} for column {name!r}.")
        constant_value = data.get("constant_value")
        if constant_value is not None and (
            not isinstance(constant_value, str | int | float)
            or (isinstance(constant_value, float) and not math.isfinite(constant_value))
        ):
            raise ConfigError(
                f"Invalid constant_value {constant_value!r} for column {name!r}: expected a "
                "number, boolean or text."
            )
        return cls(
            name=name,
            kind=kind,
            dtype=dtype,
            datetime_format=data.get("datetime_format"),
            constant_value=constant_value,
            token_rule=data.get("token_rule"),
            parse_rate=None if parse_rate is None else float(parse_rate),
            true_token=data.get("true_token"),
            false_token=data.get("false_token"),
            notes=[str(note) for note in notes],
        )


@dataclass
class Schema:
    """The columns of a table in input order, identifiers included."""

    columns: list[ColumnSchema]

    def __getitem__(self, name: str) -> ColumnSchema:
        """Return the column called ``name``; raises ``KeyError`` when there is none."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return any(column.name == name for column in self.columns)

    def names(self) -> list[str]:
        """Return every column name in input order."""
        return [column.name for column in self.columns]

    def modelled(self) -> list[str]:
        """Return the names of numerical, categorical, boolean and datetime columns."""
        return [column.name for column in self.columns if column.modelled]

    def by_kind(self, kind: ColumnKind | str) -> list[str]:
        """Return the names of the columns of one kind, in input order."""
        kind = ColumnKind(kind)
        return [column.name for column in self.columns if column.kind == kind]

    def to_dict(self) -> dict:
        """Return the schema as a JSON-serialisable dict."""
        return {
            "schema_version": SCHEMA_VERSION,
            "columns": [column.to_dict() for column in self.columns],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Schema:
        """Build a schema from ``to_dict`` output.

        Raises:
            ConfigError: The dict is not a schema or a column is invalid.
        """
        if not isinstance(data, dict) or not isinstance(data.get("columns"), list):
            raise ConfigError("Invalid schema: expected a dict with a 'columns' list.")
        version = data.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise ConfigError(
                f"Unsupported schema version {version!r}; this synthcare reads version "
                f"{SCHEMA_VERSION}."
            )
        columns = [ColumnSchema.from_dict(column) for column in data["columns"]]
        names = [column.name for column in columns]
        if len(set(names)) != len(names):
            duplicate = next(name for name in names if names.count(name) > 1)
            raise ConfigError(f"Invalid schema: column {duplicate!r} appears more than once.")
        return cls(columns)

    def to_sdv_metadata(self) -> dict:
        """Return SDV single-table metadata for the modelled columns.

        Datetime columns carry no ``datetime_format`` because the typed table stores them as
        ``datetime64[ns]``, not text. SDV 2.0 ignores ``computer_representation``, so none is
        written; integer columns are restored by ``restore_dtypes``.
        """
        sdtypes = {
            ColumnKind.NUMERICAL: "numerical",
            ColumnKind.CATEGORICAL: "categorical",
            ColumnKind.BOOLEAN: "boolean",
            ColumnKind.DATETIME: "datetime",
        }
        columns = {
            column.name: {"sdtype": sdtypes[column.kind]}
            for column in self.columns
            if column.modelled
        }
        return {"METADATA_SPEC_VERSION": "SINGLE_TABLE_V1", "columns": columns}


def infer_schema(
    raw: RawTable,
    metadata: dict | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[pd.DataFrame, Schema]:
    """Infer each column's kind and dtype and return the typed table with its schema.

    Detection rules are described in ``synthcare.inference``. User metadata (an SDV metadata
    dict as returned by ``load_metadata``) overrides detection for the columns it names.

    Args:
        raw: The table as read by ``read_table``.
        metadata: Optional SDV single-table or one-table multi-table metadata dict.
        limits: Limits; ``max_categories`` is checked here.

    Returns:
        The typed table and the schema of every input column. The typed table has no
        identifier columns. It stores integers as pandas ``Int64``, floats as ``float64``,
        text as ``string``, booleans as ``boolean`` and datetimes as ``datetime64[ns]``.

    Raises:
        ConfigError: The metadata names an unknown column or an invalid sdtype, or a value
            cannot be read as the sdtype the metadata sets.
        LimitError: A categorical column has more than ``limits.max_categories`` categories.
    """
    from synthcare.inference import infer_table

    return infer_table(raw, metadata, limits)


def restore_dtypes(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Cast a frame (synthesizer output, or a CSV read back) to the schema's dtypes.

    Integers are rounded to the nearest whole number and held as ``Int64``; nothing is
    clipped. Columns the schema does not know are returned unchanged. The input frame is not
    modified.

    Raises:
        InputError: A value cannot be converted to its column's dtype; the message names the
            column and the value.
    """
    from synthcare.restore import restore_frame

    return restore_frame(frame, schema)


def load_metadata(path: str | os.PathLike) -> dict:
    """Read an SDV metadata JSON file (single-table, or multi-table with one table).

    Returns:
        The single-table form ``{"columns": {name: {"sdtype": ...}, ...}, ...}``.

    Raises:
        ConfigError: The file is missing, not JSON, not SDV metadata, or has several tables.
    """
    from synthcare.metadata import load_metadata_file

    return load_metadata_file(path)
