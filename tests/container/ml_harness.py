"""Helpers that run the container entry points as subprocesses against a temporary /opt/ml tree.

The entry points run exactly as SageMaker runs them inside the image (``train``, ``serve``),
with ``SYNTHCARE_ML_ROOT`` pointing at a folder laid out like ``/opt/ml``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from synthcare import steps

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
RA_TABLE = DATA / "ra_like_60.csv"
BIN = Path(sys.executable).parent
TRAIN = str(BIN / "train")
SERVE = str(BIN / "serve")

# Fast model for most tests: a Gaussian copula fits a 60-row table in well under a second.
FAST_HYPERPARAMETERS = {"model": "gaussian_copula", "seed": "7"}
TRAIN_TIMEOUT = 180
SERVER_START_TIMEOUT = 90
# The server fixture's limits, small so the tests can cross them cheaply.
MAX_PAYLOAD_MB = 1
MAX_ROWS = 5000


@dataclass
class TrainRun:
    """One finished ``train`` subprocess and its root folder."""

    root: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def failure(self) -> str | None:
        path = self.root / "output" / "failure"
        return path.read_text(encoding="utf-8") if path.exists() else None

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def make_root(
    root: Path,
    prepared: steps.Prepared | None,
    hyperparameters: dict | str | None,
) -> Path:
    """Lay out ``root`` like ``/opt/ml`` with a training channel and hyperparameters file."""
    (root / "input" / "data").mkdir(parents=True, exist_ok=True)
    (root / "input" / "config").mkdir(parents=True, exist_ok=True)
    (root / "model").mkdir(parents=True, exist_ok=True)
    (root / "output").mkdir(parents=True, exist_ok=True)
    if prepared is not None:
        prepared.save(root / "input" / "data" / "training")
    if hyperparameters is not None:
        text = hyperparameters if isinstance(hyperparameters, str) else json.dumps(hyperparameters)
        (root / "input" / "config" / "hyperparameters.json").write_text(text, encoding="utf-8")
    return root


def ml_environment(root: Path, **extra: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment["SYNTHCARE_ML_ROOT"] = str(root)
    environment["PYTHONUNBUFFERED"] = "1"
    environment.update(extra)
    return environment


def run_train(root: Path, timeout: float = TRAIN_TIMEOUT) -> TrainRun:
    """Run ``train`` to completion against ``root``."""
    completed = subprocess.run(
        [TRAIN],
        env=ml_environment(root),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return TrainRun(root, completed.returncode, completed.stdout, completed.stderr)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A running ``serve`` subprocess on a loopback port."""

    process: subprocess.Popen
    url: str
    log_path: Path

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise


def start_server(root: Path, log_path: Path, **extra: str) -> Server:
    """Start ``serve`` on a free loopback port and wait until ``/ping`` returns 200."""
    port = free_port()
    environment = ml_environment(
        root, SYNTHCARE_SERVE_HOST="127.0.0.1", SAGEMAKER_BIND_TO_PORT=str(port), **extra
    )
    log = log_path.open("w", encoding="utf-8")
    process = subprocess.Popen(
        [SERVE], env=environment, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    log.close()
    server = Server(process, f"http://127.0.0.1:{port}", log_path)

    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited with {process.returncode}:\n{server.log}")
        try:
            if requests.get(f"{server.url}/ping", timeout=2).status_code == 200:
                return server
        except (requests.ConnectionError, requests.Timeout):
            # The master accepts connections before the worker has loaded the model.
            pass
        time.sleep(0.2)
    server.stop()
    raise AssertionError(
        f"serve did not respond to /ping in {SERVER_START_TIMEOUT} s:\n{server.log}"
    )
