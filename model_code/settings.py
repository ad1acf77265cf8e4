"""Server settings for ``serve``, read from the environment variables SageMaker sets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from synthcare.errors import ConfigError

DEFAULT_PORT = 8080
DEFAULT_HOST = "0.0.0.0"  # noqa: S104 - inside a container the server must listen on every address
# SageMaker's default MaxPayloadInMB for batch transform and the request limit of endpoints.
DEFAULT_MAX_PAYLOAD_MB = 6
# Real-time endpoints give a request 60 s, and batch transform waits up to 600 s for a response.
DEFAULT_TIMEOUT_SECONDS = 60
DEFAULT_BATCH_TIMEOUT_SECONDS = 600
# Rows one request may ask for. On a shared 2-core machine, sampling 100,000 rows from a
# 4-column CTGAN took 11 to 14 s. CSV cells of the sample tables average 4 to 6 bytes, so
# 100,000 rows of 30 columns make roughly 12 to 18 MB of CSV.
DEFAULT_MAX_ROWS = 100_000


@dataclass(frozen=True)
class ServeSettings:
    """Settings of the model server.

    Attributes:
        host: Address to listen on (``SYNTHCARE_SERVE_HOST``).
        port: TCP port (``SAGEMAKER_BIND_TO_PORT``).
        workers: Gunicorn worker processes, each with its own copy of the model
            (``SAGEMAKER_GUNICORN_WORKERS``, else ``MODEL_SERVER_WORKERS``).
        timeout: Seconds a worker may spend on one request before gunicorn restarts it
            (``MODEL_SERVER_TIMEOUT``).
        max_payload_mb: Largest request body in MB (``SAGEMAKER_MAX_PAYLOAD_IN_MB``).
        max_rows: Largest ``rows`` value of one request (``SYNTHCARE_MAX_ROWS``).
        batch: True when SageMaker batch transform runs the server (``SAGEMAKER_BATCH``).
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    workers: int = 1
    timeout: int = DEFAULT_TIMEOUT_SECONDS
    max_payload_mb: int = DEFAULT_MAX_PAYLOAD_MB
    max_rows: int = DEFAULT_MAX_ROWS
    batch: bool = False

    @property
    def max_payload_bytes(self) -> int:
        """Largest request body in bytes."""
        return self.max_payload_mb * 1024 * 1024

    @property
    def bind(self) -> str:
        """Gunicorn ``bind`` value."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> ServeSettings:
        """Read the settings from environment variables.

        Raises:
            ConfigError: A variable contains a value that is not a whole number in its range.
        """
        environ = os.environ if environ is None else environ
        batch = _read_flag(environ, "SAGEMAKER_BATCH")
        workers_variable = (
            "SAGEMAKER_GUNICORN_WORKERS"
            if environ.get("SAGEMAKER_GUNICORN_WORKERS", "").strip()
            else "MODEL_SERVER_WORKERS"
        )
        default_timeout = DEFAULT_BATCH_TIMEOUT_SECONDS if batch else DEFAULT_TIMEOUT_SECONDS
        return cls(
            host=environ.get("SYNTHCARE_SERVE_HOST", "").strip() or DEFAULT_HOST,
            port=_read_int(environ, "SAGEMAKER_BIND_TO_PORT", DEFAULT_PORT, 1, 65535),
            workers=_read_int(environ, workers_variable, 1, 1, 64),
            timeout=_read_int(environ, "MODEL_SERVER_TIMEOUT", default_timeout, 1, 86400),
            max_payload_mb=_read_int(
                environ, "SAGEMAKER_MAX_PAYLOAD_IN_MB", DEFAULT_MAX_PAYLOAD_MB, 1, 100
            ),
            max_rows=_read_int(environ, "SYNTHCARE_MAX_ROWS", DEFAULT_MAX_ROWS, 1, 10_000_000),
            batch=batch,
        )


def _read_int(
    environ: Mapping[str, str], name: str, default: int, minimum: int, maximum: int
) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(
            f"Environment variable {name}={text!r} is not a whole number. "
            f"Set it to a number from {minimum} to {maximum}, or unset it for {default}."
        ) from None
    if not minimum <= value <= maximum:
        raise ConfigError(
            f"Environment variable {name}={value} is out of range. "
            f"Set it to a number from {minimum} to {maximum}, or unset it for {default}."
        )
    return value


def _read_flag(environ: Mapping[str, str], name: str) -> bool:
    text = environ.get(name, "").strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(
        f"Environment variable {name}={text!r} is not true or false. Unset it or set true."
    )
