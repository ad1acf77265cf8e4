"""Failure step: write `error.json` for a run that a Catch in the state machine stopped.

Environment variables: `OUTPUT_BUCKET`, `POWERTOOLS_SERVICE_NAME`. For a failed SageMaker job
the function reads the job's `FailureReason` (`sagemaker:DescribeTrainingJob` and
`sagemaker:DescribeTransformJob` on the run's job).
"""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from functions.common import layout, s3
from synthcare import errors
from synthcare.report import error_report

logger = Logger()

# Error types whose message is written for the user: synthcare's own exceptions.
USER_ERROR_TYPES = frozenset(
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.SynthcareError)
)

EXECUTION_STATUS_CHANGE = "Step Functions Execution Status Change"

# The error names the state machine sets for SageMaker jobs that end as Failed or Stopped, with
# the synthcare error type they stand for and the API call that describes the job.
JOB_FAILED_ERRORS = {
    "SageMaker.TrainingJobFailed": ("TrainingError", "describe_training_job", "TrainingJobName"),
    "SageMaker.TransformJobFailed": (
        "GenerationError",
        "describe_transform_job",
        "TransformJobName",
    ),
}

# SageMaker documents FailureReason as the first 1024 characters of /opt/ml/output/failure.
# NOTE: jobs seen in practice wrap it as "AlgorithmError: <text>, exit code: <n>"; the pattern
# removes that wrapper when present and leaves any other text unchanged.
_ALGORITHM_ERROR = re.compile(
    r"^(?:AlgorithmError|ClientError):\s*(.*?)(?:,\s*exit code:\s*\d+)?$", re.S
)
MAX_REASON_CHARS = 4000


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Write `reports/<dataset>/<run_id>/error.json` to the output bucket.

    Two kinds of event arrive here. From the state machine: `{"run_id", "dataset", "input",
    "step", "error": {"Error", "Cause"}, "job_name"}`, where `error` is what a Catch stored, or
    what the state machine built from a failed SageMaker job, and `job_name` is the name of the
    run's SageMaker jobs. From EventBridge: a "Step Functions Execution Status Change" event for
    an execution that ended as TIMED_OUT, ABORTED or FAILED, which no Catch can report. Such an
    event writes `error.json` only when the run has none yet.

    Returns:
        The failed step, error type, reason and the URI of `error.json`, or `{"status":
        "exists"}` when a status change event found the run's error report already written.
    """
    if event.get("detail-type") == EXECUTION_STATUS_CHANGE:
        return _report_ended_execution(event["detail"])
    return _write_report(event)


def _write_report(event: dict[str, Any]) -> dict[str, Any]:
    run = event.get("run_id")
    dataset = event.get("dataset") or layout.FALLBACK_STEM
    step = event.get("step") or "unknown"
    output_bucket = layout.required_env(layout.ENV_OUTPUT_BUCKET)
    logger.append_keys(run_id=run)

    error = dict(event.get("error") or {})
    if error.get("Error") in JOB_FAILED_ERRORS and event.get("job_name"):
        error["FailureReason"] = job_failure_reason(str(error["Error"]), event["job_name"])
    error_type, reason = describe_error(step, error)
    document = error_report(step, reason, event.get("input"), error_type, run_id=run)
    key = layout.report_prefix(dataset, run) + layout.ERROR_FILE
    location = s3.put_json(output_bucket, key, document)

    logger.error(
        "Run failed",
        extra={"step": step, "error_type": error_type, "reason": reason, "error_report": location},
    )
    return {"step": step, "error_type": error_type, "reason": reason, "error_report": location}


def _report_ended_execution(detail: dict[str, Any]) -> dict[str, Any]:
    """Write `error.json` for an execution that ended without passing the failure step."""
    execution_input = json.loads(detail.get("input") or "{}")
    run = execution_input.get("run_id") or detail.get("name")
    dataset = execution_input.get("dataset") or layout.FALLBACK_STEM
    output_bucket = layout.required_env(layout.ENV_OUTPUT_BUCKET)
    key = layout.report_prefix(dataset, run) + layout.ERROR_FILE
    try:
        existing = s3.head(output_bucket, key)
    except ClientError as error:
        # Writing a second report is better than losing the only one, so carry on.
        logger.warning(
            "Could not check for an error report", extra={"key": key, "error": str(error)}
        )
        existing = None
    if existing is not None:
        logger.info("The run's error report exists", extra={"run_id": run, "key": key})
        return {"status": "exists", "error_report": s3.uri(output_bucket, key)}

    status = detail.get("status", "FAILED")
    if status == "TIMED_OUT":
        error = {"Error": "States.Timeout", "Cause": ""}
    elif status == "ABORTED":
        error = {
            "Error": "ExecutionAborted",
            "Cause": f"The execution {detail.get('executionArn')} was stopped before it ended.",
        }
    else:
        error = {"Error": detail.get("error") or "ExecutionFailed", "Cause": detail.get("cause")}
    return _write_report(
        {
            "run_id": run,
            "dataset": dataset,
            "input": execution_input.get("input"),
            "step": "run",
            "error": error,
        }
    )


def describe_error(step: str, error: dict[str, Any]) -> tuple[str, str]:
    """Turn a Step Functions error into an error type and a plain reason for `error.json`.

    Args:
        step: The pipeline step that failed.
        error: `{"Error": name, "Cause": text}` as a Catch stores it, plus `FailureReason` for
            a failed SageMaker job when it could be read.

    Returns:
        The error type (a synthcare exception name where one applies) and the reason.
    """
    name = str(error.get("Error") or "UnknownError")
    cause = error.get("Cause")
    cause_text = "" if cause is None else str(cause)

    lambda_error = _parse_lambda_error(cause_text)
    if lambda_error is not None:
        error_type, message = lambda_error
        if error_type in USER_ERROR_TYPES:
            return error_type, _truncate(message)
        return error_type, _truncate(
            f"The {step} step failed unexpectedly ({error_type}: {message}). "
            "See the function's log for details, then upload the file again."
        )

    if name in JOB_FAILED_ERRORS:
        error_type = JOB_FAILED_ERRORS[name][0]
        failure_reason = str(error.get("FailureReason") or "").strip()
        if not failure_reason:
            return error_type, _truncate(
                f"{cause_text.strip()} SageMaker gave no failure reason; see the job's logs in "
                "CloudWatch under /aws/sagemaker/."
            )
        match = _ALGORITHM_ERROR.match(failure_reason)
        return error_type, _truncate(match.group(1).strip() if match else failure_reason)

    if name == "States.Timeout":
        subject = "The run" if step == "run" else f"The {step} step"
        return "Timeout", (
            f"{subject} timed out. Large tables take longer: upload a smaller extract, or "
            "raise the timeout in the deployment."
        )

    detail = f": {cause_text.strip()}" if cause_text.strip() else ""
    return name, _truncate(
        f"The {step} step failed with {name}{detail}. Upload the file again; if it fails again, "
        "see the execution history in the Step Functions console."
    )


def job_failure_reason(error_name: str, job_name: str) -> str | None:
    """Return the `FailureReason` of the run's failed SageMaker job, or None if unavailable."""
    _, operation, name_parameter = JOB_FAILED_ERRORS[error_name]
    try:
        description = getattr(boto3.client("sagemaker"), operation)(**{name_parameter: job_name})
    except (BotoCoreError, ClientError) as error:
        logger.warning(
            "Could not read the job's failure reason", extra={"job": job_name, "error": str(error)}
        )
        return None
    return description.get("FailureReason")


def _parse_lambda_error(cause: str) -> tuple[str, str] | None:
    """Return `(errorType, errorMessage)` from a Lambda function error cause, if it is one."""
    try:
        document = json.loads(cause)
    except (TypeError, ValueError):
        return None
    if not isinstance(document, dict) or "errorMessage" not in document:
        return None
    return str(document.get("errorType") or "Error"), str(document["errorMessage"])


def _truncate(text: str) -> str:
    if len(text) <= MAX_REASON_CHARS:
        return text
    return text[: MAX_REASON_CHARS - 1] + "…"
