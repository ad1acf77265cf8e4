"""Evaluate step: measure fidelity and privacy of the generated table.

Environment variables: `ARTIFACTS_BUCKET`, `POWERTOOLS_SERVICE_NAME`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger

from functions.common import artifacts, layout, s3
from synthcare import steps
from synthcare.errors import SynthcareError
from synthcare.report import synthetic_csv_text

logger = Logger()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Evaluate the batch transform output against the prepared table.

    Event: `{"run_id", "dataset", "input", "model_artifacts"}`, where `model_artifacts` is the
    training job's `model.tar.gz` URI. Writes `runs/<run_id>/evaluation/evaluation.json` (the
    fidelity, privacy and gate results) and `synthetic.csv` (exact copies of real rows replaced).

    Returns:
        A summary: the headline scores and whether the privacy gate passed.

    Raises:
        SynthcareError: A file is missing or unreadable, or every synthetic row is a copy.
    """
    run = event["run_id"]
    bucket = layout.required_env(layout.ENV_ARTIFACTS_BUCKET)
    logger.append_keys(run_id=run)

    try:
        with tempfile.TemporaryDirectory(prefix="synthcare-evaluate-") as scratch:
            scratch_dir = Path(scratch)
            prepared = artifacts.load_prepared(bucket, run, scratch_dir)
            model = artifacts.load_model(event["model_artifacts"], scratch_dir)
            synthetic = artifacts.load_generated(bucket, run, prepared)
            evaluation = steps.evaluate(prepared, synthetic, model)
    except SynthcareError as error:
        logger.warning(
            "Evaluation failed", extra={"error_type": type(error).__name__, "reason": str(error)}
        )
        raise

    prefix = layout.evaluation_prefix(run)
    s3.put_json(bucket, prefix + layout.EVALUATION_FILE, evaluation.results)
    s3.put_text(
        bucket,
        prefix + layout.SYNTHETIC_FILE,
        synthetic_csv_text(evaluation.synthetic, prepared.schema),
        "text/csv",
    )

    fidelity = evaluation.results["fidelity"]
    privacy = evaluation.results["privacy"]
    summary = {
        "run_id": run,
        "model": model.info.get("model"),
        "ks_mean_complement": fidelity.get("ks_mean_complement"),
        "tv_mean_complement": fidelity.get("tv_mean_complement"),
        "exact_copies_removed": privacy["exact_copies_removed"],
        "exact_copies_replaced": privacy["exact_copies_replaced"],
        "synthetic_rows": len(evaluation.synthetic),
        "privacy_gate_passed": evaluation.published,
        "privacy_gate_reason": privacy["gate"]["reason"],
    }
    logger.info("Evaluated the synthetic table", extra=summary)
    return summary
