"""synthcare: privacy-preserving synthetic clinical tables."""

__version__ = "0.1.0"
