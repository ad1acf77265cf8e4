"""cdk-nag AWS Solutions and HIPAA Security packs on every optional part of the stack."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from cdk.nag import acknowledge, add_rule_packs

from .synthesis import MODEL_DATA_URL, synthesize


@pytest.fixture(scope="module")
def full():
    return synthesize(
        {
            "endpoint": True,
            "endpoint_model_data_url": MODEL_DATA_URL,
            "notification_email": "data-team@example.org",
            "remove_data_on_delete": True,
        }
    )


def test_default_stack_has_no_unacknowledged_finding():
    assert synthesize().nag_violations() == []


def test_stack_with_every_option_has_no_unacknowledged_finding(full):
    assert full.nag_violations() == []


def test_every_acknowledgement_states_a_reason(full):
    metadata_key = cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    acknowledgements = [
        entry.data
        for construct in full.stack.node.find_all()
        for entry in construct.node.metadata
        if entry.type == metadata_key
    ]

    assert acknowledgements
    for data in acknowledgements:
        for rule_id, reason in data.items():
            rule = rule_id.removeprefix("Annotation::")
            assert rule.startswith(("AwsSolutions-", "HIPAA.Security-")), rule_id
            assert len(reason.split()) >= 6, f"{rule_id}: {reason}"


def test_unacknowledged_finding_fails_synthesis(tmp_path):
    # GIVEN a stack with a bucket that breaks several rules of both packs
    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Bare")
    s3.Bucket(stack, "Plain")
    add_rule_packs(app)

    # WHEN it is synthesized THEN synthesis fails
    with pytest.raises(RuntimeError, match="Validation ?Failed"):
        app.synth()


def test_acknowledgement_without_reason_rejected():
    stack = cdk.Stack(cdk.App(), "Bare")

    with pytest.raises(ValueError, match="AwsSolutions-S1 needs a reason"):
        acknowledge(stack, "AwsSolutions-S1", "  ")
