"""Validate step: read the upload, write the prepared table and the batch transform request.

Environment variables: `ARTIFACTS_BUCKET`, `POWERTOOLS_SERVICE_NAME`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from functions.common import layout, s3
from synthcare import steps
from synthcare.errors import ConfigError, InputError, LimitError, SynthcareError
from synthcare.limits import DEFAULT_LIMITS
from synthcare.synthesizers import TrainingConfig

logger = Logger()

# The summary travels in the execution state, which Step Functions caps at 256 KiB. schema.json
# and the report keep every note.
MAX_SUMMARY_NOTES = 20


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Validate the uploaded table with the same limits as a local run.

    Event: `{"run_id", "dataset", "input": {"bucket", "key", "version_id"}, "settings":
    {"rows", "seed", "hyperparameters"}}`. The upload is only read. Writes
    `runs/<run_id>/prepared/` (the training channel) and `runs/<run_id>/generate/request.json`
    (`{"rows", "seed"}`, rows defaulting to the real row count).

    Returns:
        A summary: row and column counts, modelled columns, the generation request, notes.

    Raises:
        InputError: The upload cannot be used. The message gives the reason and the fix.
        ConfigError: The metadata file or a training setting is invalid.
    """
    run = event["run_id"]
    source = event["input"]
    settings = event.get("settings") or {}
    artifacts = layout.required_env(layout.ENV_ARTIFACTS_BUCKET)
    logger.append_keys(run_id=run)

    try:
        # Invalid hyperparameters would only fail in the training job, after an instance start.
        config = TrainingConfig.from_hyperparameters(settings.get("hyperparameters") or {})
        rows = _requested_rows(settings.get("rows"))
        with tempfile.TemporaryDirectory(prefix="synthcare-validate-") as scratch:
            scratch_dir = Path(scratch)
            table_path, key = _download_upload(source, scratch_dir)
            metadata_path = _download_metadata(source["bucket"], key, scratch_dir)
            prepared = steps.validate(
                table_path,
                display_name=PurePosixPath(key).name,
                metadata=metadata_path,
                limits=DEFAULT_LIMITS,
            )
            prepared_dir = scratch_dir / "prepared"
            prepared.save(prepared_dir)
            s3.upload_directory(prepared_dir, artifacts, layout.prepared_prefix(run))
    except SynthcareError as error:
        logger.warning(
            "Validation rejected the upload",
            extra={"error_type": type(error).__name__, "reason": str(error), "key": source["key"]},
        )
        raise

    request = {"rows": rows or len(prepared.table), "seed": config.seed}
    s3.put_json(artifacts, layout.request_key(run), request)
    summary = {
        "run_id": run,
        "rows": len(prepared.table),
        "columns": len(prepared.schema.columns),
        "modelled_columns": len(prepared.schema.modelled()),
        "metadata_used": metadata_path is not None,
        "generate": request,
        "notes": prepared.notes[:MAX_SUMMARY_NOTES],
        "notes_total": len(prepared.notes),
    }
    logger.info(
        "Validated the upload",
        extra={name: value for name, value in summary.items() if name != "notes"},
    )
    return summary


def _requested_rows(value: Any) -> int | None:
    """Return the configured row count, or None (0 or absent) for the real table's row count."""
    if value in (None, 0, "0", ""):
        return None
    try:
        rows = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"rows setting {value!r} is not a whole number") from None
    if rows < 1:
        raise ConfigError(f"rows setting must be at least 1, got {rows}")
    return rows


def _download_upload(source: dict[str, Any], directory: Path) -> tuple[Path, str]:
    """Download the exact uploaded object version and return its local path and S3 key.

    NOTE: EventBridge is expected to deliver the object key as stored. When the key is not
    found, the URL-decoded key is tried once, because S3 event notifications URL-encode keys.
    """
    bucket, key, version_id = source["bucket"], source["key"], source.get("version_id")
    metadata = s3.head(bucket, key, version_id)
    if metadata is None and unquote_plus(key) != key:
        key = unquote_plus(key)
        metadata = s3.head(bucket, key, version_id)
    if metadata is None:
        raise InputError(
            f"The upload s3://{bucket}/{source['key']} was not found (version "
            f"{version_id or 'latest'}). Upload the file again."
        )

    name = PurePosixPath(key).name
    size = int(metadata.get("ContentLength", 0))
    # Checked before the download, because /tmp is smaller than some files a user can upload.
    if size > DEFAULT_LIMITS.max_file_bytes:
        raise LimitError(
            f"{name} is {size:,} bytes, more than the maximum of "
            f"{DEFAULT_LIMITS.max_file_bytes:,} bytes. Upload a smaller extract of the table."
        )
    path = directory / "upload" / name
    s3.download(bucket, key, path, version_id)
    return path, key


def _download_metadata(bucket: str, key: str, directory: Path) -> Path | None:
    """Download `<key>.metadata.json` if it exists (its latest version) and return its path."""
    metadata_key = layout.metadata_key(key)
    try:
        if s3.head(bucket, metadata_key) is None:
            return None
        return s3.download(bucket, metadata_key, directory / "metadata.json")
    except ClientError as error:
        raise ConfigError(
            f"The metadata file s3://{bucket}/{metadata_key} could not be read "
            f"({error.response.get('Error', {}).get('Code')}). Upload it again or remove it."
        ) from error
