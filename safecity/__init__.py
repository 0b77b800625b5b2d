"""SafeCity: city-scale video surveillance operations."""

from importlib.metadata import version

# pyproject.toml is the one place the version is written; the installed package says it.
__version__ = version(__name__)
