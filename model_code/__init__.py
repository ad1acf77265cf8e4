"""SageMaker entry points ``train`` and ``serve`` for the synthcare container image."""
