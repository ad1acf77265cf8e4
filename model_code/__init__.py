"""model_code package."""
