"""`cdk synth` through the pinned CDK CLI, as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .synthesis import REPO_ROOT

CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"


@pytest.fixture(scope="session")
def cdk_cli() -> Path:
    """Return the pinned CDK CLI, installing it with `npm ci` once if it is missing."""
    if not CDK.exists():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed, so the pinned CDK CLI cannot be installed")
        result = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            pytest.skip(f"npm ci failed (no registry access?): {result.stderr.strip()[-300:]}")
    return CDK


def test_cdk_synth_writes_template(cdk_cli, tmp_path):
    environment = {
        **os.environ,
        # cdk.json runs `python3 app.py`; the interpreter of this test has the CDK libraries.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }

    result = subprocess.run(
        [str(cdk_cli), "synth", "--quiet", "--no-notices", "--output", str(tmp_path)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    template = json.loads((tmp_path / "SynthcarePipeline.template.json").read_text())
    types = {resource["Type"] for resource in template["Resources"].values()}
    assert "AWS::StepFunctions::StateMachine" in types
    assert "AWS::Events::Rule" in types
    buckets = [r for r in template["Resources"].values() if r["Type"] == "AWS::S3::Bucket"]
    for bucket in buckets:
        assert {"Key": "application", "Value": "synthcare"} in bucket["Properties"]["Tags"]
