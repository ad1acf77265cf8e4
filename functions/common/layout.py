"""Run ids and the S3 keys of one run, as the workflow payload contract fixes them."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import PurePosixPath

INCOMING_PREFIX = "incoming/"
METADATA_SUFFIX = ".metadata.json"

# The run id is also the execution name and, after the `sc-` prefix, the SageMaker job name
# (at most 63 characters), so the stem is capped at 40 characters: 40 + 1 + 16 = 57.
MAX_STEM_LENGTH = 40
RUN_HASH_LENGTH = 16
MAX_DATASET_LENGTH = 100
FALLBACK_STEM = "upload"

ENV_INGEST_BUCKET = "INGEST_BUCKET"
ENV_ARTIFACTS_BUCKET = "ARTIFACTS_BUCKET"
ENV_OUTPUT_BUCKET = "OUTPUT_BUCKET"
ENV_STATE_MACHINE_ARN = "STATE_MACHINE_ARN"

GENERATED_FILE = "request.json.out"
EVALUATION_FILE = "evaluation.json"
SYNTHETIC_FILE = "synthetic.csv"
REPORT_JSON_FILE = "report.json"
REPORT_HTML_FILE = "report.html"
ERROR_FILE = "error.json"

_UNSAFE = re.compile(r"[^a-z0-9]+")


def safe_stem(key: str, max_length: int = MAX_DATASET_LENGTH) -> str:
    """Turn an object key's file name stem into lowercase letters, digits and single hyphens.

    The result is valid in S3 keys, execution names and SageMaker names. A stem with no letter
    or digit becomes `upload`.
    """
    stem = PurePosixPath(key).stem
    safe = _UNSAFE.sub("-", stem.lower()).strip("-")
    safe = safe[:max_length].rstrip("-")
    return safe or FALLBACK_STEM


def dataset_name(key: str) -> str:
    """Return the `<dataset>` part of the report location for an uploaded object key."""
    return safe_stem(key, MAX_DATASET_LENGTH)


def run_id(key: str, version_id: str | None) -> str:
    """Derive the run id of one upload: S3-safe stem, hyphen, 16 hex digits of SHA-256.

    The hash covers the key followed by the version id (empty for an unversioned object), so
    the same object version always gets the same run id and a new version a new one.

    NOTE: in a bucket without versioning every upload to the same key gets the same run id, so
    a second upload of a file under the same name starts no run. The ingest bucket is versioned.
    """
    digest = hashlib.sha256((key + (version_id or "")).encode("utf-8")).hexdigest()
    return f"{safe_stem(key, MAX_STEM_LENGTH)}-{digest[:RUN_HASH_LENGTH]}"


def metadata_key(key: str) -> str:
    """Return the key of the optional SDV metadata file uploaded beside `key`."""
    return key + METADATA_SUFFIX


def is_metadata_key(key: str) -> bool:
    """Tell whether `key` is a metadata sidecar and not a table."""
    return key.endswith(METADATA_SUFFIX)


def run_prefix(run: str) -> str:
    """Return the artifacts-bucket prefix of a run."""
    return f"runs/{run}/"


def prepared_prefix(run: str) -> str:
    """Return the prefix of the `Prepared.save` files (the training channel)."""
    return f"{run_prefix(run)}prepared/"


def request_key(run: str) -> str:
    """Return the key of the batch transform request body."""
    return f"{run_prefix(run)}generate/request.json"


def generated_prefix(run: str) -> str:
    """Return the batch transform output prefix."""
    return f"{run_prefix(run)}generated/"


def generated_key(run: str) -> str:
    """Return the key of the CSV that batch transform writes for the request."""
    return generated_prefix(run) + GENERATED_FILE


def evaluation_prefix(run: str) -> str:
    """Return the prefix of the evaluate step's output."""
    return f"{run_prefix(run)}evaluation/"


def report_prefix(dataset: str, run: str) -> str:
    """Return the output-bucket prefix of a run's report or error report."""
    return f"reports/{dataset}/{run}/"


def required_env(name: str) -> str:
    """Return the value of environment variable `name`, such as a bucket name.

    Raises:
        RuntimeError: The variable is missing, which is a deployment fault.
    """
    value = os.environ.get(name, "").strip()
    if not value:
        raise RuntimeError(f"Environment variable {name} is not set; redeploy the stack.")
    return value
