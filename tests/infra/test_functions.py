"""Lambda functions, their grants, and the upload trigger rule."""

from __future__ import annotations

import pytest

from cdk.functions import ASYNCHRONOUS_FUNCTIONS, FUNCTION_SPECS

from .synthesis import Synthesized, as_list, statements_of, synthesize

NAMES = [spec.name for spec in FUNCTION_SPECS]


@pytest.fixture(scope="module")
def synth() -> Synthesized:
    return synthesize()


def function_resource(synth: Synthesized, name: str) -> dict:
    function = getattr(synth.stack.functions.functions, name)
    return synth.resources[synth.logical_id(function)]


def role_statements(synth: Synthesized, name: str) -> list[dict]:
    function = getattr(synth.stack.functions.functions, name)
    role_id = synth.logical_id(function.role)
    policies = [
        policy
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
    ]
    return [statement for policy in policies for statement in statements_of(policy)]


def actions_on(statements: list[dict], resource_suffix: str) -> set[str]:
    """Return the actions granted on resources whose joined ARN ends with `resource_suffix`."""
    actions = set()
    for statement in statements:
        for resource in as_list(statement["Resource"]):
            parts = resource.get("Fn::Join", ["", []])[1] if isinstance(resource, dict) else []
            if parts and parts[-1] == resource_suffix:
                actions.update(as_list(statement["Action"]))
    return actions


def test_five_image_functions(synth):
    functions = synth.of_type("AWS::Lambda::Function")

    assert len(functions) == 5
    assert all(f["Properties"]["PackageType"] == "Image" for f in functions.values())


def test_functions_share_one_image(synth):
    uris = {
        str(f["Properties"]["Code"]["ImageUri"])
        for f in synth.of_type("AWS::Lambda::Function").values()
    }
    assert len(uris) == 1


@pytest.mark.parametrize("name", NAMES)
def test_function_command_is_its_handler(synth, name):
    properties = function_resource(synth, name)["Properties"]

    assert properties["ImageConfig"]["Command"] == [f"functions.{name}.handler.handler"]


@pytest.mark.parametrize("spec", FUNCTION_SPECS, ids=NAMES)
def test_function_size_matches_spec(synth, spec):
    properties = function_resource(synth, spec.name)["Properties"]

    assert properties["MemorySize"] == spec.memory_mb
    assert properties["Timeout"] == spec.timeout_seconds
    assert properties["EphemeralStorage"] == {"Size": spec.ephemeral_storage_mb}


def test_function_timeouts_fit_state_machine_tasks():
    from cdk import workflow

    limits = {
        "validate": workflow.VALIDATE_TIMEOUT,
        "evaluate": workflow.EVALUATE_TIMEOUT,
        "publish": workflow.PUBLISH_TIMEOUT,
        "failure": workflow.FAILURE_TIMEOUT,
    }
    for spec in FUNCTION_SPECS:
        if spec.name in limits:
            assert spec.timeout_seconds <= limits[spec.name].to_seconds(), spec.name


@pytest.mark.parametrize("name", NAMES)
def test_function_traced_and_logs_json(synth, name):
    properties = function_resource(synth, name)["Properties"]

    assert properties["TracingConfig"] == {"Mode": "Active"}
    assert properties["LoggingConfig"]["LogFormat"] == "JSON"
    assert properties["LoggingConfig"]["ApplicationLogLevel"] == "INFO"
    assert "LogGroup" in properties["LoggingConfig"]


@pytest.mark.parametrize("name", NAMES)
def test_function_environment_names_buckets(synth, name):
    storage = synth.stack.storage
    variables = function_resource(synth, name)["Properties"]["Environment"]["Variables"]

    assert variables["INGEST_BUCKET"] == {"Ref": synth.logical_id(storage.ingest_bucket)}
    assert variables["ARTIFACTS_BUCKET"] == {"Ref": synth.logical_id(storage.artifacts_bucket)}
    assert variables["OUTPUT_BUCKET"] == {"Ref": synth.logical_id(storage.output_bucket)}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "synthcare"


def test_only_trigger_knows_state_machine(synth):
    state_machine_id = synth.logical_id(synth.stack.workflow.state_machine)
    for name in NAMES:
        variables = function_resource(synth, name)["Properties"]["Environment"]["Variables"]
        if name == "trigger":
            assert variables["STATE_MACHINE_ARN"] == {"Ref": state_machine_id}
        else:
            assert "STATE_MACHINE_ARN" not in variables, name


def test_trigger_may_start_executions(synth):
    state_machine_id = synth.logical_id(synth.stack.workflow.state_machine)
    statements = role_statements(synth, "trigger")
    start = [s for s in statements if "states:StartExecution" in as_list(s["Action"])]

    assert len(start) == 1
    assert start[0]["Resource"] == {"Ref": state_machine_id}


@pytest.mark.parametrize("name", NAMES)
def test_function_roles_have_no_managed_policies(synth, name):
    function = getattr(synth.stack.functions.functions, name)
    role = synth.resources[synth.logical_id(function.role)]

    assert "ManagedPolicyArns" not in role["Properties"]


@pytest.mark.parametrize("name", NAMES)
def test_function_actions_have_no_wildcards(synth, name):
    for statement in role_statements(synth, name):
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{name}: {action}"


@pytest.mark.parametrize(
    ("name", "prefix", "expected"),
    [
        ("validate", "/incoming/*", {"s3:GetObject", "s3:GetObjectVersion"}),
        ("validate", "/runs/*", {"s3:PutObject", "s3:AbortMultipartUpload"}),
        ("validate", "/reports/*", set()),
        ("evaluate", "/runs/*", {"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject",
                                 "s3:AbortMultipartUpload"}),
        ("evaluate", "/incoming/*", set()),
        ("publish", "/runs/*", {"s3:GetObject", "s3:GetObjectVersion"}),
        ("publish", "/reports/*", {"s3:PutObject", "s3:AbortMultipartUpload"}),
        ("failure", "/reports/*", {"s3:PutObject", "s3:AbortMultipartUpload"}),
        ("failure", "/runs/*", set()),
        ("trigger", "/incoming/*", set()),
    ],
)  # fmt: skip
def test_function_object_grants_per_prefix(synth, name, prefix, expected):
    assert actions_on(role_statements(synth, name), prefix) == expected


@pytest.mark.parametrize(
    ("name", "bucket", "prefix"),
    [
        ("validate", "ingest_bucket", "incoming/*"),
        ("evaluate", "artifacts_bucket", "runs/*"),
        ("publish", "artifacts_bucket", "runs/*"),
        ("failure", "output_bucket", "reports/*"),
    ],
)
def test_function_lists_only_its_prefix(synth, name, bucket, prefix):
    bucket_id = synth.logical_id(getattr(synth.stack.storage, bucket))
    lists = [s for s in role_statements(synth, name) if "s3:ListBucket" in as_list(s["Action"])]

    assert len(lists) >= 1
    for statement in lists:
        assert statement["Resource"] == {"Fn::GetAtt": [bucket_id, "Arn"]}
        assert statement["Condition"] == {"StringLike": {"s3:prefix": [prefix]}}


def test_failure_may_describe_only_run_jobs(synth):
    statements = [
        statement
        for statement in role_statements(synth, "failure")
        if any(action.startswith("sagemaker:") for action in as_list(statement["Action"]))
    ]
    actions = {action for statement in statements for action in as_list(statement["Action"])}
    resources = [
        resource for statement in statements for resource in as_list(statement["Resource"])
    ]

    assert actions == {"sagemaker:DescribeTrainingJob", "sagemaker:DescribeTransformJob"}
    for resource in resources:
        assert resource["Fn::Join"][1][-1] in (":training-job/sc-*", ":transform-job/sc-*")


@pytest.mark.parametrize("name", ["validate", "evaluate", "publish", "trigger"])
def test_other_functions_have_no_sagemaker_access(synth, name):
    actions = [a for s in role_statements(synth, name) for a in as_list(s["Action"])]

    assert not [action for action in actions if action.startswith("sagemaker:")]


def upload_rule(synth: Synthesized) -> dict:
    return synth.resources[synth.logical_id(synth.stack.trigger.rule)]


def test_trigger_rule_matches_object_created_under_incoming(synth):
    ingest_id = synth.logical_id(synth.stack.storage.ingest_bucket)
    pattern = upload_rule(synth)["Properties"]["EventPattern"]

    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == [{"Ref": ingest_id}]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "incoming/"}]


def test_only_upload_rule_matches_s3_events(synth):
    sources = [
        rule["Properties"]["EventPattern"]["source"]
        for rule in synth.of_type("AWS::Events::Rule").values()
    ]

    assert sources.count(["aws.s3"]) == 1


def test_trigger_rule_targets_trigger_with_retries_and_dlq(synth):
    trigger_id = synth.logical_id(synth.stack.functions.functions.trigger)
    queue_id = synth.logical_id(synth.stack.functions.dead_letter_queue)
    targets = upload_rule(synth)["Properties"]["Targets"]

    assert len(targets) == 1
    assert targets[0]["Arn"] == {"Fn::GetAtt": [trigger_id, "Arn"]}
    assert targets[0]["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    assert targets[0]["RetryPolicy"] == {
        "MaximumEventAgeInSeconds": 21600,
        "MaximumRetryAttempts": 8,
    }


def test_eventbridge_may_invoke_trigger(synth):
    trigger_id = synth.logical_id(synth.stack.functions.functions.trigger)
    synth.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [trigger_id, "Arn"]},
            "Principal": "events.amazonaws.com",
        },
    )


@pytest.mark.parametrize("name", NAMES)
def test_async_failures_go_to_dlq(synth, name):
    queue_id = synth.logical_id(synth.stack.functions.dead_letter_queue)
    properties = function_resource(synth, name)["Properties"]

    if name in ASYNCHRONOUS_FUNCTIONS:
        assert properties["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    else:
        assert "DeadLetterConfig" not in properties


def test_async_functions_retry_twice(synth):
    configs = synth.of_type("AWS::Lambda::EventInvokeConfig")

    assert len(configs) == len(ASYNCHRONOUS_FUNCTIONS)
    for config in configs.values():
        assert config["Properties"]["MaximumRetryAttempts"] == 2


def test_eventbridge_may_send_to_dead_letter_queue(synth):
    queue_id = synth.logical_id(synth.stack.functions.dead_letter_queue)
    rule_id = synth.logical_id(synth.stack.trigger.rule)
    policy = next(iter(synth.of_type("AWS::SQS::QueuePolicy").values()))
    sends = [
        statement
        for statement in statements_of(policy)
        if statement["Effect"] == "Allow" and "sqs:SendMessage" in as_list(statement["Action"])
    ]

    assert policy["Properties"]["Queues"] == [{"Ref": queue_id}]
    for statement in sends:
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert "aws:SourceArn" in statement["Condition"]["ArnEquals"]
    sources = [statement["Condition"]["ArnEquals"]["aws:SourceArn"] for statement in sends]
    assert {"Fn::GetAtt": [rule_id, "Arn"]} in sources


def test_key_admits_eventbridge_only_for_this_account(synth):
    key = next(iter(synth.of_type("AWS::KMS::Key").values()))
    statements = [
        statement
        for statement in key["Properties"]["KeyPolicy"]["Statement"]
        if statement["Principal"] == {"Service": "events.amazonaws.com"}
    ]

    assert len(statements) == 1
    assert set(as_list(statements[0]["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert statements[0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }


def test_dead_letter_queue_encrypted_with_key(synth):
    key_id = synth.logical_id(synth.stack.storage.key)
    synth.template.has_resource_properties(
        "AWS::SQS::Queue", {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    )
