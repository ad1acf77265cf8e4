"""The optional e-mail notification topic."""

from __future__ import annotations

import pytest

from .synthesis import Synthesized, as_list, statements_of, synthesize

EMAIL = "data-team@example.org"


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    return synthesize()


@pytest.fixture(scope="module")
def with_email() -> Synthesized:
    return synthesize({"notification_email": EMAIL})


def test_no_topic_without_email(synth):
    synth.template.resource_count_is("AWS::SNS::Topic", 0)
    synth.template.resource_count_is("AWS::SNS::Subscription", 0)


def test_topic_encrypted_with_pipeline_key(with_email):
    key_id = with_email.logical_id(with_email.stack.storage.key)
    with_email.template.resource_count_is("AWS::SNS::Topic", 1)
    with_email.template.has_resource_properties(
        "AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    )


def test_topic_policy_denies_insecure_transport(with_email):
    policy = next(iter(with_email.of_type("AWS::SNS::TopicPolicy").values()))
    denies = [
        statement
        for statement in statements_of(policy)
        if statement["Effect"] == "Deny"
        and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]

    assert len(denies) == 1


def test_email_subscribed(with_email):
    with_email.template.has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": EMAIL}
    )


def test_state_machine_may_publish(with_email):
    topic_id = with_email.logical_id(with_email.stack.notifications.topic)
    publishers = [
        statement
        for policy in with_email.of_type("AWS::IAM::Policy").values()
        for statement in statements_of(policy)
        if "sns:Publish" in as_list(statement["Action"])
    ]

    assert publishers
    assert all(statement["Resource"] == {"Ref": topic_id} for statement in publishers)
