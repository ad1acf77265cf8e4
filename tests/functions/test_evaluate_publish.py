import json

import pytest
from function_support import ARTIFACTS, OUTPUT, RA_TABLE, execution_input, upload

from functions.common import layout
from functions.evaluate.handler import handler as evaluate
from functions.publish.handler import handler as publish
from functions.validate.handler import handler as validate
from synthcare.errors import GenerationError, TrainingError
from synthcare.report import read_synthetic_csv
from synthcare.steps import Prepared

RUN = "ra-like-60-0123456789abcdef"
JOB = f"sc-{RUN}"
MODEL_KEY = f"runs/{RUN}/model/{JOB}/output/model.tar.gz"
MODEL_URI = f"s3://{ARTIFACTS}/{MODEL_KEY}"
SETTINGS = {"rows": 0, "seed": 3, "hyperparameters": {"model": "gaussian_copula", "seed": "3"}}


def read(s3, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def keys(s3, bucket: str) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


@pytest.fixture
def run_after_generate(aws, lambda_context, trained_ra_model, tmp_path):
    """A run whose validate step ran for real and whose SageMaker outputs are in place.

    The training job's archive and the transform job's CSV come from the real model code
    (`steps.train`, `steps.generate`, `synthetic_csv_text`), as the container writes them.
    """
    source = upload(aws, RA_TABLE, "incoming/ra_like_60.csv")
    validate({**execution_input(source, RUN), "settings": SETTINGS}, lambda_context)

    request = json.loads(read(aws, ARTIFACTS, layout.request_key(RUN)))
    aws.put_object(Bucket=ARTIFACTS, Key=MODEL_KEY, Body=trained_ra_model.archive)
    csv_text = trained_ra_model.generated_csv(request["rows"], request["seed"])
    aws.put_object(Bucket=ARTIFACTS, Key=layout.generated_key(RUN), Body=csv_text.encode())
    return {**execution_input(source, RUN), "model_artifacts": MODEL_URI}


def test_evaluate_writes_results_and_cleaned_table(
    aws, lambda_context, run_after_generate, tmp_path
):
    summary = evaluate(run_after_generate, lambda_context)

    prefix = layout.evaluation_prefix(RUN)
    results = json.loads(read(aws, ARTIFACTS, prefix + "evaluation.json"))
    prepared_dir = tmp_path / "prepared"
    prepared_dir.mkdir()
    for name in ("table.parquet", "schema.json"):
        (prepared_dir / name).write_bytes(read(aws, ARTIFACTS, layout.prepared_prefix(RUN) + name))
    schema = Prepared.load(prepared_dir).schema
    synthetic = read_synthetic_csv(read(aws, ARTIFACTS, prefix + "synthetic.csv"), schema)

    assert set(results) >= {"fidelity", "privacy"}
    assert 0.0 <= results["fidelity"]["ks_mean_complement"] <= 1.0
    assert summary["ks_mean_complement"] == results["fidelity"]["ks_mean_complement"]
    assert summary["privacy_gate_passed"] == results["privacy"]["gate"]["passed"]
    assert summary["synthetic_rows"] == len(synthetic)
    privacy = results["privacy"]
    assert len(synthetic) == 60 - privacy["exact_copies_removed"] + privacy["exact_copies_replaced"]
    assert list(synthetic.columns) == [column.name for column in schema.columns]
    json.dumps(summary)


def test_publish_withholds_table_when_gate_fails(aws, lambda_context, run_after_generate):
    evaluate(run_after_generate, lambda_context)
    results_key = layout.evaluation_prefix(RUN) + "evaluation.json"
    results = json.loads(read(aws, ARTIFACTS, results_key))
    # The Gaussian copula on 60 rows fails the gate (DCR holdout share about 0.7). The gate is
    # set here so that the test checks the withheld case whatever the model's score.
    results["privacy"]["gate"].update(passed=False, reason="DCR holdout share above threshold")
    results["privacy"]["synthetic_rows_published"] = 0
    aws.put_object(Bucket=ARTIFACTS, Key=results_key, Body=json.dumps(results).encode())

    summary = publish(run_after_generate, lambda_context)

    prefix = layout.report_prefix("ra-like-60", RUN)
    report = json.loads(read(aws, OUTPUT, prefix + "report.json"))
    assert keys(aws, OUTPUT) == [prefix + "report.html", prefix + "report.json"]
    assert report["status"] == "withheld"
    assert report["privacy"]["gate"]["reason"] == "DCR holdout share above threshold"
    assert summary["synthetic_csv"] is None
    assert summary["status"] == "withheld"


def test_publish_writes_table_when_gate_passes(aws, lambda_context, run_after_generate):
    evaluate(run_after_generate, lambda_context)
    results_key = layout.evaluation_prefix(RUN) + "evaluation.json"
    results = json.loads(read(aws, ARTIFACTS, results_key))
    results["privacy"]["gate"].update(passed=True, reason="DCR holdout share below threshold")
    aws.put_object(Bucket=ARTIFACTS, Key=results_key, Body=json.dumps(results).encode())

    summary = publish(run_after_generate, lambda_context)

    prefix = layout.report_prefix("ra-like-60", RUN)
    report = json.loads(read(aws, OUTPUT, prefix + "report.json"))
    html = read(aws, OUTPUT, prefix + "report.html").decode()
    published = read(aws, OUTPUT, prefix + "synthetic.csv")
    cleaned = read(aws, ARTIFACTS, layout.evaluation_prefix(RUN) + "synthetic.csv")
    assert report["status"] == "published"
    assert report["generation"]["seed"] == 3
    assert report["input"]["rows"] == 60
    assert published == cleaned
    assert "<html" in html.lower()
    assert summary["synthetic_csv"] == f"s3://{OUTPUT}/{prefix}synthetic.csv"
    assert summary["report_json"] == f"s3://{OUTPUT}/{prefix}report.json"


def test_evaluate_reports_missing_model(aws, lambda_context, run_after_generate):
    aws.delete_object(Bucket=ARTIFACTS, Key=MODEL_KEY)

    with pytest.raises(TrainingError, match="no model archive"):
        evaluate(run_after_generate, lambda_context)


def test_evaluate_reports_missing_transform_output(aws, lambda_context, run_after_generate):
    aws.delete_object(Bucket=ARTIFACTS, Key=layout.generated_key(RUN))

    with pytest.raises(GenerationError, match="transform job wrote no output"):
        evaluate(run_after_generate, lambda_context)
