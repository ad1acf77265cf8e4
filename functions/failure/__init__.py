"""Lambda function: the failure step of the workflow."""
