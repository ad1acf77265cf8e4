"""The ``serve`` entry point that SageMaker runs in the container (``docker run IMAGE serve``).

It starts gunicorn with its configuration set here, so the image needs no config file. Each
worker loads the model from ``ROOT/model`` when it starts and only then accepts connections.
SIGTERM stops gunicorn gracefully: workers finish their current request and the process exits
with 0.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.errors import AppImportError

from model_code.app import create_app
from model_code.logs import configure_logging
from model_code.paths import ROOT_VARIABLE, MLPaths
from model_code.settings import ServeSettings
from synthcare.errors import SynthcareError

# The modules load in the master before gunicorn forks, so workers share them and start faster.
# Only the model itself loads per worker, after the fork.
from synthcare.steps import TrainedModel

logger = logging.getLogger("model_code.serve")

EXIT_EXPECTED_ERROR = 1
# Gunicorn's heartbeat files belong in memory: a slow container disk can make a busy worker look
# dead and get it killed.
WORKER_TMP_DIR = Path("/dev/shm")  # noqa: S108 - a fixed system folder, not a temporary file


class ModelServer(BaseApplication):
    """Gunicorn application that serves the model in ``model_dir``.

    Args:
        model_dir: Folder with the files of ``TrainedModel.save``.
        settings: Bind address, worker count, timeout and request limits.
    """

    def __init__(self, model_dir: Path, settings: ServeSettings) -> None:
        self.model_dir = model_dir
        self.settings = settings
        super().__init__()

    def gunicorn_options(self) -> dict[str, Any]:
        """Return the gunicorn settings that ``load_config`` applies."""
        options: dict[str, Any] = {
            "bind": [self.settings.bind],
            "workers": self.settings.workers,
            "worker_class": "sync",
            "timeout": self.settings.timeout,
            "graceful_timeout": 30,
            "keepalive": 5,
            "preload_app": False,
            "accesslog": "-",
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "synthcare-serve",
            # The control socket of gunicorn 27 sits at one fixed path in the home folder, so
            # two servers on one machine would fight over it. This server does not use it.
            "control_socket_disable": True,
        }
        if WORKER_TMP_DIR.is_dir() and os.access(WORKER_TMP_DIR, os.W_OK):
            options["worker_tmp_dir"] = str(WORKER_TMP_DIR)
        return options

    def load_config(self) -> None:
        """Apply ``gunicorn_options``, skipping settings this gunicorn version lacks."""
        for key, value in self.gunicorn_options().items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def load(self) -> Any:
        """Load the model in a starting worker and build the WSGI app.

        Raises:
            AppImportError: The model files are missing or unreadable. Gunicorn prints the
                message without a traceback and stops with exit code 4.
        """
        configure_logging()
        try:
            model = TrainedModel.load(self.model_dir)
        except SynthcareError as err:
            raise AppImportError(f"Cannot load the model from {self.model_dir}: {err}") from err
        self._share_cpu_threads()
        logger.info(
            "worker %d loaded the %s model from %s",
            os.getpid(),
            model.info.get("model", "unknown"),
            self.model_dir,
        )
        return create_app(model, self.settings)

    def _share_cpu_threads(self) -> None:
        """Split the CPU cores between workers for torch, which otherwise uses all of them each.

        Does nothing when loading the model did not import torch, or with one worker.
        """
        torch = sys.modules.get("torch")
        if torch is None or self.settings.workers < 2:
            return
        threads = max(1, (os.cpu_count() or 1) // self.settings.workers)
        torch.set_num_threads(threads)
        logger.info("worker %d uses %d torch thread(s)", os.getpid(), threads)


def build_parser() -> argparse.ArgumentParser:
    """Build the command-line parser, which takes no options beyond ``--help``."""
    return argparse.ArgumentParser(
        prog="serve",
        description=(
            "Serve a trained synthcare model over HTTP for SageMaker endpoints and batch "
            f"transform. The model is read from ROOT/model, where ROOT is ${ROOT_VARIABLE} "
            "(/opt/ml by default). Environment: SAGEMAKER_BIND_TO_PORT (8080), "
            "SYNTHCARE_SERVE_HOST (0.0.0.0), SAGEMAKER_GUNICORN_WORKERS or "
            "MODEL_SERVER_WORKERS (1), MODEL_SERVER_TIMEOUT in seconds (60, or 600 when "
            "SAGEMAKER_BATCH is true), SAGEMAKER_MAX_PAYLOAD_IN_MB (6), SYNTHCARE_MAX_ROWS "
            "(100000)."
        ),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the model server until SIGTERM and return its exit code."""
    build_parser().parse_args(argv)
    configure_logging()
    paths = MLPaths.from_environ()
    try:
        settings = ServeSettings.from_environ()
    except SynthcareError as err:
        logger.error("cannot start the model server: %s", err)
        return EXIT_EXPECTED_ERROR
    if not paths.model.is_dir():
        logger.error(
            "cannot start the model server: the model folder %s does not exist. SageMaker "
            "unpacks model.tar.gz there; for a local run set %s to a folder whose model/ contains "
            "the files that train wrote.",
            paths.model,
            ROOT_VARIABLE,
        )
        return EXIT_EXPECTED_ERROR

    logger.info(
        "starting the model server on %s with %d worker(s), timeout %d s, batch %s",
        settings.bind,
        settings.workers,
        settings.timeout,
        settings.batch,
    )
    # Gunicorn's arbiter calls sys.exit itself: 0 after SIGTERM or SIGINT, and 3 or 4 when a
    # worker cannot boot or load the model.
    ModelServer(paths.model, settings).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
