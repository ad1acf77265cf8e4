"""Parsing and checking of the JSON body of ``POST /invocations``."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from synthcare.errors import ConfigError

REQUEST_KEYS = ("rows", "seed", "conditions")
MAX_SEED = 2**32 - 1


class RequestError(ConfigError):
    """A request body that cannot be served. ``str(err)`` is the message for the client."""


@dataclass(frozen=True)
class GenerationRequest:
    """One generation request.

    Attributes:
        rows: Rows to generate, or None for as many as the real table has.
        seed: Seed of the sampler, or None for the seed the model was trained with.
        conditions: Fixed values of modelled columns, applied to every generated row.
    """

    rows: int | None = None
    seed: int | None = None
    conditions: dict[str, Any] = field(default_factory=dict)


def parse_generation_request(
    body: bytes, *, columns: Collection[str], modelled: Collection[str], max_rows: int
) -> GenerationRequest:
    """Parse and check the JSON body of a generation request.

    An empty body requests the defaults.

    Args:
        body: The raw request body, UTF-8 JSON.
        columns: Every column of the model's schema, identifiers included.
        modelled: The columns a condition may fix.
        max_rows: Largest allowed ``rows`` value.

    Returns:
        The parsed request.

    Raises:
        RequestError: The body is not JSON, is not an object, has an unknown key, or a value
            is of the wrong type or out of range.
    """
    if not body.strip():
        return GenerationRequest()

    try:
        document = json.loads(body)
    except UnicodeDecodeError:
        raise RequestError(
            "The request body is not UTF-8 text. Send a UTF-8 JSON object."
        ) from None
    except json.JSONDecodeError as err:
        raise RequestError(
            f"The request body is not valid JSON ({err.msg} at line {err.lineno} column "
            f'{err.colno}). Send an object such as {{"rows": 100, "seed": 1}}.'
        ) from None
    if not isinstance(document, dict):
        raise RequestError(
            f"The request body is a JSON {_json_type(document)}, not an object. "
            'Send an object such as {"rows": 100, "seed": 1}.'
        )

    unknown = sorted(set(document) - set(REQUEST_KEYS))
    if unknown:
        raise RequestError(
            f"Unknown request key {', '.join(repr(k) for k in unknown)}. "
            f"Allowed keys: {', '.join(REQUEST_KEYS)}."
        )

    rows = _read_whole_number(document.get("rows"), "rows", 1, max_rows)
    seed = _read_whole_number(document.get("seed"), "seed", 0, MAX_SEED)
    conditions = _read_conditions(document.get("conditions"), columns, modelled)
    return GenerationRequest(rows=rows, seed=seed, conditions=conditions)


def _read_whole_number(value: Any, key: str, minimum: int, maximum: int) -> int | None:
    if value is None:
        return None
    # JSON true and false are bool, which Python counts as int: they are not row counts.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(
            f"{key!r} is {json.dumps(value)}, not a whole number. "
            f"Send a number from {minimum} to {maximum}."
        )
    if not minimum <= value <= maximum:
        raise RequestError(
            f"{key!r} is {value}, out of range. Send a number from {minimum} to {maximum}."
        )
    return value


def _read_conditions(
    value: Any, columns: Collection[str], modelled: Collection[str]
) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RequestError(
            f"'conditions' is a JSON {_json_type(value)}, not an object. "
            'Send an object that maps column names to values, such as {"sex": "F"}.'
        )

    for column, condition in value.items():
        if column not in columns:
            raise RequestError(
                f"Condition column {column!r} is not in the table. "
                f"Columns that conditions can fix: {', '.join(modelled)}."
            )
        if column not in modelled:
            raise RequestError(
                f"Condition column {column!r} is not modelled (identifier, constant or empty "
                f"column), so it cannot be fixed. Columns that conditions can fix: "
                f"{', '.join(modelled)}."
            )
        if isinstance(condition, dict | list):
            raise RequestError(
                f"Condition value for {column!r} is a JSON {_json_type(condition)}. "
                "Send one string, number or boolean."
            )
    return dict(value)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if value is None:
        return "null"
    return "object"
