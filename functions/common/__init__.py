"""Helpers shared by the Lambda handlers: run layout, S3 access and Lambda logging."""
