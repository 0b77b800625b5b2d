"""SafeCity: city-scale video surveillance operations."""

import importlib.metadata

# pyproject.toml is the one place the version is written; the installed package says it.
__version__ = importlib.metadata.version(__name__)
