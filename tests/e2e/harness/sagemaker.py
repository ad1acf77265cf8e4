"""Run the container's `train` and `serve` programs for moto's SageMaker jobs.

moto records a training or transform job and marks it Completed at once without running
anything. The hooks below keep moto's bookkeeping (the job is stored by moto's own method before
the create call returns, so DescribeTrainingJob always finds it) and then do what SageMaker
does with the image, on a bounded worker pool:

- Training: lay out `ROOT/input/data/<channel>/` from the channel's S3 objects and write
  `ROOT/input/config/hyperparameters.json`. Run `model_code.train` in its own process with
  `SYNTHCARE_ML_ROOT=ROOT` (see `container`). Then pack `ROOT/model` into `model.tar.gz` at
  `<S3OutputPath>/<job>/output/` and mark the job Completed, or mark it Failed with the failure
  file's text as `FailureReason`.
- Batch transform: unpack the model's `ModelDataUrl` into `ROOT/model`, start
  `model_code.serve` in its own process on a free loopback port, wait for `GET /ping`,
  `POST /invocations` each input object and write the answer to `<S3OutputPath>/<name>.out`.

Jobs report `InProgress` until the worker finishes, so the state machine's Wait/Choice polling
loop runs as it does on AWS.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tarfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import SageMakerModelBackend
from moto.sagemaker.utils import arn_formatter

from .container import forkserver_context, start_program

logger = logging.getLogger(__name__)

# SageMaker keeps the first 1024 characters of the failure file as FailureReason.
MAX_FAILURE_REASON = 1024
SERVER_START_SECONDS = 120.0
SERVER_STOP_SECONDS = 30.0
DEFAULT_TRANSFORM_PAYLOAD_MB = 6


@dataclass
class JobRecord:
    """What the harness did for one job, for assertions and for reading a failure.

    Attributes:
        kind: `training` or `transform`.
        name: The job name.
        root: The local `/opt/ml` stand-in.
        status: Final status, or None while the job runs.
        failure_reason: FailureReason of a failed job.
        log: Output of the container program (stdout and stderr).
        seconds: Wall time of the worker.
    """

    kind: str
    name: str
    root: Path
    status: str | None = None
    failure_reason: str | None = None
    log: str = ""
    seconds: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)


class S3Objects:
    """S3 reads and writes over one boto3 client, which threads may share."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def keys(self, bucket: str, prefix: str) -> list[str]:
        """Return every key under `prefix`."""
        keys: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return keys

    def read(self, bucket: str, key: str) -> bytes:
        """Return the body of one object."""
        return self._client.get_object(Bucket=bucket, Key=key)["Body"].read()

    def write(self, bucket: str, key: str, body: bytes, content_type: str | None = None) -> None:
        """Store one object."""
        extra = {"ContentType": content_type} if content_type else {}
        self._client.put_object(Bucket=bucket, Key=key, Body=body, **extra)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """Split `s3://bucket/key` into bucket and key."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


class SageMakerJobs:
    """Hooks for moto's SageMaker backend that run the container programs.

    Args:
        s3: Client for the job data, created on the main thread.
        workdir: Folder for the jobs' local roots.
        matplotlib_cache: matplotlib's configuration and font cache folder for the programs.
        max_workers: Jobs that run at the same time; each is one process, so this bounds CPU use.
    """

    def __init__(
        self, s3: Any, workdir: Path, matplotlib_cache: Path, max_workers: int = 2
    ) -> None:
        self._s3 = S3Objects(s3)
        self._workdir = workdir
        # A container image ships matplotlib's font cache. The jobs here share one folder, so the
        # cache is built once instead of once per job (about 3 s each).
        self._matplotlib_cache = matplotlib_cache
        # Start the fork server now, on the calling thread, before any execution runs.
        forkserver_context(_container_environ(workdir, matplotlib_cache))
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="sagemaker")
        self._futures: list[Future[None]] = []
        self._records: dict[tuple[str, str], JobRecord] = {}
        self._lock = threading.Lock()
        self._port_lock = threading.Lock()
        self.harness_errors: list[str] = []
        self._faults: list[tuple[str, Callable[[Any, S3Objects], None]]] = []

    # -- patching ---------------------------------------------------------------------------

    def patches(self) -> list[mock._patch]:
        """Return patchers for the create calls of moto's SageMaker backend."""
        original_training = SageMakerModelBackend.create_training_job
        original_transform = SageMakerModelBackend.create_transform_job
        original_model = SageMakerModelBackend.create_model
        jobs = self

        def create_training_job(backend: SageMakerModelBackend, **kwargs: Any) -> Any:
            name = kwargs["training_job_name"]
            if name in backend.training_jobs:
                arn = arn_formatter("training-job", name, backend.account_id, backend.region_name)
                raise ValidationError(
                    message="Training job names must be unique within an AWS account and "
                    f"region, and a training job with this name already exists ({arn})"
                )
            _check_hyperparameters(kwargs.get("hyper_parameters") or {})
            job = original_training(backend, **kwargs)
            # ModelArtifacts is a required member of the DescribeTrainingJob response, so it
            # stays present (with the final location) while the job runs, as moto sets it.
            artifacts = dict(job.model_artifacts)
            job.secondary_status = "Starting"
            jobs._start(
                "training",
                name,
                job,
                lambda record: jobs._run_training(job, record, artifacts),
                status_attribute="training_job_status",
                end_attribute="training_end_time",
            )
            return job

        def create_transform_job(backend: SageMakerModelBackend, **kwargs: Any) -> Any:
            name = kwargs["transform_job_name"]
            if name in backend.transform_jobs:
                raise ValidationError(
                    message=f"Transform job names must be unique within an AWS account and "
                    f"region, and a transform job with this name already exists ({name})"
                )
            backend.describe_model(kwargs["model_name"])
            job = original_transform(backend, **kwargs)
            jobs._start(
                "transform",
                name,
                job,
                lambda record: jobs._run_transform(backend, job, record),
                status_attribute="transform_job_status",
                end_attribute="transform_end_time",
            )
            return job

        def create_model(backend: SageMakerModelBackend, **kwargs: Any) -> Any:
            name = kwargs["model_name"]
            if name in backend._models:
                arn = arn_formatter("model", name, backend.account_id, backend.region_name)
                raise ValidationError(message=f"Cannot create already existing model {arn!r}.")
            return original_model(backend, **kwargs)

        return [
            mock.patch.object(SageMakerModelBackend, "create_training_job", create_training_job),
            mock.patch.object(SageMakerModelBackend, "create_transform_job", create_transform_job),
            mock.patch.object(SageMakerModelBackend, "create_model", create_model),
        ]

    def _start(
        self,
        kind: str,
        name: str,
        job: Any,
        work: Callable[[JobRecord], tuple[str, str | None]],
        *,
        status_attribute: str,
        end_attribute: str,
    ) -> None:
        # Every attribute that the worker changes later exists before the create call returns,
        # because moto builds the Describe response by iterating over the job's __dict__, which
        # must not change size while another thread reads it.
        setattr(job, status_attribute, "InProgress")
        setattr(job, end_attribute, None)
        job.failure_reason = None
        record = JobRecord(kind=kind, name=name, root=self._workdir / kind / name)
        with self._lock:
            self._records[(kind, name)] = record

        def run() -> None:
            started = time.monotonic()
            try:
                status, reason = work(record)
            except Exception as err:  # noqa: BLE001 - a harness fault must still end the job
                logger.exception("%s job %s failed inside the harness", kind, name)
                self.harness_errors.append(f"{kind} job {name}: {type(err).__name__}: {err}")
                status, reason = "Failed", f"InternalServerError: {type(err).__name__}: {err}"
            record.seconds = time.monotonic() - started
            record.status = status
            record.failure_reason = reason
            # Reason and end time first, status last, so a poller that reads the final status
            # also reads the rest.
            if reason is not None:
                job.failure_reason = reason[:MAX_FAILURE_REASON]
            setattr(job, end_attribute, _utcnow())
            setattr(job, status_attribute, status)
            record.done.set()

        self._futures.append(self._pool.submit(run))

    def before_training(self, name_prefix: str, action: Callable[[Any, S3Objects], None]) -> None:
        """Run `action(job, s3)` before a training job whose name starts with `name_prefix`.

        Tests use it to damage a run's data at a known point, for example to replace the
        prepared table with bytes that are not Parquet. It runs on the job's worker before the
        channel is copied, so the damage is in place when the container reads its input.
        """
        self._faults.append((name_prefix, action))

    # -- training ---------------------------------------------------------------------------

    def _run_training(
        self, job: Any, record: JobRecord, artifacts: dict[str, str]
    ) -> tuple[str, str | None]:
        root = record.root
        shutil.rmtree(root, ignore_errors=True)
        for folder in ("input/config", "input/data", "model", "output/data", "code"):
            (root / folder).mkdir(parents=True, exist_ok=True)

        config = root / "input" / "config"
        (config / "hyperparameters.json").write_text(
            json.dumps(job.hyper_parameters or {}), encoding="utf-8"
        )
        (config / "inputdataconfig.json").write_text(
            json.dumps(
                {
                    channel["ChannelName"]: {
                        key: value for key, value in channel.items() if key != "DataSource"
                    }
                    for channel in job.input_data_config or []
                }
            ),
            encoding="utf-8",
        )
        (config / "resourceconfig.json").write_text(
            json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]}), encoding="utf-8"
        )

        for name_prefix, action in self._faults:
            if job.training_job_name.startswith(name_prefix):
                action(job, self._s3)

        for channel in job.input_data_config or []:
            source = channel["DataSource"]["S3DataSource"]
            if source.get("S3DataType", "S3Prefix") != "S3Prefix":
                return "Failed", (
                    f"ClientError: the harness supports S3Prefix channels only, channel "
                    f"{channel['ChannelName']} uses {source['S3DataType']}"
                )
            bucket, prefix = split_s3_uri(source["S3Uri"])
            keys = self._s3.keys(bucket, prefix)
            if not keys:
                return "Failed", (
                    f"ClientError: No S3 objects found under S3 URL {source['S3Uri']!r} given "
                    f"in input data source of channel {channel['ChannelName']}."
                )
            folder = root / "input" / "data" / channel["ChannelName"]
            base = prefix if prefix.endswith("/") else prefix.rsplit("/", 1)[0] + "/"
            for key in keys:
                target = folder / key[len(base) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self._s3.read(bucket, key))

        max_runtime = int((job.stopping_condition or {}).get("MaxRuntimeInSeconds", 86400))
        environ = _container_environ(root, self._matplotlib_cache)
        environ["TRAINING_JOB_NAME"] = job.training_job_name
        environ["TRAINING_JOB_ARN"] = job.arn
        log_path = root / "train.log"
        process = start_program("train", environ, root, log_path)
        process.join(max_runtime)
        timed_out = process.is_alive()
        if timed_out:
            # SageMaker stops a job at MaxRuntimeInSeconds with SIGTERM, then SIGKILL.
            _stop(process)
        record.log = _read_log(log_path)
        if timed_out:
            return "Failed", "MaxRuntimeExceeded: Training job runtime exceeded MaxRuntimeInSeconds"

        if process.exitcode != 0:
            failure = root / "output" / "failure"
            if failure.is_file():
                reason = failure.read_text(encoding="utf-8").strip()
            else:
                reason = "See job logs for more information"
            return "Failed", f"AlgorithmError: {reason}, exit code: {process.exitcode}"

        bucket, key = split_s3_uri(artifacts["S3ModelArtifacts"])
        self._s3.write(bucket, key, _pack(root / "model"), "application/x-tar")
        output_data = root / "output" / "data"
        if any(output_data.iterdir()):
            output_key = key.rsplit("/", 1)[0] + "/output.tar.gz"
            self._s3.write(bucket, output_key, _pack(output_data), "application/x-tar")
        job.secondary_status = "Completed"
        return "Completed", None

    # -- batch transform --------------------------------------------------------------------

    def _run_transform(
        self, backend: SageMakerModelBackend, job: Any, record: JobRecord
    ) -> tuple[str, str | None]:
        root = record.root
        shutil.rmtree(root, ignore_errors=True)
        (root / "model").mkdir(parents=True)

        model = backend.describe_model(job.model_name)
        container = model.primary_container or (model.containers or [{}])[0]
        model_url = container.get("ModelDataUrl")
        if not model_url:
            return "Failed", f"ClientError: model {job.model_name} has no ModelDataUrl"
        bucket, key = split_s3_uri(model_url)
        try:
            archive = self._s3.read(bucket, key)
        except Exception as err:  # noqa: BLE001 - SageMaker reports a missing model the same way
            return "Failed", f"ClientError: Could not download model data from {model_url}: {err}"
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            tar.extractall(root / "model", filter="data")

        source = job.transform_input["DataSource"]["S3DataSource"]
        input_bucket, prefix = split_s3_uri(source["S3Uri"])
        keys = self._s3.keys(input_bucket, prefix)
        if not keys:
            return "Failed", f"ClientError: No S3 objects found under S3 URL {source['S3Uri']!r}"
        if (job.transform_input.get("SplitType") or "None") != "None":
            return "Failed", "ClientError: the harness supports SplitType None only"

        environ = _container_environ(root, self._matplotlib_cache)
        environ.update(container.get("Environment") or {})
        environ.update(job.environment or {})
        environ.update(
            {
                "SAGEMAKER_BATCH": "true",
                "SAGEMAKER_MAX_PAYLOAD_IN_MB": str(
                    job.max_payload_in_mb or DEFAULT_TRANSFORM_PAYLOAD_MB
                ),
                "SAGEMAKER_BATCH_STRATEGY": job.batch_strategy or "MultiRecord",
                "SAGEMAKER_MAX_CONCURRENT_TRANSFORMS": str(job.max_concurrent_transforms or 1),
                "SYNTHCARE_SERVE_HOST": "127.0.0.1",
            }
        )
        output_bucket, output_prefix = split_s3_uri(job.transform_output["S3OutputPath"])
        if output_prefix and not output_prefix.endswith("/"):
            output_prefix += "/"
        base = prefix if prefix.endswith("/") else prefix.rsplit("/", 1)[0] + "/"
        content_type = job.transform_input.get("ContentType") or "application/json"
        accept = job.transform_output.get("Accept") or "text/csv"

        server, port, log_path = self._start_server(root, environ)
        try:
            for key in keys:
                body = self._s3.read(input_bucket, key)
                status, answer = _post(port, "/invocations", body, content_type, accept)
                if status != 200:
                    detail = answer.decode("utf-8", errors="replace")[:500]
                    return "Failed", (
                        f"ClientError: See job logs for more information. The model container "
                        f"answered {status} for {key}: {detail}"
                    )
                self._s3.write(output_bucket, output_prefix + key[len(base) :] + ".out", answer)
        finally:
            _stop(server)
            record.log = _read_log(log_path)
        return "Completed", None

    def _start_server(
        self, root: Path, environ: dict[str, str]
    ) -> tuple[multiprocessing.Process, int, Path]:
        log_path = root / "serve.log"
        for _attempt in range(3):
            with self._port_lock:
                port = _free_port()
            environ["SAGEMAKER_BIND_TO_PORT"] = str(port)
            server = start_program("serve", environ, root, log_path)
            if _wait_for_ping(server, port):
                return server, port, log_path
            _stop(server)
        log = _read_log(log_path)[-2000:]
        raise RuntimeError(f"the model server did not answer /ping; its log ends with:\n{log}")

    # -- lifecycle --------------------------------------------------------------------------

    def record(self, kind: str, name: str) -> JobRecord:
        """Return the record of one job by kind (`training` or `transform`) and name."""
        with self._lock:
            return self._records[(kind, name)]

    def records(self) -> list[JobRecord]:
        """Return every job record."""
        with self._lock:
            return list(self._records.values())

    def shutdown(self) -> None:
        """Wait for running jobs and stop the worker pool."""
        self._pool.shutdown(wait=True, cancel_futures=False)


def _check_hyperparameters(hyperparameters: dict[str, Any]) -> None:
    # With parameter validation off (as moto's Step Functions client has it), a non-string
    # value would reach moto unchanged. SageMaker's API rejects it, so the harness does too.
    for key, value in hyperparameters.items():
        if not isinstance(value, str):
            raise ValidationError(
                message=f"Value {value!r} at 'hyperParameters.{key}' failed to satisfy "
                "constraint: Member must be a string"
            )


def _container_environ(root: Path, matplotlib_cache: Path) -> dict[str, str]:
    # A container gets no AWS credentials and no host settings, only what runs the program.
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "LANG": "C.UTF-8",
        "SYNTHCARE_ML_ROOT": str(root),
        "MPLCONFIGDIR": str(matplotlib_cache),
        # Two jobs share two cores, and one thread each keeps torch from oversubscribing them.
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    return environ


def _pack(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.iterdir()):
            tar.add(path, arcname=path.name)
    return buffer.getvalue()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _post(port: int, path: str, body: bytes, content_type: str, accept: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        connection.request(
            "POST", path, body=body, headers={"Content-Type": content_type, "Accept": accept}
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _wait_for_ping(server: multiprocessing.Process, port: int) -> bool:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if not server.is_alive():
            return False
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                connection.request("GET", "/ping")
                if connection.getresponse().status == 200:
                    return True
            finally:
                connection.close()
        except OSError:
            pass
        # Readiness polling: the server gives no other signal that its worker has loaded.
        time.sleep(0.2)
    return False


def _stop(process: multiprocessing.Process) -> None:
    """Stop a program as SageMaker does: SIGTERM to its process group, SIGKILL after a grace."""
    if not process.is_alive():
        process.join()
        return
    _signal_group(process, signal.SIGTERM)
    process.join(SERVER_STOP_SECONDS)
    if process.is_alive():
        _signal_group(process, signal.SIGKILL)
        process.join()


def _signal_group(process: multiprocessing.Process, signum: int) -> None:
    # The program makes itself a session leader first thing. Before that, signal it alone.
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signum)


def _read_log(path: Path) -> str:
    # A program that dies before it opens its log leaves no file.
    if not path.is_file():
        return ""
    return path.read_text(encoding="utf-8", errors="replace")


def _utcnow() -> Any:
    from moto.core.utils import utcnow

    return utcnow()
