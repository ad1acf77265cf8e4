"""Deployment settings read from CDK context, with defaults and validation at synth time."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_logs as logs
from constructs import Node

# Kept equal to `synthcare.synthesizers.MODELS` (a test checks it) so that synth does not have to
# import SDV and torch.
MODELS = ("auto", "ctgan", "tvae", "gaussian_copula", "copulagan", "empirical_copula")

# `TrainingConfig` accepts any seed of at least 0, but training passes it to `np.random.seed`,
# which raises for seeds of 2**32 and more.
MAX_SEED = 2**32 - 1

# SageMaker Serverless Inference accepts these memory sizes (MB) and at most 200 concurrent calls.
SERVERLESS_MEMORY_SIZES_MB = (1024, 2048, 3072, 4096, 5120, 6144)
MAX_SERVERLESS_CONCURRENCY = 200

# SageMaker caps a training job's MaxRuntimeInSeconds at 28 days.
MAX_TRAINING_RUNTIME_SECONDS = 28 * 24 * 3600

_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MODEL_DATA_URL = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+\.tar\.gz$")


class SettingsError(ValueError):
    """A CDK context value that cannot be used; the message names the key and the fix."""


@dataclass(frozen=True)
class Settings:
    """Deployment settings, one field per CDK context key of the same name.

    Defaults are listed in `cdk.json` and `docs/deploy.md`.
    """

    training_instance_type: str = "ml.m5.large"
    """Instance type of the SageMaker training job."""
    transform_instance_type: str = "ml.m5.large"
    """Instance type of the SageMaker batch transform job that generates the synthetic rows."""
    training_max_runtime_seconds: int = 3600
    """Stopping condition of the training job, in seconds."""
    model: str = "auto"
    """Synthesizer name, one of `MODELS`. `auto` picks the best candidate on a holdout split."""
    epochs: int = 0
    """Training epochs of the neural models. 0 keeps synthcare's default for the table size."""
    rows: int = 0
    """Rows to generate. 0 generates as many rows as the input table has."""
    seed: int = 0
    """Seed for training and sampling, 0 to 2**32 - 1."""
    raw_retention_days: int = 30
    """Days after which uploads under `incoming/` in the ingest bucket expire."""
    artifact_retention_days: int = 14
    """Days after which run artifacts under `runs/` in the artifacts bucket expire."""
    noncurrent_version_retention_days: int = 7
    """Days after which overwritten or deleted object versions expire, in every data bucket."""
    access_log_retention_days: int = 365
    """Days after which S3 server access logs expire."""
    log_retention_days: int = 365
    """Retention of the CloudWatch log groups, one of `LOG_RETENTION_DAYS`."""
    notification_email: str = ""
    """Address subscribed to run notifications. An empty string creates no topic."""
    endpoint: bool = False
    """Whether to deploy a SageMaker serverless endpoint for on-demand generation."""
    endpoint_model_data_url: str = ""
    """S3 URL of the `model.tar.gz` the endpoint serves, required when `endpoint` is true."""
    endpoint_memory_mb: int = 3072
    """Memory of the serverless endpoint, one of `SERVERLESS_MEMORY_SIZES_MB`."""
    endpoint_max_concurrency: int = 2
    """Concurrent invocations the serverless endpoint allows, 1 to 200."""
    poll_interval_seconds: int = 60
    """Wait between two status checks of a SageMaker job in the state machine."""
    remove_data_on_delete: bool = False
    """Whether `cdk destroy` deletes the buckets with their objects, the key and log groups."""

    def hyperparameters(self) -> dict[str, str]:
        """Return the SageMaker training hyperparameters (all strings) for these settings.

        The keys are those `TrainingConfig.from_hyperparameters` reads. `epochs` is left out when
        it is 0, so the container keeps its own default.
        """
        values = {"model": self.model, "seed": str(self.seed)}
        if self.epochs > 0:
            values["epochs"] = str(self.epochs)
        return values

    def log_retention(self) -> logs.RetentionDays:
        """Return `log_retention_days` as the CDK enum member for log groups."""
        members = [member for member in logs.RetentionDays if member.name != "INFINITE"]
        return dict(zip(LOG_RETENTION_DAYS, members, strict=True))[self.log_retention_days]

    @classmethod
    def from_context(cls, node: Node) -> Settings:
        """Read every setting from the CDK context of `node` and validate it.

        Values given on the command line (`-c key=value`) arrive as strings; values from
        `cdk.json` arrive as JSON types. Both are accepted.

        Raises:
            SettingsError: A value has the wrong type or is out of range.
        """
        raw = {}
        for field in dataclasses.fields(cls):
            value = node.try_get_context(field.name)
            if value is not None:
                raw[field.name] = value
        return cls.from_mapping(raw)

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> Settings:
        """Build settings from a mapping of context keys to raw values, then validate them.

        Raises:
            SettingsError: A value has the wrong type or is out of range.
        """
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            if field.name not in raw:
                continue
            default = field.default
            value = raw[field.name]
            if isinstance(default, bool):
                values[field.name] = _to_bool(field.name, value)
            elif isinstance(default, int):
                values[field.name] = _to_int(field.name, value)
            else:
                values[field.name] = _to_str(field.name, value)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Check every value against the range AWS and synthcare accept.

        Raises:
            SettingsError: The first value out of range, with the accepted range.
        """
        for name in ("training_instance_type", "transform_instance_type"):
            value = getattr(self, name)
            if not _INSTANCE_TYPE.match(value):
                raise SettingsError(
                    f"Invalid context value {name}={value!r}: expected a SageMaker instance "
                    "type such as ml.m5.large."
                )
        _check_range(
            "training_max_runtime_seconds",
            self.training_max_runtime_seconds,
            60,
            MAX_TRAINING_RUNTIME_SECONDS,
        )
        if self.model not in MODELS:
            raise SettingsError(
                f"Invalid context value model={self.model!r}: expected one of {', '.join(MODELS)}."
            )
        _check_range("epochs", self.epochs, 0, 100_000)
        _check_range("rows", self.rows, 0, 10_000_000)
        _check_range("seed", self.seed, 0, MAX_SEED)
        _check_range("raw_retention_days", self.raw_retention_days, 1, 3650)
        _check_range("artifact_retention_days", self.artifact_retention_days, 1, 3650)
        _check_range(
            "noncurrent_version_retention_days", self.noncurrent_version_retention_days, 1, 3650
        )
        _check_range("access_log_retention_days", self.access_log_retention_days, 1, 3650)
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise SettingsError(
                f"Invalid context value log_retention_days={self.log_retention_days}: CloudWatch "
                f"Logs accepts only {', '.join(str(days) for days in LOG_RETENTION_DAYS)}."
            )
        if self.notification_email and not _EMAIL.match(self.notification_email):
            raise SettingsError(
                f"Invalid context value notification_email={self.notification_email!r}: expected "
                "an e-mail address, or an empty string for no notifications."
            )
        if self.endpoint_memory_mb not in SERVERLESS_MEMORY_SIZES_MB:
            raise SettingsError(
                f"Invalid context value endpoint_memory_mb={self.endpoint_memory_mb}: serverless "
                f"endpoints accept {', '.join(str(mb) for mb in SERVERLESS_MEMORY_SIZES_MB)}."
            )
        _check_range(
            "endpoint_max_concurrency", self.endpoint_max_concurrency, 1, MAX_SERVERLESS_CONCURRENCY
        )
        if self.endpoint and not self.endpoint_model_data_url:
            raise SettingsError(
                "Missing context value endpoint_model_data_url: endpoint=true needs the S3 URL of "
                "a trained model, for example -c endpoint_model_data_url=s3://<artifacts bucket>/"
                "runs/<run id>/model/<job>/output/model.tar.gz."
            )
        if self.endpoint_model_data_url and not _MODEL_DATA_URL.match(self.endpoint_model_data_url):
            raise SettingsError(
                "Invalid context value endpoint_model_data_url="
                f"{self.endpoint_model_data_url!r}: expected s3://<bucket>/<key>.tar.gz."
            )
        _check_range("poll_interval_seconds", self.poll_interval_seconds, 1, 3600)


# The retention periods (days) that CloudWatch Logs accepts for a log group.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise SettingsError(
            f"Invalid context value {name}={value}: expected an integer from {low} to {high}."
        )


def _to_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise SettingsError(f"Invalid context value {name}={value!r}: expected an integer.")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise SettingsError(f"Invalid context value {name}={value!r}: expected an integer.")


def _to_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise SettingsError(f"Invalid context value {name}={value!r}: expected true or false.")


def _to_str(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    raise SettingsError(f"Invalid context value {name}={value!r}: expected a string.")
