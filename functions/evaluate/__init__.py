"""Lambda function: the evaluate step of the workflow."""
