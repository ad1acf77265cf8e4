"""Resolve CloudFormation intrinsic functions against the physical ids of moto resources."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")

# Reference(logical_id, attribute): attribute is None for Ref.
Lookup = Callable[[str, str | None], str]


class UnresolvedReference(KeyError):
    """A template value refers to something the harness did not create."""


def resolve(value: Any, lookup: Lookup, pseudo: dict[str, str]) -> Any:
    """Return `value` with every intrinsic function replaced by the string it stands for.

    Supports Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and Fn::Split, which are the
    functions CDK writes into state machine definitions and Lambda environments. Any other
    function raises, so that nothing passes through half resolved.

    Args:
        value: A template fragment.
        lookup: Returns the physical value of `Ref` (attribute None) or `Fn::GetAtt`.
        pseudo: Values of pseudo parameters such as `AWS::Region`.

    Raises:
        UnresolvedReference: An unknown function, logical id or attribute.
    """
    if isinstance(value, list):
        return [resolve(item, lookup, pseudo) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        return {key: resolve(item, lookup, pseudo) for key, item in value.items()}

    ((key, argument),) = value.items()
    if key == "Ref":
        if argument in pseudo:
            return pseudo[argument]
        return lookup(argument, None)
    if key == "Fn::GetAtt":
        logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
        return lookup(logical_id, attribute)
    if key == "Fn::Join":
        delimiter, items = argument
        return delimiter.join(str(resolve(item, lookup, pseudo)) for item in items)
    if key == "Fn::Sub":
        return _resolve_sub(argument, lookup, pseudo)
    if key == "Fn::Select":
        index, items = argument
        return resolve(items, lookup, pseudo)[int(resolve(index, lookup, pseudo))]
    if key == "Fn::Split":
        delimiter, text = argument
        return str(resolve(text, lookup, pseudo)).split(delimiter)
    if key.startswith("Fn::") or key == "Condition":
        raise UnresolvedReference(f"intrinsic function {key} is not supported by the harness")
    return {key: resolve(argument, lookup, pseudo)}


def _resolve_sub(argument: Any, lookup: Lookup, pseudo: dict[str, str]) -> str:
    if isinstance(argument, list):
        text, variables = argument
        variables = {name: resolve(item, lookup, pseudo) for name, item in variables.items()}
    else:
        text, variables = argument, {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return str(variables[name])
        if name in pseudo:
            return pseudo[name]
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return lookup(logical_id, attribute)
        return lookup(name, None)

    resolved = _SUB_VARIABLE.sub(replace, text)
    # `${!Literal}` is Fn::Sub's escape for a literal `${Literal}`.
    return resolved.replace("${!", "${")


def referenced_logical_ids(value: Any) -> set[str]:
    """Return the logical ids that Ref, Fn::GetAtt and Fn::Sub name anywhere in `value`."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= referenced_logical_ids(item)
        return found
    if not isinstance(value, dict):
        return found
    for key, argument in value.items():
        if key == "Ref" and isinstance(argument, str) and not argument.startswith("AWS::"):
            found.add(argument)
        elif key == "Fn::GetAtt":
            found.add(argument[0] if isinstance(argument, list) else argument.split(".", 1)[0])
        elif key == "Fn::Sub":
            text = argument[0] if isinstance(argument, list) else argument
            local = set(argument[1]) if isinstance(argument, list) else set()
            for name in _SUB_VARIABLE.findall(text):
                base = name.split(".", 1)[0]
                if name not in local and not base.startswith("AWS::"):
                    found.add(base)
            if isinstance(argument, list):
                found |= referenced_logical_ids(argument[1])
        else:
            found |= referenced_logical_ids(argument)
    return found
