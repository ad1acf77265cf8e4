"""One upload of the 60-row RA-like table through the deployed workflow, end to end in moto.

GIVEN the synthesized stack running in moto with every task bound to the project's code
WHEN the table is uploaded and its "Object Created" event reaches the trigger (three times)
THEN one execution runs validate, training, batch transform, evaluate and publish, and the
report, the HTML page and the synthetic table land under reports/<dataset>/<run_id>/.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from harness import FAST_CONTEXT, TEST_DATA, Pipeline, Run, finish, start
from scipy.stats import ks_2samp

KEY = "incoming/ra_like_60.csv"


@dataclass
class HappyRun:
    """The run and what the trigger returned for the repeated events."""

    run: Run
    repeat_while_running: dict[str, Any]
    repeat_after_end: dict[str, Any]


@pytest.fixture(scope="module")
def happy(pipeline: Pipeline) -> HappyRun:
    body = (TEST_DATA / "ra_like_60.csv").read_bytes()
    run = start(pipeline, KEY, body)
    event = pipeline.object_created_event(run.upload)
    # EventBridge delivers at least once: the same event may arrive again at any time.
    repeat_while_running = pipeline.deliver(event)
    finish(pipeline, [run])
    repeat_after_end = pipeline.deliver(event)
    return HappyRun(run, repeat_while_running, repeat_after_end)


def output_json(pipeline: Pipeline, key: str) -> dict[str, Any]:
    return json.loads(pipeline.read(pipeline.output_bucket, key))


def test_happy_path_succeeds(pipeline: Pipeline, happy: HappyRun) -> None:
    assert happy.run.status == "SUCCEEDED", pipeline.explain(happy.run.execution_arn)


def test_run_id_follows_contract(happy: HappyRun) -> None:
    run = happy.run
    digest = hashlib.sha256((KEY + run.upload.version_id).encode("utf-8")).hexdigest()
    assert run.run_id == f"ra-like-60-{digest[:16]}"
    assert run.execution["name"] == run.run_id
    assert run.input == {
        "run_id": run.run_id,
        "dataset": "ra-like-60",
        "input": {"bucket": run.upload.bucket, "key": KEY, "version_id": run.upload.version_id},
    }


def test_report_files_published(pipeline: Pipeline, happy: HappyRun) -> None:
    keys = set(pipeline.keys(pipeline.output_bucket, happy.run.report_prefix))
    prefix = happy.run.report_prefix
    assert f"{prefix}report.json" in keys
    assert f"{prefix}report.html" in keys
    assert f"{prefix}error.json" not in keys


def test_report_describes_upload(pipeline: Pipeline, happy: HappyRun) -> None:
    report = output_json(pipeline, f"{happy.run.report_prefix}report.json")
    assert report["input"]["sha256"] == happy.run.upload_sha256
    assert report["input"]["name"] == "ra_like_60.csv"
    assert report["input"]["rows"] == 60
    assert report["model"]["name"] == FAST_CONTEXT["model"]


def test_report_html_is_page(pipeline: Pipeline, happy: HappyRun) -> None:
    html = pipeline.read(pipeline.output_bucket, f"{happy.run.report_prefix}report.html")
    assert html.lstrip().lower().startswith(b"<!doctype html")
    assert b"ra_like_60.csv" in html


def test_synthetic_table_published(pipeline: Pipeline, happy: HappyRun) -> None:
    report = output_json(pipeline, f"{happy.run.report_prefix}report.json")
    gate = report["privacy"]["gate"]
    keys = pipeline.keys(pipeline.output_bucket, happy.run.report_prefix)
    assert gate["passed"], f"the privacy gate withheld synthetic.csv: {gate['reason']}"
    assert f"{happy.run.report_prefix}synthetic.csv" in keys


def assert_report_ks_matches(pipeline: Pipeline, run: Run, synthetic_csv: bytes) -> None:
    """Recompute every reported KS statistic with scipy from `synthetic_csv`."""
    report = output_json(pipeline, f"{run.report_prefix}report.json")
    synthetic = pd.read_csv(io.BytesIO(synthetic_csv))
    # The real side is the table as the validate step prepared it (types resolved).
    real = pd.read_parquet(
        io.BytesIO(
            pipeline.read(pipeline.artifacts_bucket, f"runs/{run.run_id}/prepared/table.parquet")
        )
    )
    ks_columns = [item for item in report["fidelity"]["columns"] if item["metric"] == "ks"]
    assert ks_columns, "the report has no KS column"

    for item in ks_columns:
        column = item["column"]
        real_values = pd.to_numeric(real[column], errors="coerce").dropna().astype(float)
        synthetic_values = pd.to_numeric(synthetic[column], errors="coerce").dropna().astype(float)
        expected = ks_2samp(real_values, synthetic_values)
        assert item["statistic"] == pytest.approx(expected.statistic, abs=1e-12), column
        assert item["p_value"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-12), column
        assert item["score"] == pytest.approx(1.0 - expected.statistic, abs=1e-12), column


def test_report_ks_matches_published_table(pipeline: Pipeline, happy: HappyRun) -> None:
    # GIVEN the published report and the synthetic table beside it
    prefix = happy.run.report_prefix
    if f"{prefix}synthetic.csv" not in pipeline.keys(pipeline.output_bucket, prefix):
        gate = output_json(pipeline, f"{prefix}report.json")["privacy"]["gate"]
        pytest.fail(f"no synthetic.csv to check: {gate['reason']}")
    # WHEN the KS statistics are recomputed with scipy THEN they equal the reported ones
    published = pipeline.read(pipeline.output_bucket, f"{prefix}synthetic.csv")
    assert_report_ks_matches(pipeline, happy.run, published)


def test_report_ks_matches_evaluated_table(pipeline: Pipeline, happy: HappyRun) -> None:
    # The evaluate step keeps the table it scored (exact copies replaced) in the artifacts
    # bucket, whether or not the privacy gate lets it be published.
    evaluated = pipeline.read(
        pipeline.artifacts_bucket, f"runs/{happy.run.run_id}/evaluation/synthetic.csv"
    )
    assert_report_ks_matches(pipeline, happy.run, evaluated)


def test_upload_left_unchanged(pipeline: Pipeline, happy: HappyRun) -> None:
    upload = happy.run.upload
    versions = pipeline.versions(upload.bucket, upload.key)
    assert [version["VersionId"] for version in versions] == [upload.version_id]
    assert pipeline.read(upload.bucket, upload.key, upload.version_id) == upload.body


def test_repeated_event_starts_one_execution(pipeline: Pipeline, happy: HappyRun) -> None:
    executions = pipeline.executions()
    assert [execution["name"] for execution in executions] == [happy.run.run_id]
    # While the run is going, StartExecution with the same name and input returns it again.
    assert happy.repeat_while_running.get("execution_arn") == happy.run.execution_arn
    assert happy.repeat_after_end == {"status": "duplicate", "run_id": happy.run.run_id}


def test_training_job_ran_container_code(pipeline: Pipeline, happy: HappyRun) -> None:
    job_name = f"sc-{happy.run.run_id}"
    record = pipeline.jobs.record("training", job_name)
    assert record.status == "Completed", record.log[-2000:]
    assert "training job finished" in record.log
    described = pipeline.clients["sagemaker"].describe_training_job(TrainingJobName=job_name)
    artifact = described["ModelArtifacts"]["S3ModelArtifacts"]
    bucket, _, key = artifact.removeprefix("s3://").partition("/")
    with tarfile.open(fileobj=io.BytesIO(pipeline.read(bucket, key)), mode="r:gz") as tar:
        assert {"model.pkl", "model.json"} <= set(tar.getnames())


def test_transform_job_wrote_generated_table(pipeline: Pipeline, happy: HappyRun) -> None:
    job_name = f"sc-{happy.run.run_id}"
    record = pipeline.jobs.record("transform", job_name)
    assert record.status == "Completed", record.log[-2000:]
    generated = pipeline.read(
        pipeline.artifacts_bucket, f"runs/{happy.run.run_id}/generated/request.json.out"
    )
    table = pd.read_csv(io.BytesIO(generated))
    assert len(table) == 60
    assert "POST /invocations" in record.log


def test_handlers_ran_in_process(pipeline: Pipeline, happy: HappyRun) -> None:
    called = {invocation.function_name for invocation in pipeline.router.invocations}
    for step in ("Trigger", "Validate", "Evaluate", "Publish"):
        assert any(step in name for name in called), f"no {step} invocation in {sorted(called)}"
    assert not any("Failure" in name for name in called)
    assert all(invocation.error_type is None for invocation in pipeline.router.invocations)


def test_execution_ran_synthesized_definition(pipeline: Pipeline, happy: HappyRun) -> None:
    described = pipeline.clients["stepfunctions"].describe_state_machine_for_execution(
        executionArn=happy.run.execution_arn
    )
    assert described["definition"] == pipeline.definition
