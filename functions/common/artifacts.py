"""Load the prepared table, the trained model and the generated table of a run from S3."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from functions.common import layout, s3
from synthcare import steps
from synthcare.errors import GenerationError, TrainingError
from synthcare.report import read_synthetic_csv

MODEL_ARCHIVE = "model.tar.gz"


def load_prepared(bucket: str, run: str, directory: Path) -> steps.Prepared:
    """Download `runs/<run_id>/prepared/` into `directory` and load it."""
    target = directory / "prepared"
    s3.download_prefix(bucket, layout.prepared_prefix(run), target)
    return steps.Prepared.load(target)


def load_model(model_artifacts_uri: str, directory: Path) -> steps.TrainedModel:
    """Download the training job's `model.tar.gz`, extract it and load the model.

    Raises:
        TrainingError: The archive is missing, which means the training job wrote no model.
    """
    bucket, key = s3.parse_uri(model_artifacts_uri)
    archive = directory / MODEL_ARCHIVE
    if s3.head(bucket, key) is None:
        raise TrainingError(
            f"The training job wrote no model archive at {model_artifacts_uri}: "
            "see the training job's logs and run the upload again."
        )
    s3.download(bucket, key, archive)
    model_dir = s3.extract_archive(archive, directory / "model")
    return steps.TrainedModel.load(model_dir)


def load_generated(bucket: str, run: str, prepared: steps.Prepared) -> pd.DataFrame:
    """Read the batch transform output CSV into the schema's dtypes.

    Raises:
        GenerationError: The transform job wrote no output.
    """
    key = layout.generated_key(run)
    if s3.head(bucket, key) is None:
        raise GenerationError(
            f"The transform job wrote no output at {s3.uri(bucket, key)}: "
            "see the transform job's logs and run the upload again."
        )
    return read_synthetic_csv(s3.get_bytes(bucket, key), prepared.schema)
