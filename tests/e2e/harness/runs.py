"""Upload tables, deliver their upload events and collect the finished executions."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .cloud import Pipeline, Upload


@dataclass
class Run:
    """One upload and the execution it started.

    Attributes:
        upload: The object put into the ingest bucket.
        trigger_result: What the trigger function returned for the first event.
        execution: DescribeExecution of the finished execution.
    """

    upload: Upload
    trigger_result: dict[str, Any]
    execution: dict[str, Any] | None = None

    @property
    def run_id(self) -> str:
        """Run id the trigger derived (the execution name)."""
        return str(self.trigger_result["run_id"])

    @property
    def execution_arn(self) -> str:
        """ARN of the execution the trigger started."""
        return str(self.trigger_result["execution_arn"])

    @property
    def status(self) -> str:
        """Final execution status."""
        assert self.execution is not None, "the run has not been waited for"
        return str(self.execution["status"])

    @property
    def input(self) -> dict[str, Any]:
        """The execution input."""
        assert self.execution is not None, "the run has not been waited for"
        return json.loads(self.execution["input"])

    @property
    def dataset(self) -> str:
        """Dataset name from the execution input."""
        return str(self.input["dataset"])

    @property
    def report_prefix(self) -> str:
        """`reports/<dataset>/<run_id>/` in the output bucket."""
        return f"reports/{self.dataset}/{self.run_id}/"

    @property
    def upload_sha256(self) -> str:
        """SHA-256 of the uploaded bytes."""
        return hashlib.sha256(self.upload.body).hexdigest()


def start(pipeline: Pipeline, key: str, body: bytes) -> Run:
    """Upload one table and deliver its "Object Created" event to the trigger."""
    upload = pipeline.upload(key, body)
    result = pipeline.deliver(pipeline.object_created_event(upload))
    if result.get("status") != "started":
        raise AssertionError(f"the trigger did not start a run for {key}: {result}")
    return Run(upload=upload, trigger_result=result)


def start_many(pipeline: Pipeline, tables: list[tuple[str, bytes]], threads: int = 20) -> list[Run]:
    """Upload the tables and deliver their events from `threads` threads at once."""
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="upload") as pool:
        futures = [pool.submit(start, pipeline, key, body) for key, body in tables]
        return [future.result() for future in futures]


def finish(pipeline: Pipeline, runs: list[Run], timeout: float = 240.0) -> list[Run]:
    """Wait for the runs' executions to end and store their descriptions."""
    described = pipeline.wait([run.execution_arn for run in runs], timeout=timeout)
    for run in runs:
        run.execution = described[run.execution_arn]
    return runs
