"""The state machine moto runs is the synthesized one. Only references and settings differ.

The harness may change nothing in the definition except replace CloudFormation references with
the names of the moto resources that represent them. These tests rebuild the expected definition
from the template's literal pieces without the harness's resolver, and compare the e2e
synthesis with a synthesis under cdk.json's settings to show that the fast settings change
only the values they name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from harness import Pipeline, Synthesized

# Settings the e2e synthesis changes (see harness.synth.FAST_CONTEXT) and where each appears.
POLL_SETTING = "poll_interval_seconds"
MODEL_SETTING = "model"


def definition_pieces(synthesized: Synthesized) -> list[Any]:
    """Return the literal strings and reference objects the definition is joined from."""
    _, resource = synthesized.state_machine()
    definition = resource["Properties"]["DefinitionString"]
    if isinstance(definition, str):
        return [definition]
    delimiter, pieces = definition["Fn::Join"]
    assert delimiter == ""
    return pieces


def reference_of(piece: dict[str, Any]) -> tuple[str, str | None]:
    """Return (logical id, attribute or None) of a Ref or Fn::GetAtt piece."""
    assert len(piece) == 1, piece
    ((function, argument),) = piece.items()
    if function == "Ref":
        return argument, None
    assert function == "Fn::GetAtt", f"unexpected intrinsic in the definition: {piece}"
    return argument[0], argument[1]


def is_pseudo(piece: dict[str, Any]) -> bool:
    """Tell whether a piece is a pseudo parameter (`AWS::Region`) or an `Fn::Sub` of them only."""
    if "Ref" in piece:
        return str(piece["Ref"]).startswith("AWS::")
    if "Fn::Sub" in piece and isinstance(piece["Fn::Sub"], str):
        names = re.findall(r"\$\{([^}]*)\}", piece["Fn::Sub"])
        return all(name.startswith("AWS::") for name in names)
    return False


def pseudo_value(piece: dict[str, Any], pseudo: dict[str, str]) -> str:
    """Return the value of a pseudo-parameter piece (see `is_pseudo`)."""
    if "Ref" in piece:
        return pseudo[piece["Ref"]]
    return re.sub(r"\$\{([^}]*)\}", lambda match: pseudo[match.group(1)], piece["Fn::Sub"])


def placeholder_definition(synthesized: Synthesized) -> Any:
    """Parse the definition with each reference replaced by a `<logical id.attribute>` token."""
    text = ""
    for piece in definition_pieces(synthesized):
        if isinstance(piece, str):
            text += piece
        elif is_pseudo(piece):
            text += f"<{json.dumps(piece, sort_keys=True)}>".replace('"', "'")
        else:
            logical_id, attribute = reference_of(piece)
            text += f"<{logical_id}.{attribute or 'Ref'}>"
    return json.loads(text)


def resource_pieces(synthesized: Synthesized) -> Iterator[tuple[str, str | None]]:
    """Yield (logical id, attribute) of every reference to a resource in the definition."""
    for piece in definition_pieces(synthesized):
        if isinstance(piece, dict) and not is_pseudo(piece):
            yield reference_of(piece)


def differences(left: Any, right: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple]:
    """Yield (path, left value, right value) for every leaf where two JSON documents differ."""
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right)):
            yield from differences(left.get(key), right.get(key), (*path, key))
    elif isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        for index, (left_item, right_item) in enumerate(zip(left, right, strict=True)):
            yield from differences(left_item, right_item, (*path, index))
    elif left != right:
        yield path, left, right


def test_executed_definition_equals_synthesized(pipeline: Pipeline) -> None:
    # GIVEN the template's pieces, with each reference replaced by the physical value of the
    # moto resource created for that logical id
    expected = ""
    for piece in definition_pieces(pipeline.synthesized):
        if isinstance(piece, str):
            expected += piece
            continue
        if is_pseudo(piece):
            expected += pseudo_value(piece, pipeline.stack.pseudo)
            continue
        logical_id, attribute = reference_of(piece)
        resource = pipeline.stack.resources[logical_id]
        expected += resource.ref if attribute is None else resource.attributes[attribute]

    # WHEN moto is asked for the definition it runs
    described = pipeline.clients["stepfunctions"].describe_state_machine(
        stateMachineArn=pipeline.state_machine_arn
    )

    # THEN it is the same text, byte for byte
    assert described["definition"] == expected
    assert described["definition"].encode("utf-8") == expected.encode("utf-8")


def test_definition_references_exist_in_moto(pipeline: Pipeline) -> None:
    clients = pipeline.clients
    for logical_id, _ in resource_pieces(pipeline.synthesized):
        resource = pipeline.stack.resources[logical_id]
        kind = resource.resource_type
        if kind == "AWS::Lambda::Function":
            clients["lambda"].get_function(FunctionName=resource.ref)
        elif kind == "AWS::S3::Bucket":
            clients["s3"].head_bucket(Bucket=resource.ref)
        elif kind == "AWS::IAM::Role":
            clients["iam"].get_role(RoleName=resource.ref)
        elif kind == "AWS::KMS::Key":
            clients["kms"].describe_key(KeyId=resource.ref)
        elif kind == "AWS::Logs::LogGroup":
            groups = clients["logs"].describe_log_groups(logGroupNamePrefix=resource.ref)
            assert [group["logGroupName"] for group in groups["logGroups"]] == [resource.ref]
        elif kind == "AWS::SNS::Topic":
            clients["sns"].get_topic_attributes(TopicArn=resource.ref)
        else:
            raise AssertionError(f"{logical_id} has type {kind}, not checked by this test")


def test_definition_functions_bound_to_handlers(pipeline: Pipeline) -> None:
    for logical_id, _ in resource_pieces(pipeline.synthesized):
        resource = pipeline.stack.resources[logical_id]
        if resource.resource_type == "AWS::Lambda::Function":
            binding = pipeline.stack.functions[resource.ref]
            assert binding.handler is not None, logical_id
            assert binding.command.startswith("functions."), binding.command


def test_fast_settings_change_only_settings(
    synthesized: Synthesized, synthesized_default: Synthesized
) -> None:
    # GIVEN the definition synthesized with the e2e settings and with cdk.json's settings
    fast = placeholder_definition(synthesized)
    default = placeholder_definition(synthesized_default)
    fast_poll = synthesized.context[POLL_SETTING]
    default_poll = synthesized_default.context[POLL_SETTING]
    fast_model = synthesized.context[MODEL_SETTING]
    default_model = synthesized_default.context[MODEL_SETTING]

    # WHEN the two documents are compared leaf by leaf
    found = list(differences(fast, default))

    # THEN every difference is the poll interval of a Wait state or the model hyperparameter
    waits = {name for name, state in fast["States"].items() if state["Type"] == "Wait"}
    unexplained = []
    poll_changes = model_changes = 0
    for path, fast_value, default_value in found:
        if (
            path[:1] == ("States",)
            and path[1] in waits
            and path[2:] == ("Seconds",)
            and (fast_value, default_value) == (fast_poll, default_poll)
        ):
            poll_changes += 1
        elif path[-1] == MODEL_SETTING and (fast_value, default_value) == (
            fast_model,
            default_model,
        ):
            model_changes += 1
        else:
            unexplained.append((path, fast_value, default_value))
    assert not unexplained
    assert poll_changes == len(waits)
    assert model_changes >= 1
    assert set(fast["States"]) == set(default["States"])
