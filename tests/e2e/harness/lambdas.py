"""Run the real handlers in `functions/` when moto's Lambda service is invoked.

moto's Lambda without Docker returns a canned payload and never runs the function's code. The
router below replaces the backend's `invoke` so that an invocation of one of the stack's
functions imports the handler named by the function's image command and calls it in this
process, with a Lambda-like context object. Error payloads follow the Python runtime's format
(`errorMessage`, `errorType`, `stackTrace`) with the `X-Amz-Function-Error: Unhandled` header,
so the state machine's Retry and Catch see what they would see on AWS.
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from moto.awslambda.models import LambdaBackend

logger = logging.getLogger(__name__)


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "e2e"
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        """Return the milliseconds left before the function's timeout."""
        elapsed = time.monotonic() - self.started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


@dataclass
class FunctionBinding:
    """One Lambda function of the stack and the handler its image command names.

    Attributes:
        function_name: Physical name of the moto function.
        function_arn: Its ARN.
        command: The image command, `package.module.attribute`.
        memory_mb: The function's MemorySize.
        timeout_seconds: The function's Timeout.
    """

    function_name: str
    function_arn: str
    command: str
    memory_mb: int
    timeout_seconds: int
    handler: Callable[[Any, Any], Any] | None = None
    # One invocation at a time per function: on AWS every concurrent invocation has its own
    # process, so module globals (clients, loggers, matplotlib state) are never shared. Here
    # they would be, so the router serialises calls of the same handler.
    lock: threading.Lock = field(default_factory=threading.Lock)

    def load(self) -> None:
        """Import the handler module and look up the handler attribute."""
        module_name, attribute = self.command.rsplit(".", 1)
        module = importlib.import_module(module_name)
        self.handler = getattr(module, attribute)


@dataclass(frozen=True)
class Invocation:
    """A record of one handler call, for assertions and for debugging a failed run."""

    function_name: str
    request_id: str
    seconds: float
    error_type: str | None


class LambdaRouter:
    """Route moto Lambda invocations of the stack's functions to their handlers."""

    def __init__(self) -> None:
        self._bindings: dict[str, FunctionBinding] = {}
        self._invocations: list[Invocation] = []
        self._record_lock = threading.Lock()

    def add(self, binding: FunctionBinding) -> None:
        """Register a function and import its handler now, on the calling thread."""
        binding.load()
        self._bindings[binding.function_name] = binding

    @property
    def invocations(self) -> list[Invocation]:
        """Handler calls so far, in the order they finished."""
        with self._record_lock:
            return list(self._invocations)

    def patch(self) -> mock._patch:
        """Return a patcher that replaces `LambdaBackend.invoke` (and its subclasses')."""
        router = self

        def invoke(
            backend: LambdaBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            function = backend.get_function(function_name, qualifier)
            payload = router.call(function.function_name, body, headers, response_headers)
            response_headers["Content-Length"] = str(len(payload))
            return payload

        return mock.patch.object(LambdaBackend, "invoke", invoke)

    def call(
        self, function_name: str, body: Any, headers: Any, response_headers: dict[str, str]
    ) -> bytes:
        """Call the handler of `function_name` and return the invocation's response payload."""
        binding = self._bindings.get(function_name)
        request_id = str(uuid.uuid4())
        if binding is None or binding.handler is None:
            response_headers["x-amz-function-error"] = "Unhandled"
            return _error_payload(
                "Runtime.HandlerNotFound",
                f"No handler is bound to function {function_name}.",
                request_id,
                [],
            )

        if isinstance(body, bytes):
            body = body.decode("utf-8")
        event = json.loads(body) if body else {}
        context = LambdaContext(
            function_name=binding.function_name,
            invoked_function_arn=binding.function_arn,
            memory_limit_in_mb=binding.memory_mb,
            timeout_seconds=binding.timeout_seconds,
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{binding.function_name}",
        )
        error_type: str | None = None
        with binding.lock:
            started = time.monotonic()
            try:
                result = binding.handler(event, context)
                payload = json.dumps(result).encode("utf-8")
            except Exception as err:  # noqa: BLE001 - every handler error becomes a payload
                error_type = type(err).__name__
                response_headers["x-amz-function-error"] = "Unhandled"
                payload = _error_payload(
                    error_type, str(err), request_id, traceback.format_tb(err.__traceback__)
                )
            seconds = time.monotonic() - started

        if error_type is None and seconds > binding.timeout_seconds:
            # Lambda would have stopped the function. A thread cannot be stopped, so the result
            # is replaced by the runtime's timeout error after the fact.
            error_type = "Sandbox.Timedout"
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = _error_payload(
                error_type,
                f"Task timed out after {binding.timeout_seconds:.2f} seconds",
                request_id,
                [],
            )
        with self._record_lock:
            self._invocations.append(
                Invocation(binding.function_name, request_id, seconds, error_type)
            )
        if error_type is not None:
            logger.info("function %s request %s failed: %s", function_name, request_id, payload)
        return payload


def _error_payload(error_type: str, message: str, request_id: str, stack: list[str]) -> bytes:
    document = {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack,
    }
    return json.dumps(document).encode("utf-8")
