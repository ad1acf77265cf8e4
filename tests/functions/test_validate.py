import json

import pandas as pd
import pytest
from function_support import ARTIFACTS, CASES, INGEST, RA_TABLE, execution_input, upload

from functions.validate.handler import handler
from synthcare.errors import ConfigError, InputError

RUN = "ra-like-60-0123456789abcdef"
SETTINGS = {"rows": 0, "seed": 7, "hyperparameters": {"model": "gaussian_copula", "seed": "7"}}


def validate_event(source: dict, settings: dict | None = None) -> dict:
    return {**execution_input(source, RUN), "settings": SETTINGS if settings is None else settings}


def artifact_keys(s3) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=ARTIFACTS).get("Contents", []))


def test_validate_writes_prepared_files_and_request(aws, lambda_context, tmp_path):
    source = upload(aws, RA_TABLE, "incoming/ra_like_60.csv")

    summary = handler(validate_event(source), lambda_context)

    assert artifact_keys(aws) == [
        f"runs/{RUN}/generate/request.json",
        f"runs/{RUN}/prepared/schema.json",
        f"runs/{RUN}/prepared/table.parquet",
    ]
    request = json.loads(
        aws.get_object(Bucket=ARTIFACTS, Key=f"runs/{RUN}/generate/request.json")["Body"].read()
    )
    assert request == {"rows": 60, "seed": 7}
    parquet = tmp_path / "table.parquet"
    parquet.write_bytes(
        aws.get_object(Bucket=ARTIFACTS, Key=f"runs/{RUN}/prepared/table.parquet")["Body"].read()
    )
    table = pd.read_parquet(parquet)
    assert table.shape == (60, 17)
    assert summary["rows"] == 60
    assert summary["columns"] == 17
    assert summary["generate"] == {"rows": 60, "seed": 7}
    assert summary["metadata_used"] is False
    assert len(summary["notes"]) == min(summary["notes_total"], 20)
    json.dumps(summary)  # The state machine stores the summary, so it must be JSON.


def test_validate_uses_configured_rows(aws, lambda_context):
    source = upload(aws, RA_TABLE, "incoming/ra_like_60.csv")
    settings = {**SETTINGS, "rows": 250}

    summary = handler(validate_event(source, settings), lambda_context)

    request = json.loads(
        aws.get_object(Bucket=ARTIFACTS, Key=f"runs/{RUN}/generate/request.json")["Body"].read()
    )
    assert request == {"rows": 250, "seed": 7}
    assert summary["rows"] == 60


def test_validate_leaves_upload_unchanged(aws, lambda_context):
    source = upload(aws, RA_TABLE, "incoming/ra_like_60.csv")

    handler(validate_event(source), lambda_context)

    versions = aws.list_object_versions(Bucket=INGEST)["Versions"]
    body = aws.get_object(Bucket=INGEST, Key=source["key"])["Body"].read()
    assert [version["VersionId"] for version in versions] == [source["version_id"]]
    assert body == RA_TABLE.read_bytes()


def test_validate_reads_the_uploaded_version(aws, lambda_context, tmp_path):
    source = upload(aws, RA_TABLE, "incoming/ra_like_60.csv")
    # A later upload under the same key must not change what this run reads.
    aws.put_object(Bucket=INGEST, Key=source["key"], Body=(CASES / "five_rows.csv").read_bytes())

    summary = handler(validate_event(source), lambda_context)

    assert summary["rows"] == 60


def test_validate_applies_metadata_sidecar(aws, lambda_context):
    source = upload(aws, RA_TABLE, "incoming/ra_like_60.csv")
    metadata = {"columns": {"sex": {"sdtype": "categorical"}}}
    aws.put_object(
        Bucket=INGEST, Key="incoming/ra_like_60.csv.metadata.json", Body=json.dumps(metadata)
    )

    summary = handler(validate_event(source), lambda_context)

    document = json.loads(
        aws.get_object(Bucket=ARTIFACTS, Key=f"runs/{RUN}/prepared/schema.json")["Body"].read()
    )
    kinds = {column["name"]: column["kind"] for column in document["schema"]["columns"]}
    assert summary["metadata_used"] is True
    assert kinds["sex"] == "categorical"
    assert kinds["Age"] == "numerical"


def test_validate_rejects_invalid_metadata(aws, lambda_context):
    source = upload(aws, RA_TABLE, "incoming/ra_like_60.csv")
    aws.put_object(Bucket=INGEST, Key="incoming/ra_like_60.csv.metadata.json", Body=b"{not json")

    with pytest.raises(ConfigError):
        handler(validate_event(source), lambda_context)

    assert artifact_keys(aws) == []


@pytest.mark.parametrize("case", ["header_only.csv", "not_a_table.csv", "single_row.csv"])
def test_validate_rejects_unusable_table(aws, lambda_context, case):
    source = upload(aws, CASES / case, f"incoming/{case}")

    with pytest.raises(InputError) as raised:
        handler(validate_event(source), lambda_context)

    assert case in str(raised.value)
    assert "\n" not in str(raised.value)
    assert artifact_keys(aws) == []


def test_validate_rejects_unknown_hyperparameter(aws, lambda_context):
    source = upload(aws, RA_TABLE, "incoming/ra_like_60.csv")
    settings = {**SETTINGS, "hyperparameters": {"model": "ctgan", "learning_speed": "3"}}

    with pytest.raises(ConfigError, match="learning_speed"):
        handler(validate_event(source, settings), lambda_context)

    assert artifact_keys(aws) == []


def test_validate_reports_missing_upload(aws, lambda_context):
    source = {"bucket": INGEST, "key": "incoming/gone.csv", "version_id": None}

    with pytest.raises(InputError, match="not found"):
        handler(validate_event(source), lambda_context)


def test_validate_decodes_url_encoded_key(aws, lambda_context):
    source = upload(aws, RA_TABLE, "incoming/ra like 60.csv")
    encoded = {**source, "key": "incoming/ra+like+60.csv"}

    summary = handler(validate_event(encoded), lambda_context)

    assert summary["rows"] == 60
