"""Publish step: write report.json, report.html and, if the privacy gate passed, synthetic.csv.

Environment variables: `ARTIFACTS_BUCKET`, `OUTPUT_BUCKET`, `POWERTOOLS_SERVICE_NAME`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger

from functions.common import artifacts, layout, s3
from synthcare import steps
from synthcare.errors import SynthcareError
from synthcare.report import build_report, read_synthetic_csv, render_html, synthetic_csv_text

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Build the report of a run and write it to `reports/<dataset>/<run_id>/`.

    Event: `{"run_id", "dataset", "input", "model_artifacts"}`. The synthetic table is withheld
    when the privacy gate failed; `report.json` then gives the gate's reason.

    Returns:
        A summary: status, report and synthetic table URIs, headline scores.

    Raises:
        SynthcareError: An artifact of an earlier step is missing or unreadable.
    """
    run = event["run_id"]
    dataset = event["dataset"]
    artifacts_bucket = layout.required_env(layout.ENV_ARTIFACTS_BUCKET)
    output_bucket = layout.required_env(layout.ENV_OUTPUT_BUCKET)
    logger.append_keys(run_id=run)

    try:
        with tempfile.TemporaryDirectory(prefix="synthcare-publish-") as scratch:
            scratch_dir = Path(scratch)
            prepared = artifacts.load_prepared(artifacts_bucket, run, scratch_dir)
            model = artifacts.load_model(event["model_artifacts"], scratch_dir)
        evaluation = _load_evaluation(artifacts_bucket, run, prepared)
        generation = s3.get_json(artifacts_bucket, layout.request_key(run))
        report = build_report(prepared, model, evaluation, generation=generation)
        html = render_html(report, prepared.table, evaluation.synthetic)
    except SynthcareError as error:
        logger.warning(
            "Publishing failed", extra={"error_type": type(error).__name__, "reason": str(error)}
        )
        raise

    prefix = layout.report_prefix(dataset, run)
    synthetic_uri = None
    if evaluation.published:
        synthetic_uri = s3.put_text(
            output_bucket,
            prefix + layout.SYNTHETIC_FILE,
            synthetic_csv_text(evaluation.synthetic, prepared.schema),
            "text/csv",
        )
    report_uri = s3.put_json(output_bucket, prefix + layout.REPORT_JSON_FILE, report)
    html_uri = s3.put_text(output_bucket, prefix + layout.REPORT_HTML_FILE, html, "text/html")

    summary = {
        "run_id": run,
        "status": report["status"],
        "report_json": report_uri,
        "report_html": html_uri,
        "synthetic_csv": synthetic_uri,
        "ks_mean_complement": report["summary"]["ks_mean_complement"],
        "privacy_gate_reason": evaluation.results["privacy"]["gate"]["reason"],
    }
    logger.info("Published the report", extra=summary)
    return summary


def _load_evaluation(bucket: str, run: str, prepared: steps.Prepared) -> steps.Evaluation:
    prefix = layout.evaluation_prefix(run)
    results = s3.get_json(bucket, prefix + layout.EVALUATION_FILE)
    synthetic = read_synthetic_csv(
        s3.get_bytes(bucket, prefix + layout.SYNTHETIC_FILE), prepared.schema
    )
    return steps.Evaluation(synthetic, results)
