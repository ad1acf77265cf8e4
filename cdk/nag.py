"""cdk-nag rule packs for the pipeline and the helper that records an acknowledged finding."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks, NagPack
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on `scope` and everything below it.

    Args:
        scope: The construct the finding is reported on, or a parent of it.
        rule_id: The rule id, with the finding in brackets for rules that report several
            findings per resource, e.g. `AwsSolutions-IAM5[Resource::*]`.
        reason: Why the finding is acceptable here; it is stored in the cloud assembly.
    """
    if not reason.strip():
        raise ValueError(f"The acknowledgement of {rule_id} needs a reason.")
    # NOTE: the bare rule id, which CDK stores as `Annotation::<rule id>`, is the form that
    # cdk-nag 3.0.2 matches both during synthesis and in `NagPack.validate_scope`. The
    # `AwsSolutions::<rule id>` form that its error messages suggest passes synthesis only.
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def rule_packs(scope: IConstruct) -> list[NagPack]:
    """Return the rule packs the pipeline must pass: AWS Solutions and HIPAA Security."""
    return [AwsSolutionsChecks(scope), HIPAASecurityChecks(scope)]


def add_rule_packs(scope: IConstruct) -> None:
    """Run the pipeline's rule packs when `scope` (usually the app) is synthesized.

    Any finding that is not acknowledged makes synthesis raise.
    """
    Validations.of(scope).add_plugins(*rule_packs(scope))


def object_arn_finding(bucket: IConstruct, prefix: str) -> str:
    """Return the AwsSolutions-IAM5 finding id for a grant on `<bucket ARN>/<prefix>*`.

    cdk-nag names a `Fn::GetAtt` by the bucket's logical id, which CDK derives from the
    construct path, so the id is computed rather than written out.
    """
    stack = Stack.of(bucket)
    logical_id = stack.resolve(stack.get_logical_id(bucket.node.default_child))
    return f"AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/{prefix}*]"


def acknowledge_stack_findings(stack: Stack) -> None:
    """Acknowledge the findings that apply to every resource of the pipeline stack alike."""
    acknowledge(
        stack,
        "HIPAA.Security-IAMNoInlinePolicy",
        "Each role has one policy that CDK generates from the grants on it and that no other "
        "role uses; a customer-managed copy would add a second, separately versioned object "
        "without narrowing access.",
    )
