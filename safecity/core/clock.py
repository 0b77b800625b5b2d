"""The one clock SafeCity reads: aware UTC, which is what every stored timestamp is."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
