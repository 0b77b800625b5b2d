"""SafeCity: city-scale video surveillance operations."""

__version__ = "0.1.0"
