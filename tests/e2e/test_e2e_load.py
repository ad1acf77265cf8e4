"""Twenty uploads at once: twenty independent runs, nothing lost and nothing mixed up.

GIVEN the stack running in moto
WHEN twenty different tables are uploaded and their events delivered from twenty threads
THEN twenty executions succeed, and each report describes its own upload (SHA-256, name, rows)
and each generated table has its own upload's row count and columns.
"""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from harness import TEST_DATA, Pipeline, Run, finish, start_many

UPLOADS = 20
# Eight columns and 21 to 40 rows keep twenty runs within about a minute on two cores, and the
# distinct row counts make a mix-up between runs visible.
COLUMNS = 8
FIRST_ROWS = 21


def load_tables() -> list[tuple[str, bytes]]:
    """Return twenty distinct tables cut from the RA-like table, with their upload keys."""
    lines = (TEST_DATA / "ra_like_60.csv").read_text(encoding="utf-8").splitlines()
    cells = [line.split(",")[:COLUMNS] for line in lines]
    tables = []
    for index in range(UPLOADS):
        rows = [cells[0], *cells[1 : 1 + FIRST_ROWS + index]]
        text = "\n".join(",".join(row) for row in rows) + "\n"
        tables.append((f"incoming/load_{index:02d}.csv", text.encode("utf-8")))
    return tables


@dataclass
class LoadResult:
    """The twenty runs and what the trigger returned when each event came a second time."""

    runs: list[Run]
    repeats: list[dict[str, Any]]


@pytest.fixture(scope="module")
def load(pipeline: Pipeline) -> LoadResult:
    runs = start_many(pipeline, load_tables(), threads=UPLOADS)
    # EventBridge may deliver any event twice, so repeat all twenty at once while the runs go.
    events = [pipeline.object_created_event(run.upload) for run in runs]
    with ThreadPoolExecutor(max_workers=UPLOADS) as pool:
        repeats = list(pool.map(pipeline.deliver, events))
    # Generous: about a minute on an idle two-core machine, several when it is shared.
    finish(pipeline, runs, timeout=600.0)
    return LoadResult(runs, repeats)


@pytest.fixture(scope="module")
def load_runs(load: LoadResult) -> list[Run]:
    return load.runs


def rows_of(run: Run) -> int:
    return run.upload.body.decode("utf-8").count("\n") - 1


def test_load_every_run_succeeds(pipeline: Pipeline, load_runs: list[Run]) -> None:
    failed = [run for run in load_runs if run.status != "SUCCEEDED"]
    details = "\n\n".join(pipeline.explain(run.execution_arn) for run in failed)
    assert not failed, f"{len(failed)} of {UPLOADS} runs did not succeed:\n{details}"


def test_load_one_execution_per_upload(pipeline: Pipeline, load_runs: list[Run]) -> None:
    names = sorted(execution["name"] for execution in pipeline.executions())
    assert names == sorted(run.run_id for run in load_runs)
    assert len(set(names)) == UPLOADS


def test_load_repeated_events_start_nothing(pipeline: Pipeline, load: LoadResult) -> None:
    for run, repeat in zip(load.runs, load.repeats, strict=True):
        if repeat["status"] == "duplicate":
            assert repeat["run_id"] == run.run_id
        else:
            # StartExecution with the name and input of a running execution returns that one.
            assert repeat.get("execution_arn") == run.execution_arn, repeat
    assert len(pipeline.executions()) == UPLOADS


def test_load_inputs_match_uploads(load_runs: list[Run]) -> None:
    for run in load_runs:
        assert run.input["input"] == {
            "bucket": run.upload.bucket,
            "key": run.upload.key,
            "version_id": run.upload.version_id,
        }


def test_load_reports_match_uploads(pipeline: Pipeline, load_runs: list[Run]) -> None:
    for run in load_runs:
        report = json.loads(
            pipeline.read(pipeline.output_bucket, f"{run.report_prefix}report.json")
        )
        name = run.upload.key.removeprefix("incoming/")
        assert report["input"]["sha256"] == run.upload_sha256, name
        assert report["input"]["name"] == name
        assert report["input"]["rows"] == rows_of(run), name
        assert report["input"]["columns"] == COLUMNS, name


def test_load_generated_tables_match_uploads(pipeline: Pipeline, load_runs: list[Run]) -> None:
    header = (TEST_DATA / "ra_like_60.csv").read_text(encoding="utf-8").splitlines()[0]
    for run in load_runs:
        generated = pipeline.read(
            pipeline.artifacts_bucket, f"runs/{run.run_id}/generated/request.json.out"
        )
        table = pd.read_csv(io.BytesIO(generated))
        assert len(table) == rows_of(run), run.upload.key
        assert set(table.columns) <= set(header.split(",")[:COLUMNS]), run.upload.key


def test_load_reports_all_published(pipeline: Pipeline, load_runs: list[Run]) -> None:
    report_keys = [
        key for key in pipeline.keys(pipeline.output_bucket) if key.endswith("report.json")
    ]
    assert sorted(report_keys) == sorted(f"{run.report_prefix}report.json" for run in load_runs)


def test_load_jobs_all_completed(pipeline: Pipeline, load_runs: list[Run]) -> None:
    assert not pipeline.jobs.harness_errors
    for run in load_runs:
        for kind in ("training", "transform"):
            record = pipeline.jobs.record(kind, f"sc-{run.run_id}")
            assert record.status == "Completed", f"{kind} {record.name}: {record.failure_reason}"


def test_load_uploads_left_unchanged(pipeline: Pipeline, load_runs: list[Run]) -> None:
    for run in load_runs:
        upload = run.upload
        versions = pipeline.versions(upload.bucket, upload.key)
        assert [version["VersionId"] for version in versions] == [upload.version_id]
        assert pipeline.read(upload.bucket, upload.key, upload.version_id) == upload.body
