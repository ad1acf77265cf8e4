"""Static checks of the Dockerfiles: what they copy exists and what they run is installed.

No Docker daemon is needed. The wheel test builds the project from exactly the files the
SageMaker image copies, as its build stage does, so a missing COPY fails here first.
"""

from __future__ import annotations

import fnmatch
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CTGAN_DOCKERFILE = REPO / "containers" / "ctgan" / "Dockerfile"
LAMBDA_DOCKERFILE = REPO / "containers" / "lambda" / "Dockerfile"
DOCKERFILES = [CTGAN_DOCKERFILE, LAMBDA_DOCKERFILE]


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """Return (INSTRUCTION, arguments) pairs with line continuations joined."""
    joined = re.sub(r"\\\n", " ", dockerfile.read_text())
    result = []
    for line in joined.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, arguments = stripped.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
    return result


def copy_sources(dockerfile: Path) -> list[str]:
    """Return the build-context paths that COPY instructions read (not ``--from`` stages)."""
    sources = []
    for keyword, arguments in instructions(dockerfile):
        if keyword not in ("COPY", "ADD"):
            continue
        parts = arguments.split()
        if any(part.startswith("--from") for part in parts):
            continue
        parts = [part for part in parts if not part.startswith("--")]
        sources.extend(parts[:-1])
    return sources


def exec_form(dockerfile: Path, keyword: str) -> list[str]:
    values = [arguments for found, arguments in instructions(dockerfile) if found == keyword]
    assert values, f"{dockerfile.name} has no {keyword}"
    return json.loads(values[-1])


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def is_ignored(path: str, patterns: list[str]) -> bool:
    for pattern in patterns:
        bare = pattern.removeprefix("**/")
        if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(Path(path).name, bare):
            return True
    return False


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.parent.name)
def test_copied_paths_exist(dockerfile):
    sources = copy_sources(dockerfile)
    assert sources
    for source in sources:
        assert (REPO / source).exists(), f"{dockerfile} copies missing {source}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.parent.name)
def test_copied_paths_not_dockerignored(dockerfile):
    patterns = dockerignore_patterns()
    for source in copy_sources(dockerfile):
        assert not is_ignored(source, patterns), source


@pytest.fixture(scope="module")
def staged_contexts(tmp_path_factory) -> dict[Path, Path]:
    """Stage the CDK image assets in a bare stack and map each Dockerfile to its build context.

    CDK copies an image asset's build context when the construct is created, so no synth and no
    Docker is needed to see exactly the files a deploy would send to the builder.
    """
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    aws_cdk = pytest.importorskip("aws_cdk")
    from aws_cdk import aws_kms, aws_s3

    from cdk.functions import Functions
    from cdk.model_image import ModelImage
    from cdk.settings import Settings

    outdir = tmp_path_factory.mktemp("cdk-out")
    app = aws_cdk.App(outdir=str(outdir))
    stack = aws_cdk.Stack(app, "ImageContexts")
    model_image = ModelImage(stack, "ModelImage")
    buckets = [aws_s3.Bucket(stack, name) for name in ("Ingest", "Artifacts", "Output")]
    functions = Functions(
        stack,
        "Functions",
        settings=Settings.from_context(stack.node),
        key=aws_kms.Key(stack, "Key"),
        ingest_bucket=buckets[0],
        artifacts_bucket=buckets[1],
        output_bucket=buckets[2],
    )
    return {
        CTGAN_DOCKERFILE: outdir / f"asset.{model_image.asset.asset_hash}",
        LAMBDA_DOCKERFILE: outdir / f"asset.{functions.image.asset_hash}",
    }


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.parent.name)
def test_copied_paths_in_cdk_build_context(staged_contexts, dockerfile):
    context = staged_contexts[dockerfile]
    assert (context / dockerfile.relative_to(REPO)).is_file()
    for source in copy_sources(dockerfile):
        assert (context / source).exists(), f"the CDK image asset leaves out {source}"


def test_dockerignore_keeps_out_local_folders():
    patterns = dockerignore_patterns()
    for folder in (".venv", "node_modules", "cdk.out", "tests", ".git"):
        assert is_ignored(folder, patterns), folder


def test_ctgan_entrypoint_is_tini_exec_form():
    entrypoint = exec_form(CTGAN_DOCKERFILE, "ENTRYPOINT")
    assert entrypoint == ["/usr/bin/tini", "--"]
    assert exec_form(CTGAN_DOCKERFILE, "CMD") in (["serve"], ["train"])


def test_ctgan_image_is_multi_stage():
    stages = [
        arguments for keyword, arguments in instructions(CTGAN_DOCKERFILE) if keyword == "FROM"
    ]
    assert len(stages) >= 2
    copies_from_build = [
        arguments
        for keyword, arguments in instructions(CTGAN_DOCKERFILE)
        if keyword == "COPY" and arguments.startswith("--from=build")
    ]
    assert copies_from_build


def test_ctgan_build_arguments():
    arguments = {
        value.split("=")[0] for keyword, value in instructions(CTGAN_DOCKERFILE) if keyword == "ARG"
    }
    assert {"BASE_IMAGE", "TORCH_INDEX_URL", "TORCH_VERSION"} <= arguments


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.parent.name)
def test_torch_pin_matches_makefile(dockerfile):
    makefile_pin = re.search(r"torch==([\w.+]+)", (REPO / "Makefile").read_text()).group(1)
    docker_pin = re.search(r"ARG TORCH_VERSION=(\S+)", dockerfile.read_text()).group(1)
    assert docker_pin == makefile_pin


@pytest.mark.parametrize("command", ["train", "serve"])
def test_console_scripts_resolve(command):
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    module_name, _, function_name = scripts[command].partition(":")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, function_name))


@pytest.mark.parametrize("command", ["train", "serve"])
def test_console_scripts_print_help(command):
    executable = Path(sys.executable).parent / command
    result = subprocess.run(
        [str(executable), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "SYNTHCARE_ML_ROOT" in result.stdout


def test_lambda_default_handler_exists():
    module_name, _, function_name = exec_form(LAMBDA_DOCKERFILE, "CMD")[0].rpartition(".")
    path = REPO / (module_name.replace(".", "/") + ".py")
    assert path.is_file(), path
    assert re.search(rf"^def {function_name}\(", path.read_text(), re.MULTILINE)


def test_lambda_handlers_of_every_function_exist():
    functions = pytest.importorskip("cdk.functions")
    for spec in functions.FUNCTION_SPECS:
        path = REPO / "functions" / spec.name / "handler.py"
        assert path.is_file(), path
        assert re.search(r"^def handler\(", path.read_text(), re.MULTILINE), path


def test_ctgan_build_context_makes_wheel_with_entry_points(tmp_path):
    # GIVEN only the files the image's build stage copies
    context = tmp_path / "context"
    context.mkdir()
    for source in copy_sources(CTGAN_DOCKERFILE):
        origin = REPO / source
        if origin.is_dir():
            shutil.copytree(origin, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, context / source)

    # WHEN pip builds the project from them
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
        + ["--wheel-dir", str(tmp_path / "wheels"), str(context)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    # THEN the wheel contains both packages and declares the train and serve commands
    wheel = next((tmp_path / "wheels").glob("synthcare-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(name for name in names if name.endswith("entry_points.txt"))
        declared = archive.read(entry_points).decode()
    assert "model_code/train.py" in names
    assert "model_code/serve.py" in names
    assert "synthcare/steps.py" in names
    assert "train = model_code.train:main" in declared
    assert "serve = model_code.serve:main" in declared


def test_module_entry_point_dispatches():
    result = subprocess.run(
        [sys.executable, "-m", "model_code", "train", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: train" in result.stdout


def test_module_entry_point_rejects_unknown_command():
    result = subprocess.run(
        [sys.executable, "-m", "model_code", "fit"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "train,serve" in result.stderr
