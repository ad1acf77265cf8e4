import io
import os
import tarfile
import tempfile
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from function_support import (
    ARTIFACTS,
    INGEST,
    OUTPUT,
    RA_TABLE,
    REGION,
    TEST_ENVIRON,
    TrainedArtifacts,
)
from moto import mock_aws

# jsii prints a banner on stderr for Node releases it no longer tests. It reads this variable
# when aws_cdk is first imported.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")


@pytest.fixture
def aws(monkeypatch):
    """moto for every AWS call in the test, with the three buckets of the pipeline."""
    for name, value in TEST_ENVIRON.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (INGEST, ARTIFACTS, OUTPUT):
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        yield s3


@pytest.fixture
def lambda_context():
    return SimpleNamespace(
        function_name="synthcare-test",
        memory_limit_in_mb=1024,
        invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:synthcare-test",
        aws_request_id="00000000-0000-0000-0000-000000000000",
    )


@pytest.fixture(scope="session")
def trained_ra_model():
    """Train the Gaussian copula once on the RA-like table, as the training job would."""
    from synthcare import steps
    from synthcare.synthesizers import TrainingConfig

    prepared = steps.validate(RA_TABLE)
    model = steps.train(prepared, TrainingConfig(model="gaussian_copula", seed=0))
    with tempfile.TemporaryDirectory() as scratch:
        model.save(scratch)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for path in sorted(Path(scratch).iterdir()):
                tar.add(path, arcname=path.name)
    return TrainedArtifacts(buffer.getvalue(), model)
