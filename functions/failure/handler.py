"""Failure step: write `error.json` for a run that a Catch in the state machine stopped.

Environment variables: `OUTPUT_BUCKET`, `POWERTOOLS_SERVICE_NAME`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aws_lambda_powertools import Logger

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

# The error names the state machine sets for SageMaker jobs that end as Failed or Stopped.
JOB_FAILED_ERRORS = {
    "SageMaker.TrainingJobFailed": "TrainingError",
    "SageMaker.TransformJobFailed": "GenerationError",
}

# SageMaker reports an algorithm failure as "AlgorithmError: <failure file>, exit code: <n>".
_ALGORITHM_ERROR = re.compile(
    r"^(?:AlgorithmError|ClientError):\s*(.*?)(?:,\s*exit code:\s*\d+)?$", re.S
)
MAX_REASON_CHARS = 4000


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Write `reports/<dataset>/<run_id>/error.json` to the output bucket.

    Event: `{"run_id", "dataset", "input", "step", "error": {"Error", "Cause"}}`, where `error`
    is what a Catch stored, or what the state machine built from a failed SageMaker job.

    Returns:
        The failed step, error type, reason and the URI of `error.json`.
    """
    run = event.get("run_id")
    dataset = event.get("dataset") or layout.FALLBACK_STEM
    step = event.get("step") or "unknown"
    output_bucket = layout.bucket_from_env(layout.ENV_OUTPUT_BUCKET)
    logger.append_keys(run_id=run)

    error_type, reason = describe_error(step, event.get("error") or {})
    document = error_report(step, reason, event.get("input"), error_type, run_id=run)
    key = layout.report_prefix(dataset, run) + layout.ERROR_FILE
    location = s3.put_json(output_bucket, key, document)

    logger.error(
        "Run failed",
        extra={"step": step, "error_type": error_type, "reason": reason, "error_report": location},
    )
    return {"step": step, "error_type": error_type, "reason": reason, "error_report": location}


def describe_error(step: str, error: dict[str, Any]) -> tuple[str, str]:
    """Turn a Step Functions error into an error type and a plain reason for `error.json`.

    Args:
        step: The pipeline step that failed.
        error: `{"Error": name, "Cause": text}` as a Catch stores it.

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
        match = _ALGORITHM_ERROR.match(cause_text.strip())
        message = match.group(1).strip() if match else cause_text.strip()
        return JOB_FAILED_ERRORS[name], _truncate(message or f"The {step} job failed.")

    if name == "States.Timeout":
        return "Timeout", (
            f"The {step} step timed out. Large tables take longer: upload a smaller extract, or "
            "raise the step's timeout in the deployment."
        )

    detail = f": {cause_text.strip()}" if cause_text.strip() else ""
    return name, _truncate(
        f"The {step} step failed with {name}{detail}. Upload the file again; if it fails again, "
        "see the execution history in the Step Functions console."
    )


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
