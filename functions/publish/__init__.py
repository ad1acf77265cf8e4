"""Lambda function: the publish step of the workflow."""
