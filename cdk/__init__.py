"""cdk package."""
