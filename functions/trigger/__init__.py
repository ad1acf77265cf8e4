"""Lambda function: the trigger step of the workflow."""
