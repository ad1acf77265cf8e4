"""The CTGAN training and serving image, built from the repository at deploy time."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import IgnoreMode
from aws_cdk import aws_ecr_assets as ecr_assets
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parent.parent

# The Docker build context is the repository root. Only the files the Dockerfiles copy are sent,
# so the virtual environment, node_modules and cdk.out never reach the asset staging directory.
BUILD_CONTEXT_EXCLUDE = [
    "*",
    "!pyproject.toml",
    "!README.md",
    "!LICENSE",
    "!synthcare",
    "!model_code",
    "!functions",
    "!containers",
    "**/__pycache__",
    "**/*.pyc",
    "**/*.egg-info",
]


class ModelImage(Construct):
    """Container image asset of `containers/ctgan/Dockerfile` (SageMaker `train` and `serve`).

    CDK stages the build context at synth and builds and pushes the image at deploy, so synth
    needs no Docker.

    Attributes:
        asset: The image asset; `asset.repository` is the ECR repository SageMaker pulls from.
        image_uri: ECR URI of the image for training jobs and models.
    """

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.asset = ecr_assets.DockerImageAsset(
            self,
            "Asset",
            directory=str(REPO_ROOT),
            file="containers/ctgan/Dockerfile",
            platform=ecr_assets.Platform.LINUX_AMD64,
            exclude=BUILD_CONTEXT_EXCLUDE,
            ignore_mode=IgnoreMode.DOCKER,
            display_name="synthcare CTGAN training and serving image",
        )
        self.image_uri = self.asset.image_uri
