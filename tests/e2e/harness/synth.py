"""Synthesize the CDK app the way `cdk synth` runs it and read the pipeline template."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
TEST_DATA = REPO_ROOT / "tests" / "data"

# Settings that make an end-to-end run fast. They are CDK context values, the same knobs a user
# sets with `cdk deploy -c key=value`. The state machine definition is not edited.
FAST_CONTEXT = {
    "poll_interval_seconds": 1,
    "model": "empirical_copula",
}

STATE_MACHINE_TYPE = "AWS::StepFunctions::StateMachine"


@dataclass(frozen=True)
class Synthesized:
    """The synthesized pipeline stack.

    Attributes:
        stack_name: Name of the stack in the cloud assembly.
        template: The CloudFormation template as a dict.
        context: The context the app was synthesized with (cdk.json values plus overrides).
    """

    stack_name: str
    template: dict[str, Any]
    context: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """Template resources by logical id."""
        return self.template["Resources"]

    def state_machine(self) -> tuple[str, dict[str, Any]]:
        """Return the logical id and resource of the one state machine in the stack."""
        found = [
            (logical_id, resource)
            for logical_id, resource in self.resources.items()
            if resource["Type"] == STATE_MACHINE_TYPE
        ]
        if len(found) != 1:
            names = ", ".join(logical_id for logical_id, _ in found) or "none"
            raise AssertionError(f"expected one state machine in the stack, found {names}")
        return found[0]

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Return the resources of one CloudFormation type by logical id."""
        return {
            logical_id: resource
            for logical_id, resource in self.resources.items()
            if resource["Type"] == resource_type
        }


def read_cdk_json_context(repo_root: Path = REPO_ROOT) -> dict[str, Any]:
    """Return the `context` object of cdk.json, which the CDK CLI passes to the app."""
    path = repo_root / "cdk.json"
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")).get("context", {}))


def synthesize(
    outdir: Path,
    overrides: dict[str, Any] | None = None,
    *,
    repo_root: Path = REPO_ROOT,
    timeout: float = 300.0,
) -> Synthesized:
    """Run `app.py` as the CDK CLI does and load the one stack it writes.

    The CLI runs the app command with `CDK_OUTDIR` and `CDK_CONTEXT_JSON` set. This function
    does the same without Node's CLI, so no network and no Docker are needed. The context is
    cdk.json's `context` updated with `overrides`, as `-c key=value` would update it.

    Raises:
        AssertionError: Synthesis failed or the assembly does not contain exactly one stack.
    """
    return synthesize_many([(outdir, overrides)], repo_root=repo_root, timeout=timeout)[0]


def synthesize_many(
    jobs: list[tuple[Path, dict[str, Any] | None]],
    *,
    repo_root: Path = REPO_ROOT,
    timeout: float = 300.0,
) -> list[Synthesized]:
    """Synthesize the app once per (outdir, overrides) pair, all at the same time.

    Raises:
        AssertionError: A synthesis failed or an assembly does not contain exactly one stack.
    """
    started = []
    for outdir, overrides in jobs:
        context = read_cdk_json_context(repo_root)
        context.update(overrides or {})
        outdir.mkdir(parents=True, exist_ok=True)
        environ = dict(os.environ)
        environ.update(
            {
                "CDK_OUTDIR": str(outdir),
                "CDK_CONTEXT_JSON": json.dumps(context),
                # jsii prints a banner for every Node release it has not been tested with.
                "JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION": "1",
                "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
            }
        )
        process = subprocess.Popen(
            [sys.executable, str(repo_root / "app.py")],
            cwd=repo_root,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append((outdir, context, process))

    results = []
    for outdir, context, process in started:
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            raise AssertionError(f"app.py did not finish within {timeout:.0f} s") from None
        if process.returncode != 0:
            raise AssertionError(
                f"app.py failed with exit code {process.returncode}:\n{stderr[-4000:]}"
            )
        results.append(_load_assembly(outdir, context))
    return results


def _load_assembly(outdir: Path, context: dict[str, Any]) -> Synthesized:
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    stacks = {
        name: artifact
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    if len(stacks) != 1:
        raise AssertionError(f"expected one stack in the cloud assembly, found {sorted(stacks)}")
    stack_name, artifact = next(iter(stacks.items()))
    template_file = outdir / artifact["properties"]["templateFile"]
    template = json.loads(template_file.read_text(encoding="utf-8"))
    return Synthesized(stack_name=stack_name, template=template, context=context)
