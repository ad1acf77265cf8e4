"""Constants and helpers shared by the handler tests (imported by name: keep it unique)."""

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
RA_TABLE = DATA / "ra_like_60.csv"
CASES = DATA / "cases"

REGION = "us-east-1"
INGEST = "synthcare-ingest-test"
ARTIFACTS = "synthcare-artifacts-test"
OUTPUT = "synthcare-output-test"

TEST_ENVIRON = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "INGEST_BUCKET": INGEST,
    "ARTIFACTS_BUCKET": ARTIFACTS,
    "OUTPUT_BUCKET": OUTPUT,
    "POWERTOOLS_SERVICE_NAME": "synthcare-test",
}


def upload(s3, path: Path, key: str) -> dict:
    """Put a local file into the ingest bucket; return the execution input's `input` field."""
    response = s3.put_object(Bucket=INGEST, Key=key, Body=path.read_bytes())
    return {"bucket": INGEST, "key": key, "version_id": response["VersionId"]}


def execution_input(source: dict, run_id: str = "ra-like-60-0123456789abcdef") -> dict:
    return {"run_id": run_id, "dataset": "ra-like-60", "input": source}


@dataclass
class TrainedArtifacts:
    """What the SageMaker jobs would write for the RA-like table: model archive and a sampler."""

    archive: bytes
    model: object

    def generated_csv(self, rows: int, seed: int) -> str:
        from synthcare import steps
        from synthcare.report import synthetic_csv_text

        synthetic = steps.generate(self.model, rows=rows, seed=seed)
        return synthetic_csv_text(synthetic, self.model.schema)
