import json

import boto3
import pytest
from function_support import INGEST, OUTPUT, REGION
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

from functions.failure.handler import describe_error, handler

RUN = "ra-like-60-0123456789abcdef"
JOB = f"sc-{RUN}"
SOURCE = {"bucket": INGEST, "key": "incoming/ra_like_60.csv", "version_id": "v1"}
ERROR_KEY = f"reports/ra-like-60/{RUN}/error.json"


def failure_event(step: str, error: dict) -> dict:
    return {
        "run_id": RUN,
        "dataset": "ra-like-60",
        "input": SOURCE,
        "step": step,
        "error": error,
        "job_name": JOB,
    }


def lambda_error(error_type: str, message: str) -> dict:
    cause = {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": "abc",
        "stackTrace": ['  File "/var/task/functions/validate/handler.py", line 1'],
    }
    return {"Error": error_type, "Cause": json.dumps(cause)}


def read_error_report(s3) -> dict:
    return json.loads(s3.get_object(Bucket=OUTPUT, Key=ERROR_KEY)["Body"].read())


def test_failure_writes_error_report_for_input_error(aws, lambda_context):
    message = "ra_like_60.csv has only a header row. Upload a file with data rows."
    event = failure_event("validate", lambda_error("InputError", message))

    result = handler(event, lambda_context)

    report = read_error_report(aws)
    assert report["status"] == "failed"
    assert report["step"] == "validate"
    assert report["error_type"] == "InputError"
    assert report["reason"] == message
    assert report["input"] == SOURCE
    assert report["run_id"] == RUN
    assert "created_at" in report
    assert result["error_report"] == f"s3://{OUTPUT}/{ERROR_KEY}"


def test_failure_explains_unexpected_error(aws, lambda_context):
    event = failure_event("evaluate", lambda_error("KeyError", "'fidelity'"))

    handler(event, lambda_context)

    report = read_error_report(aws)
    assert report["error_type"] == "KeyError"
    assert "evaluate step failed unexpectedly" in report["reason"]
    assert "'fidelity'" in report["reason"]
    assert "stackTrace" not in report["reason"]


def create_failed_training_job(reason: str | None) -> None:
    sagemaker = boto3.client("sagemaker", region_name=REGION)
    sagemaker.create_training_job(
        TrainingJobName=JOB,
        AlgorithmSpecification={"TrainingImage": "image:latest", "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/sagemaker",
        OutputDataConfig={"S3OutputPath": f"s3://artifacts/runs/{RUN}/model/"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )
    # moto completes every job at once; set the outcome SageMaker would report.
    job = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION].training_jobs[JOB]
    job.training_job_status = "Failed"
    if reason is not None:
        job.failure_reason = reason


def test_failure_reports_training_failure_reason(aws, lambda_context):
    reason = "epochs must be a whole number of at least 1, got '0'"
    create_failed_training_job(f"AlgorithmError: {reason}, exit code: 1")
    error = {
        "Error": "SageMaker.TrainingJobFailed",
        "Cause": f"SageMaker job {JOB} ended with status Failed.",
    }

    handler(failure_event("train", error), lambda_context)

    report = read_error_report(aws)
    assert report["step"] == "train"
    assert report["error_type"] == "TrainingError"
    assert report["reason"] == reason


def test_failure_without_job_reason_points_to_logs(aws, lambda_context):
    create_failed_training_job(None)
    error = {
        "Error": "SageMaker.TrainingJobFailed",
        "Cause": f"SageMaker job {JOB} ended with status Stopped.",
    }

    handler(failure_event("train", error), lambda_context)

    report = read_error_report(aws)
    assert report["error_type"] == "TrainingError"
    assert f"SageMaker job {JOB} ended with status Stopped." in report["reason"]
    assert "/aws/sagemaker/" in report["reason"]


@pytest.mark.parametrize(
    ("error", "expected_type", "expected_text"),
    [
        ({"Error": "States.Timeout", "Cause": ""}, "Timeout", "The train step timed out"),
        (
            {"Error": "SageMaker.ResourceLimitExceededException", "Cause": "quota (Service: x)"},
            "SageMaker.ResourceLimitExceededException",
            "quota (Service: x)",
        ),
        (
            {"Error": "SageMaker.TrainingJobFailed", "FailureReason": "ClientError: bad data"},
            "TrainingError",
            "bad data",
        ),
    ],
)
def test_describe_error_cases(error, expected_type, expected_text):
    error_type, reason = describe_error("train", error)

    assert error_type == expected_type
    assert expected_text in reason


def test_describe_error_truncates_long_reason():
    error_type, reason = describe_error("validate", lambda_error("InputError", "x" * 10_000))

    assert error_type == "InputError"
    assert len(reason) == 4000


def status_change(status: str, **extra) -> dict:
    detail = {
        "executionArn": f"arn:aws:states:{REGION}:123456789012:execution:synthcare:{RUN}",
        "stateMachineArn": f"arn:aws:states:{REGION}:123456789012:stateMachine:synthcare",
        "name": RUN,
        "status": status,
        "input": json.dumps({"run_id": RUN, "dataset": "ra-like-60", "input": SOURCE}),
        **extra,
    }
    return {
        "version": "0",
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "detail": detail,
    }


def test_failure_reports_timed_out_execution(aws, lambda_context):
    handler(status_change("TIMED_OUT"), lambda_context)

    report = read_error_report(aws)
    assert report["step"] == "run"
    assert report["error_type"] == "Timeout"
    assert report["reason"].startswith("The run timed out.")
    assert report["input"] == SOURCE
    assert report["run_id"] == RUN


def test_failure_reports_aborted_execution(aws, lambda_context):
    handler(status_change("ABORTED"), lambda_context)

    report = read_error_report(aws)
    assert report["error_type"] == "ExecutionAborted"
    assert "was stopped before it ended" in report["reason"]


def test_failure_keeps_report_of_caught_failure(aws, lambda_context):
    message = "ra_like_60.csv has only a header row. Upload a file with data rows."
    handler(failure_event("validate", lambda_error("InputError", message)), lambda_context)
    event = status_change("FAILED", error="SynthcareRunFailed", cause="The run failed.")

    result = handler(event, lambda_context)

    report = read_error_report(aws)
    assert result["status"] == "exists"
    assert report["step"] == "validate"
    assert report["reason"] == message


def test_failure_reports_runtime_error_without_report(aws, lambda_context):
    cause = "An error occurred while executing the state 'Evaluate'. The JSONPath '$.x' failed."
    event = status_change("FAILED", error="States.Runtime", cause=cause)

    handler(event, lambda_context)

    report = read_error_report(aws)
    assert report["error_type"] == "States.Runtime"
    assert cause in report["reason"]
