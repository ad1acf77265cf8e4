"""The Workflow construct in a bare stack: the state machine definition and its permissions."""

import json
from types import SimpleNamespace

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template

from cdk.settings import Settings
from cdk.workflow import Workflow

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/synthcare:test"
SETTINGS = Settings(
    poll_interval_seconds=7,
    training_max_runtime_seconds=5400,
    model="ctgan",
    epochs=300,
    seed=11,
    rows=500,
    training_instance_type="ml.c5.xlarge",
)

SUCCESS_PATH = [
    "Name run resources",
    "Validate",
    "Start training job",
    "Wait for training job",
    "Describe training job",
    "Training job status",
    "Training job completed",
    "Create model",
    "Start transform job",
    "Wait for transform job",
    "Describe transform job",
    "Transform job status",
    "Transform job completed",
    "Evaluate",
    "Publish",
    "Notify success",
    "Run succeeded",
]


def build(with_topic: bool) -> dict:
    app = App()
    stack = Stack(app, "Bare")
    key = kms.Key(stack, "Key")
    ingest, artifacts, output = (
        s3.Bucket(stack, name, encryption_key=key) for name in ("Ingest", "Artifacts", "Output")
    )
    functions = SimpleNamespace(
        **{
            name: lambda_.Function(
                stack,
                name.capitalize(),
                runtime=lambda_.Runtime.PYTHON_3_11,
                handler="index.handler",
                code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
            )
            for name in ("validate", "evaluate", "publish", "failure")
        }
    )
    role = iam.Role(
        stack, "SageMakerRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")
    )
    topic = sns.Topic(stack, "Topic", master_key=key) if with_topic else None
    Workflow(
        stack,
        "Workflow",
        ingest_bucket=ingest,
        artifacts_bucket=artifacts,
        output_bucket=output,
        key=key,
        functions=functions,
        sagemaker_role=role,
        training_image_uri=IMAGE,
        settings=SETTINGS,
        topic=topic,
    )
    return Template.from_stack(stack).to_json()


def placeholder(value) -> str:
    """Stand in for a CloudFormation reference inside the definition string."""
    if "Ref" in value:
        return f"<{value['Ref']}>"
    return "<{}.{}>".format(*value["Fn::GetAtt"])


def resources(template: dict, resource_type: str) -> list[dict]:
    return [r for r in template["Resources"].values() if r["Type"] == resource_type]


def logical_ids(template: dict, resource_type: str) -> list[str]:
    return [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    ]


def definition_of(template: dict) -> dict:
    (machine,) = resources(template, "AWS::StepFunctions::StateMachine")
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(part if isinstance(part, str) else placeholder(part) for part in parts)
    return json.loads(text)


@pytest.fixture(scope="module")
def template():
    return build(with_topic=True)


@pytest.fixture(scope="module")
def definition(template):
    return definition_of(template)


def task_states(definition: dict) -> dict[str, dict]:
    return {name: state for name, state in definition["States"].items() if state["Type"] == "Task"}


def follow_success_path(definition: dict) -> list[str]:
    states = definition["States"]
    path, name = [], definition["StartAt"]
    while name is not None:
        path.append(name)
        state = states[name]
        if state["Type"] == "Choice":
            name = next(
                choice["Next"]
                for choice in state["Choices"]
                if choice.get("StringEquals") == "Completed"
            )
        else:
            name = state.get("Next")
    return path


def test_definition_success_path_in_order(definition):
    assert follow_success_path(definition) == SUCCESS_PATH


def test_definition_every_task_has_catch_retry_timeout(definition):
    tasks = task_states(definition)

    assert len(tasks) == 11
    for name, state in tasks.items():
        catch = state["Catch"]
        assert catch[0]["ErrorEquals"] == ["States.ALL"], name
        assert state["Retry"], name
        assert 0 < state["TimeoutSeconds"] <= 900, name
        retry = state["Retry"][0]
        assert retry["BackoffRate"] >= 2, name
        assert retry["MaxAttempts"] >= 3, name


def test_definition_step_catches_lead_to_error_report(definition):
    states = definition["States"]
    terminal_tasks = {"Write error report", "Notify failure"}

    for name, state in task_states(definition).items():
        if name in terminal_tasks:
            assert states[state["Catch"][0]["Next"]]["Type"] == "Fail", name
            continue
        record = states[state["Catch"][0]["Next"]]
        assert state["Catch"][0]["ResultPath"] == "$.error", name
        assert record["Type"] == "Pass", name
        assert record["ResultPath"] == "$.failed_step", name
        assert record["Next"] == "Write error report", name


def test_definition_failure_path_ends_in_fail(definition):
    states = definition["States"]

    assert states["Write error report"]["Next"] == "Notify failure"
    assert states["Notify failure"]["Next"] == "Run failed"
    assert states["Run failed"]["Type"] == "Fail"


def test_definition_failed_jobs_reach_error_report(definition):
    states = definition["States"]

    for choice_name, step in (
        ("Training job status", "train"),
        ("Transform job status", "generate"),
    ):
        choice = states[choice_name]
        ended = states[f"{choice_name}: ended"]
        statuses = {
            rule["StringEquals"] for branch in choice["Choices"] for rule in branch.get("Or", [])
        }
        assert statuses == {"Failed", "Stopped"}, choice_name
        assert ended["ResultPath"] == "$.error", choice_name
        assert states[ended["Next"]]["Result"] == step, choice_name
        assert choice["Default"].startswith("Wait for"), choice_name


def test_definition_training_job_parameters(definition):
    parameters = definition["States"]["Start training job"]["Parameters"]

    assert definition["States"]["Start training job"]["Resource"].endswith(
        ":states:::aws-sdk:sagemaker:createTrainingJob"
    )
    assert parameters["EnableNetworkIsolation"] is True
    assert parameters["AlgorithmSpecification"]["TrainingImage"] == IMAGE
    assert parameters["HyperParameters"] == {"model": "ctgan", "seed": "11", "epochs": "300"}
    assert all(isinstance(value, str) for value in parameters["HyperParameters"].values())
    assert parameters["InputDataConfig"][0]["ChannelName"] == "training"
    assert parameters["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri.$"] == (
        "$.names.prepared_uri"
    )
    assert parameters["OutputDataConfig"]["KmsKeyId"] == "<Key961B73FD.Arn>"
    assert parameters["ResourceConfig"]["VolumeKmsKeyId"] == "<Key961B73FD.Arn>"
    assert parameters["ResourceConfig"]["InstanceType"] == "ml.c5.xlarge"
    assert parameters["StoppingCondition"] == {"MaxRuntimeInSeconds": 5400}
    assert parameters["TrainingJobName.$"] == "$.names.job_name"


def test_definition_names_follow_run_id(definition):
    names = definition["States"]["Name run resources"]["Parameters"]

    assert names["job_name.$"] == "States.Format('sc-{}', $.run_id)"
    assert names["prepared_uri.$"] == (
        "States.Format('s3://<Artifacts82DD59A1>/runs/{}/prepared/', $.run_id)"
    )
    assert names["model_uri.$"].endswith("/runs/{}/model/', $.run_id)")
    assert names["request_uri.$"].endswith("/runs/{}/generate/request.json', $.run_id)")
    assert names["generated_uri.$"].endswith("/runs/{}/generated/', $.run_id)")


def test_definition_transform_job_parameters(definition):
    parameters = definition["States"]["Start transform job"]["Parameters"]

    assert parameters["TransformInput"]["ContentType"] == "application/json"
    assert parameters["TransformInput"]["SplitType"] == "None"
    assert parameters["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri.$"] == (
        "$.names.request_uri"
    )
    assert parameters["TransformOutput"]["Accept"] == "text/csv"
    assert parameters["TransformOutput"]["S3OutputPath.$"] == "$.names.generated_uri"
    assert parameters["TransformOutput"]["KmsKeyId"] == "<Key961B73FD.Arn>"
    assert parameters["TransformResources"]["VolumeKmsKeyId"] == "<Key961B73FD.Arn>"
    model = definition["States"]["Create model"]["Parameters"]
    assert model["EnableNetworkIsolation"] is True
    assert model["PrimaryContainer"]["Image"] == IMAGE


def test_definition_polls_with_configured_interval(definition):
    states = definition["States"]

    assert states["Wait for training job"]["Seconds"] == 7
    assert states["Wait for transform job"]["Seconds"] == 7
    assert states["Describe training job"]["Next"] == "Training job status"


def test_definition_validate_payload_carries_settings(definition):
    payload = definition["States"]["Validate"]["Parameters"]["Payload"]

    assert payload["settings"] == {
        "rows": 500,
        "seed": 11,
        "hyperparameters": {"model": "ctgan", "seed": "11", "epochs": "300"},
    }
    assert payload["run_id.$"] == "$.run_id"
    assert payload["input.$"] == "$.input"


def test_definition_runs_under_moto(definition):
    text = json.dumps(definition)

    assert ".sync" not in text
    assert "JSONata" not in text
    assert definition.get("QueryLanguage", "JSONPath") == "JSONPath"


def test_state_machine_logging_and_tracing(template):
    (machine,) = resources(template, "AWS::StepFunctions::StateMachine")
    properties = machine["Properties"]
    (log_group,) = resources(template, "AWS::Logs::LogGroup")

    assert properties["TracingConfiguration"] == {"Enabled": True}
    assert properties["LoggingConfiguration"]["Level"] == "ALL"
    assert properties["LoggingConfiguration"]["IncludeExecutionData"] is True
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["Key961B73FD", "Arn"]}
    assert log_group["Properties"]["RetentionInDays"] == SETTINGS.log_retention_days


def test_state_machine_has_overall_timeout(definition):
    assert definition["TimeoutSeconds"] == 5400 + 3 * 3600


def policy_statements(template: dict, role_prefix: str) -> list[dict]:
    statements = []
    for policy in resources(template, "AWS::IAM::Policy"):
        roles = policy["Properties"]["Roles"]
        if any(role["Ref"].startswith(role_prefix) for role in roles):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def test_state_machine_role_passes_role_only_to_sagemaker(template):
    statements = policy_statements(template, "WorkflowStateMachineRole")
    (pass_role,) = [s for s in statements if s["Action"] == "iam:PassRole"]

    assert pass_role["Resource"] == {"Fn::GetAtt": ["SageMakerRoleD4FCFA3F", "Arn"]}
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}
    }


def test_state_machine_role_limits_sagemaker_to_run_names(template):
    statements = policy_statements(template, "WorkflowStateMachineRole")
    sagemaker = [s for s in statements if "sagemaker:" in json.dumps(s["Action"])]

    actions = set()
    for statement in sagemaker:
        listed = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        actions.update(listed)
        resources_text = json.dumps(statement["Resource"])
        assert "/sc-*" in resources_text
        assert '"*"' not in resources_text
    assert actions == {
        "sagemaker:CreateTrainingJob",
        "sagemaker:DescribeTrainingJob",
        "sagemaker:CreateModel",
        "sagemaker:CreateTransformJob",
        "sagemaker:DescribeTransformJob",
        "sagemaker:AddTags",
    }


def test_definition_without_topic_skips_notifications():
    definition = definition_of(build(with_topic=False))
    states = definition["States"]

    assert "Notify success" not in states
    assert "Notify failure" not in states
    assert states["Publish"]["Next"] == "Run succeeded"
    assert states["Write error report"]["Next"] == "Run failed"


def test_ended_executions_reach_failure_function(template):
    (rule,) = resources(template, "AWS::Events::Rule")
    pattern = rule["Properties"]["EventPattern"]
    (target,) = rule["Properties"]["Targets"]

    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert sorted(pattern["detail"]["status"]) == ["ABORTED", "FAILED", "TIMED_OUT"]
    (machine_id,) = logical_ids(template, "AWS::StepFunctions::StateMachine")
    failure_ids = [i for i in logical_ids(template, "AWS::Lambda::Function") if "Failure" in i]
    assert pattern["detail"]["stateMachineArn"] == [{"Ref": machine_id}]
    assert target["Arn"] == {"Fn::GetAtt": [failure_ids[0], "Arn"]}
    assert len(failure_ids) == 1
