"""Start one workflow execution per uploaded table, from an EventBridge S3 "Object Created" event.

Environment variables: `STATE_MACHINE_ARN`, `POWERTOOLS_SERVICE_NAME`.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from functions.common import layout

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Start the execution named after the upload's run id, unless it already exists.

    The execution name makes the start idempotent. A repeated event for the same object version
    gets the running execution back from Step Functions, or `ExecutionAlreadyExists` once that
    execution has ended, which is logged and not raised. Metadata sidecars (`*.metadata.json`),
    folder markers and keys outside `incoming/` start nothing.

    Returns:
        `{"status": "started" | "duplicate" | "ignored", ...}` with the run id when one applies.

    Raises:
        ValueError: The event is not an S3 "Object Created" event.
    """
    detail = event.get("detail") or {}
    try:
        bucket = detail["bucket"]["name"]
        key = detail["object"]["key"]
    except (KeyError, TypeError):
        raise ValueError(
            "Invalid trigger event: expected an EventBridge S3 'Object Created' event with "
            "detail.bucket.name and detail.object.key."
        ) from None
    version_id = detail["object"].get("version-id")

    if (
        layout.is_metadata_key(key)
        or key.endswith("/")
        or not key.startswith(layout.INCOMING_PREFIX)
    ):
        logger.info("Ignored an object that is not an upload", extra={"bucket": bucket, "key": key})
        return {"status": "ignored", "key": key}

    run = layout.run_id(key, version_id)
    execution_input = {
        "run_id": run,
        "dataset": layout.dataset_name(key),
        "input": {"bucket": bucket, "key": key, "version_id": version_id},
    }
    state_machine_arn = layout.required_env(layout.ENV_STATE_MACHINE_ARN)
    stepfunctions = boto3.client("stepfunctions")
    try:
        response = stepfunctions.start_execution(
            stateMachineArn=state_machine_arn, name=run, input=json.dumps(execution_input)
        )
    except stepfunctions.exceptions.ExecutionAlreadyExists:
        logger.info(
            "Execution already exists for this upload; the event is a repeat",
            extra={"run_id": run, "key": key, "version_id": version_id},
        )
        return {"status": "duplicate", "run_id": run}

    logger.info(
        "Started execution",
        extra={"run_id": run, "key": key, "execution_arn": response["executionArn"]},
    )
    return {"status": "started", "run_id": run, "execution_arn": response["executionArn"]}
