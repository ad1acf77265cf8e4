"""S3 reads and writes shared by the handlers.

Objects are written without encryption arguments: the buckets' default encryption (SSE-KMS with
the pipeline key) applies to every new object.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.exceptions import ClientError

MISSING_OBJECT_CODES = ("404", "NoSuchKey", "NotFound")


def client():
    """Return a new S3 client.

    A client per invocation keeps the handlers testable under moto; the cost is a few
    milliseconds against runs that take minutes.
    """
    return boto3.client("s3")


def is_missing(error: ClientError) -> bool:
    """Tell whether an S3 error means that the object does not exist."""
    return error.response.get("Error", {}).get("Code") in MISSING_OBJECT_CODES


def parse_uri(uri: str) -> tuple[str, str]:
    """Split `s3://bucket/key` into bucket and key.

    Raises:
        ValueError: The text is not an S3 URI with a bucket.
    """
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"Invalid S3 URI {uri!r}: expected s3://bucket/key.")
    return parsed.netloc, parsed.path.lstrip("/")


def uri(bucket: str, key: str) -> str:
    """Return the `s3://` URI of an object."""
    return f"s3://{bucket}/{key}"


def head(bucket: str, key: str, version_id: str | None = None) -> dict[str, Any] | None:
    """Return the object's metadata, or None when it does not exist."""
    arguments = {"Bucket": bucket, "Key": key}
    if version_id:
        arguments["VersionId"] = version_id
    try:
        return client().head_object(**arguments)
    except ClientError as error:
        if is_missing(error):
            return None
        raise


def download(bucket: str, key: str, path: Path, version_id: str | None = None) -> Path:
    """Download one object (one version of it when `version_id` is given) to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {"VersionId": version_id} if version_id else None
    client().download_file(bucket, key, str(path), ExtraArgs=extra)
    return path


def download_prefix(bucket: str, prefix: str, directory: Path) -> list[Path]:
    """Download every object under `prefix` into `directory`, keeping the relative paths.

    Raises:
        FileNotFoundError: No object exists under the prefix.
    """
    s3 = client()
    paths = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            relative = item["Key"][len(prefix) :]
            if not relative or relative.endswith("/"):
                continue
            target = directory / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, item["Key"], str(target))
            paths.append(target)
    if not paths:
        raise FileNotFoundError(f"No objects found under {uri(bucket, prefix)}.")
    return paths


def upload_directory(directory: Path, bucket: str, prefix: str) -> list[str]:
    """Upload every file below `directory` under `prefix`; return the keys written."""
    s3 = client()
    keys = []
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            key = prefix + path.relative_to(directory).as_posix()
            s3.upload_file(str(path), bucket, key)
            keys.append(key)
    return keys


def get_bytes(bucket: str, key: str) -> bytes:
    """Return an object's content."""
    return client().get_object(Bucket=bucket, Key=key)["Body"].read()


def get_json(bucket: str, key: str) -> Any:
    """Return an object's content parsed as JSON."""
    return json.loads(get_bytes(bucket, key))


def put_bytes(bucket: str, key: str, body: bytes, content_type: str) -> str:
    """Write an object and return its URI."""
    client().put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    return uri(bucket, key)


def put_text(bucket: str, key: str, text: str, content_type: str) -> str:
    """Write UTF-8 text and return the object's URI."""
    return put_bytes(bucket, key, text.encode("utf-8"), f"{content_type}; charset=utf-8")


def put_json(bucket: str, key: str, document: Any) -> str:
    """Write a JSON document and return the object's URI."""
    text = json.dumps(document, indent=2, default=_json_default)
    return put_bytes(bucket, key, text.encode("utf-8"), "application/json")


def _json_default(value: Any) -> Any:
    """Convert numpy scalars to Python numbers and anything else (dates, paths) to text."""
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    return str(value)


def extract_archive(archive: Path, directory: Path) -> Path:
    """Extract a `.tar.gz` archive such as SageMaker's `model.tar.gz` into `directory`.

    The `data` extraction filter rejects absolute paths, links out of the directory and device
    files, so an archive cannot write outside `directory`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:*") as tar:
        tar.extractall(directory, filter="data")
    return directory
