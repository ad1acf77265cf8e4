"""Lambda function: the validate step of the workflow."""
