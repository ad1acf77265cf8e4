"""Synthesis of the pipeline stack for template assertions and cdk-nag checks."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# jsii prints a banner on stderr for Node releases it no longer tests; it is noise in test output.
# It reads the variable when aws_cdk is first imported, hence before the imports below.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from cdk.nag import rule_packs  # noqa: E402
from stacks.pipeline_stack import PipelineStack  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]

# A valid model URL for stacks that deploy the endpoint.
MODEL_DATA_URL = (
    "s3://synthcare-artifacts-example/runs/table-0123/model/sc-table/output/model.tar.gz"
)


@dataclass
class Synthesized:
    """One synthesized pipeline stack and what tests inspect in it."""

    app: cdk.App
    stack: PipelineStack
    template: Template

    @property
    def resources(self) -> dict[str, Any]:
        """Return the template's resources by logical id."""
        return self.template.to_json()["Resources"]

    def of_type(self, resource_type: str) -> dict[str, Any]:
        """Return the resources of one CloudFormation type by logical id."""
        return {
            logical_id: resource
            for logical_id, resource in self.resources.items()
            if resource["Type"] == resource_type
        }

    def logical_id(self, construct: Any) -> str:
        """Return the logical id of an L2 construct's CloudFormation resource."""
        return self.stack.resolve(self.stack.get_logical_id(construct.node.default_child))

    def nag_violations(self) -> list[str]:
        """Run the rule packs on the app and list every unacknowledged finding."""
        findings = []
        for pack in rule_packs(self.app):
            report = pack.validate_scope(self.app)
            for violation in report.violations:
                for resource in violation.violating_resources:
                    findings.append(f"{violation.rule_name} at {resource.construct_path}")
        return findings


def cdk_json_context() -> dict[str, Any]:
    """Return the context of `cdk.json`, as `cdk synth` would pass it to the app."""
    return json.loads((REPO_ROOT / "cdk.json").read_text())["context"]


def synthesize(context: dict[str, Any] | None = None) -> Synthesized:
    """Synthesize a bare pipeline stack with `context` as the only CDK context."""
    app = cdk.App(context=context or {})
    stack = PipelineStack(app, "Pipeline")
    return Synthesized(app=app, stack=stack, template=Template.from_stack(stack))


def statements_of(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the statements of an IAM policy resource."""
    return policy["Properties"]["PolicyDocument"]["Statement"]


def as_list(value: Any) -> list[Any]:
    """Return an IAM field (a single value or a list) as a list."""
    return value if isinstance(value, list) else [value]
