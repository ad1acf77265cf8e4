import json
import re

import boto3
import pytest
from function_support import INGEST, REGION

from functions.common import layout
from functions.trigger.handler import handler

PASS_DEFINITION = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})


@pytest.fixture
def state_machine(aws, monkeypatch):
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(
        RoleName="synthcare-test-states",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    stepfunctions = boto3.client("stepfunctions", region_name=REGION)
    arn = stepfunctions.create_state_machine(
        name="synthcare-test", definition=PASS_DEFINITION, roleArn=role
    )["stateMachineArn"]
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    return stepfunctions, arn


def object_created(key: str, version_id: str | None = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY") -> dict:
    detail = {
        "version": "0",
        "bucket": {"name": INGEST},
        "object": {"key": key, "size": 1234, "etag": "abc", "sequencer": "00"},
        "reason": "PutObject",
    }
    if version_id is not None:
        detail["object"]["version-id"] = version_id
    return {
        "version": "0",
        "detail-type": "Object Created",
        "source": "aws.s3",
        "region": REGION,
        "detail": detail,
    }


def test_trigger_repeat_while_running_keeps_one_execution(state_machine, lambda_context):
    stepfunctions, arn = state_machine
    event = object_created("incoming/ra_like_60.csv")

    # Step Functions returns the running execution for a repeated start with the same name and
    # input, without an error.
    first = handler(event, lambda_context)
    second = handler(event, lambda_context)

    executions = stepfunctions.list_executions(stateMachineArn=arn)["executions"]
    assert len(executions) == 1
    assert executions[0]["name"] == first["run_id"]
    assert second["run_id"] == first["run_id"]
    assert second.get("execution_arn") == first["execution_arn"]


def test_trigger_repeat_after_run_is_duplicate(state_machine, lambda_context):
    stepfunctions, arn = state_machine
    event = object_created("incoming/ra_like_60.csv")
    first = handler(event, lambda_context)
    stepfunctions.stop_execution(executionArn=first["execution_arn"])

    second = handler(event, lambda_context)

    executions = stepfunctions.list_executions(stateMachineArn=arn)["executions"]
    assert first["status"] == "started"
    assert second == {"status": "duplicate", "run_id": first["run_id"]}
    assert len(executions) == 1


def test_trigger_execution_input_follows_contract(state_machine, lambda_context):
    stepfunctions, arn = state_machine
    version = "v-123"

    result = handler(object_created("incoming/ra_like_60.csv", version), lambda_context)

    description = stepfunctions.describe_execution(executionArn=result["execution_arn"])
    document = json.loads(description["input"])
    assert document == {
        "run_id": layout.run_id("incoming/ra_like_60.csv", version),
        "dataset": "ra-like-60",
        "input": {"bucket": INGEST, "key": "incoming/ra_like_60.csv", "version_id": version},
    }


def test_trigger_new_version_starts_new_run(state_machine, lambda_context):
    stepfunctions, arn = state_machine

    first = handler(object_created("incoming/ra_like_60.csv", "v1"), lambda_context)
    second = handler(object_created("incoming/ra_like_60.csv", "v2"), lambda_context)

    executions = stepfunctions.list_executions(stateMachineArn=arn)["executions"]
    assert first["run_id"] != second["run_id"]
    assert len(executions) == 2


@pytest.mark.parametrize(
    "key",
    [
        "incoming/ra_like_60.csv.metadata.json",
        "incoming/",
        "outgoing/ra_like_60.csv",
    ],
)
def test_trigger_ignores_non_uploads(state_machine, lambda_context, key):
    stepfunctions, arn = state_machine

    result = handler(object_created(key), lambda_context)

    assert result["status"] == "ignored"
    assert stepfunctions.list_executions(stateMachineArn=arn)["executions"] == []


def test_trigger_rejects_event_without_object(state_machine, lambda_context):
    with pytest.raises(ValueError, match="detail.object.key"):
        handler({"detail-type": "Object Created", "detail": {}}, lambda_context)


SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


@pytest.mark.parametrize(
    ("key", "stem"),
    [
        ("incoming/ra_like_60.csv", "ra-like-60"),
        ("incoming/Blood Panel (2024) – Zürich.xlsx", "blood-panel-2024-z-rich"),
        ("incoming/team/a/" + "x" * 200 + ".parquet", "x" * 40),
        ("incoming/___.csv", "upload"),
        ("incoming/report.2024.final.csv", "report-2024-final"),
    ],
)
def test_run_id_is_safe_and_short(key, stem):
    run = layout.run_id(key, "version")

    assert run.startswith(stem + "-")
    assert len(run) <= 57
    assert SAGEMAKER_NAME.match("sc-" + run)
    assert re.fullmatch(r"[0-9a-f]{16}", run.rsplit("-", 1)[1])


def test_run_id_depends_on_key_and_version():
    assert layout.run_id("incoming/a.csv", "v1") == layout.run_id("incoming/a.csv", "v1")
    assert layout.run_id("incoming/a.csv", "v1") != layout.run_id("incoming/a.csv", "v2")
    assert layout.run_id("incoming/a.csv", None) != layout.run_id("incoming/b/a.csv", None)
