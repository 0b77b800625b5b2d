"""The operator console: static files the API serves itself (no CDN, no build step)."""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
