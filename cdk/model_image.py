"""The CTGAN training and serving image, built from the repository at deploy time."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import IgnoreMode
from aws_cdk import aws_ecr_assets as ecr_assets
from constructs import Construct

REPO_ROOT = Path(__file__).resolve().parent.parent

# Files every image build needs: the package metadata and the synthcare package.
_PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE", "synthcare")


def build_context_exclude(*paths: str) -> list[str]:
    """Return asset exclude patterns that keep only the package files and `paths`.

    The Docker build context is the repository root. Sending only what a Dockerfile copies
    keeps the virtual environment, node_modules and cdk.out out of the asset staging directory,
    and keeps an image's hash, so its rebuild, independent of files it does not contain.

    Args:
        paths: Repository paths to keep besides the package files, such as the image's own
            Dockerfile folder and the entry-point package it copies.
    """
    kept = [f"!{path}" for path in (*_PACKAGE_FILES, *paths)]
    return ["*", *kept, "**/__pycache__", "**/*.pyc", "**/*.egg-info"]


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
            exclude=build_context_exclude("model_code", "containers/ctgan"),
            ignore_mode=IgnoreMode.DOCKER,
            display_name="synthcare CTGAN training and serving image",
        )
        self.image_uri = self.asset.image_uri
