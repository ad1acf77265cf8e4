#!/usr/bin/env python3
"""CDK app of the synthcare pipeline; settings come from CDK context (see docs/deploy.md)."""

import aws_cdk as cdk

from cdk.nag import add_rule_packs
from cdk.settings import SettingsError
from stacks.pipeline_stack import PipelineStack


def main() -> None:
    """Synthesize the pipeline stack, checked by the AWS Solutions and HIPAA Security packs."""
    app = cdk.App()
    try:
        PipelineStack(app, "SynthcarePipeline", description="synthcare synthetic data pipeline")
    except SettingsError as error:
        raise SystemExit(f"synthcare: {error}") from None
    # Cost allocation and inventory: every taggable resource carries the application name.
    cdk.Tags.of(app).add("application", "synthcare")
    add_rule_packs(app)
    app.synth()


if __name__ == "__main__":
    main()
