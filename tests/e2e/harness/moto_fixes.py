"""Two fixes that concurrent executions need: one for boto3, one for moto's interpreter.

Both change how a call is carried out, never the state machine definition:

- `boto3.client` builds clients from boto3's default session, which is not thread-safe.
  moto's interpreter calls it for every task on the execution's own thread, and the handlers
  call it for every invocation (`functions/common/s3.py`, the trigger, the failure function).
  Twenty executions creating clients at once can fail inside botocore, and the interpreter
  reports such an error as `States.Runtime`. Client creation from the default session is
  serialised with one lock; using a client stays concurrent (clients are thread-safe).
- An aws-sdk task's result is the boto3 response, whose timestamps are `datetime` objects.
  moto's history encoder turns them into ISO 8601 text, but DescribeExecution serialises the
  execution output with plain `json.dumps` and fails. The result is converted to JSON types
  the way the history encoder does it, as the real service returns JSON.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
from typing import Any
from unittest import mock

import boto3
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
)


def install(stack: contextlib.ExitStack) -> None:
    """Install both fixes, which `stack` removes when it closes."""
    lock = threading.RLock()
    original_client = boto3.client
    original_resource = boto3.resource

    def client(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return original_client(*args, **kwargs)

    def resource(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return original_resource(*args, **kwargs)

    stack.enter_context(mock.patch.object(boto3, "client", client))
    stack.enter_context(mock.patch.object(boto3, "resource", resource))

    aws_sdk_task = state_task_service_aws_sdk.StateTaskServiceAwsSdk
    original_eval = aws_sdk_task._eval_service_task

    def _eval_service_task(self: Any, env: Any, *args: Any, **kwargs: Any) -> None:
        original_eval(self, env, *args, **kwargs)
        env.stack.append(to_json_types(env.stack.pop()))

    stack.enter_context(mock.patch.object(aws_sdk_task, "_eval_service_task", _eval_service_task))


def to_json_types(value: Any) -> Any:
    """Return `value` with dates and datetimes replaced by their ISO 8601 text."""
    if isinstance(value, dict):
        return {key: to_json_types(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json_types(item) for item in value]
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value
