"""Runs that must fail: each ends with error.json naming the step and reason, upload intact.

GIVEN the stack running in moto
WHEN a binary file, a one-row table and a table whose prepared copy is damaged before training
are uploaded at the same time
THEN each execution ends FAILED through the failure path, error.json in the output bucket names
the failed step and a plain reason, and the upload keeps its bytes and its single version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from harness import TEST_DATA, Pipeline, Run, finish, start_many


@dataclass(frozen=True)
class FailureCase:
    """An upload and the error report it must produce."""

    key: str
    body: bytes
    step: str
    error_types: tuple[str, ...]
    reason_words: tuple[str, ...]


BROKEN_TRAINING_KEY = "incoming/broken_training.csv"

CASES = {
    "binary": FailureCase(
        key="incoming/not_a_table.csv",
        body=(TEST_DATA / "cases" / "not_a_table.csv").read_bytes(),
        step="validate",
        error_types=("InputError",),
        reason_words=("not_a_table.csv",),
    ),
    "too_few_rows": FailureCase(
        key="incoming/single_row.csv",
        body=(TEST_DATA / "cases" / "single_row.csv").read_bytes(),
        step="validate",
        # LimitError is the InputError subclass for limits, and either names the cause.
        error_types=("InputError", "LimitError"),
        reason_words=("row",),
    ),
    "training": FailureCase(
        key=BROKEN_TRAINING_KEY,
        body=(TEST_DATA / "ra_like_60.csv").read_bytes(),
        step="train",
        error_types=("TrainingError",),
        reason_words=("parquet",),
    ),
}


def damage_prepared_table(job: Any, s3: Any) -> None:
    """Overwrite the run's prepared table with bytes that are not Parquet."""
    channel = job.input_data_config[0]["DataSource"]["S3DataSource"]["S3Uri"]
    bucket, _, prefix = channel.removeprefix("s3://").partition("/")
    s3.write(bucket, f"{prefix}table.parquet", b"this is not a parquet file\n")


@pytest.fixture(scope="module")
def failed_runs(pipeline: Pipeline) -> dict[str, Run]:
    # Training jobs are named sc-<run_id>, and a run id starts with the upload's S3-safe stem.
    pipeline.jobs.before_training("sc-broken-training-", damage_prepared_table)
    runs = start_many(pipeline, [(case.key, case.body) for case in CASES.values()])
    finish(pipeline, runs)
    return dict(zip(CASES, runs, strict=True))


def error_report(pipeline: Pipeline, run: Run) -> dict[str, Any]:
    return json.loads(pipeline.read(pipeline.output_bucket, f"{run.report_prefix}error.json"))


@pytest.mark.parametrize("case", list(CASES))
def test_failed_run_ends_failed(pipeline: Pipeline, failed_runs: dict[str, Run], case: str) -> None:
    run = failed_runs[case]
    assert run.status == "FAILED", pipeline.explain(run.execution_arn)
    assert run.execution.get("error") == "SynthcareRunFailed"


@pytest.mark.parametrize("case", list(CASES))
def test_error_report_names_step(
    pipeline: Pipeline, failed_runs: dict[str, Run], case: str
) -> None:
    run = failed_runs[case]
    report = error_report(pipeline, run)
    assert report["status"] == "failed"
    assert report["step"] == CASES[case].step, report
    assert report["error_type"] in CASES[case].error_types, report
    assert report["run_id"] == run.run_id
    assert report["created_at"]


@pytest.mark.parametrize("case", list(CASES))
def test_error_report_gives_reason(
    pipeline: Pipeline, failed_runs: dict[str, Run], case: str
) -> None:
    reason = error_report(pipeline, failed_runs[case])["reason"]
    for word in CASES[case].reason_words:
        assert word in reason.lower(), reason
    assert "Traceback" not in reason
    assert len(reason.splitlines()) == 1, reason


@pytest.mark.parametrize("case", list(CASES))
def test_error_report_points_at_upload(
    pipeline: Pipeline, failed_runs: dict[str, Run], case: str
) -> None:
    run = failed_runs[case]
    assert error_report(pipeline, run)["input"] == {
        "bucket": run.upload.bucket,
        "key": run.upload.key,
        "version_id": run.upload.version_id,
    }


@pytest.mark.parametrize("case", list(CASES))
def test_failed_run_publishes_no_report(
    pipeline: Pipeline, failed_runs: dict[str, Run], case: str
) -> None:
    run = failed_runs[case]
    keys = pipeline.keys(pipeline.output_bucket, run.report_prefix)
    assert keys == [f"{run.report_prefix}error.json"]


@pytest.mark.parametrize("case", list(CASES))
def test_failed_run_keeps_upload(
    pipeline: Pipeline, failed_runs: dict[str, Run], case: str
) -> None:
    upload = failed_runs[case].upload
    versions = pipeline.versions(upload.bucket, upload.key)
    assert [version["VersionId"] for version in versions] == [upload.version_id]
    assert pipeline.read(upload.bucket, upload.key, upload.version_id) == upload.body


def test_training_failure_comes_from_container(
    pipeline: Pipeline, failed_runs: dict[str, Run]
) -> None:
    # The FailureReason is what the train program wrote to output/failure, not harness text.
    job_name = f"sc-{failed_runs['training'].run_id}"
    record = pipeline.jobs.record("training", job_name)
    described = pipeline.clients["sagemaker"].describe_training_job(TrainingJobName=job_name)
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith("AlgorithmError: ")
    assert "training failed" in record.log
    reason = error_report(pipeline, failed_runs["training"])["reason"]
    assert reason in described["FailureReason"]


def test_validate_failures_start_no_job(pipeline: Pipeline, failed_runs: dict[str, Run]) -> None:
    names = {record.name for record in pipeline.jobs.records()}
    assert f"sc-{failed_runs['binary'].run_id}" not in names
    assert f"sc-{failed_runs['too_few_rows'].run_id}" not in names
