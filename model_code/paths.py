"""Folder layout of the SageMaker bring-your-own-container contract."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT_VARIABLE = "SYNTHCARE_ML_ROOT"
DEFAULT_ROOT = Path("/opt/ml")
TRAINING_CHANNEL = "training"


@dataclass(frozen=True)
class MLPaths:
    """Paths that SageMaker mounts under one root (``/opt/ml`` inside a job).

    Attributes:
        root: The root folder. ``SYNTHCARE_ML_ROOT`` moves it for local runs and tests.
    """

    root: Path

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> MLPaths:
        """Build the layout from ``SYNTHCARE_ML_ROOT``, defaulting to ``/opt/ml``."""
        environ = os.environ if environ is None else environ
        value = environ.get(ROOT_VARIABLE, "").strip()
        return cls(Path(value) if value else DEFAULT_ROOT)

    @property
    def input_data(self) -> Path:
        """Folder with one sub-folder per input channel."""
        return self.root / "input" / "data"

    @property
    def training_channel(self) -> Path:
        """Channel folder that contains the files of ``Prepared.save``."""
        return self.input_data / TRAINING_CHANNEL

    @property
    def hyperparameters(self) -> Path:
        """JSON object of hyperparameters, every value a string."""
        return self.root / "input" / "config" / "hyperparameters.json"

    @property
    def model(self) -> Path:
        """Folder that SageMaker packs into ``model.tar.gz`` after training.

        The same folder contains the unpacked model when the image serves it.
        """
        return self.root / "model"

    @property
    def output(self) -> Path:
        """Folder for job outputs other than the model."""
        return self.root / "output"

    @property
    def failure(self) -> Path:
        """File whose text SageMaker reports as the training job's failure reason."""
        return self.output / "failure"
