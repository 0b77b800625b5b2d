"""When retention must not delete: checks made before a pass and after each floor batch.

Deleting must never run away when the files are not where the index says (an unmounted disk
whose mount point is an empty folder): a pass refuses to start when the recordings folder is
missing or empty while the index lists recordings, and the floor stops, leaving those rows
alone, when a batch finds most of its files missing (day folders and all), and stops when a
batch frees no measurable space.

Nor when the clock is wrong: a pass refuses to start when the clock reads more than
``retention_clock_jump_hours`` past the last time the keeper trusted (``ClockAhead``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from safecity.core.media import Sign, recordings_folder, unmounted
from safecity.store.engine import Database
from safecity.video.models import RecordedSegment
from safecity.video.recording.retention import DiskSpace
from safecity.video.recording.retention_pass import Outcome, format_bytes


class RetentionError(Exception):
    """Retention cannot run at all; the message says what to fix."""

    summary = "the media folder does not hold the recordings the index lists"
    """The reason in a few words, without paths (what /api/health shows to anyone)."""


class ClockAhead(RetentionError):
    """The clock reads further past the last trusted time than ``retention_clock_jump_hours``:
    deleting by age now could delete recordings that are not old at all."""

    summary = "the clock jumped ahead"


def check_media(root: Path, database: Database) -> None:
    """Raise RetentionError unless the media folder looks like the one the index describes:
    it exists, and holds recordings whenever the index lists some."""
    if not root.is_dir():
        raise RetentionError(
            f"media folder {root} does not exist: is its disk mounted? Retention did nothing."
        )
    try:
        problem = unmounted(root, Sign.RECORDINGS)
    except OSError as exc:
        raise RetentionError(
            f"cannot read {recordings_folder(root)}: {exc}. Retention did nothing."
        ) from exc
    if problem is None:
        return
    with database.session() as session:
        indexed = session.scalar(select(RecordedSegment.id).limit(1)) is not None
    if indexed:
        raise RetentionError(
            f"{problem}, yet the index lists recordings: is the media disk mounted at "
            f"{root}? Retention did nothing (no recording was deleted, for any reason)."
        )


def check_clock(now: datetime, trusted: datetime | None, jump_hours: float) -> None:
    """Raise ClockAhead when ``now`` is more than ``jump_hours`` past ``trusted`` (the last
    time the keeper trusted; None: nothing to compare with yet)."""
    bound = timedelta(hours=jump_hours)
    if trusted is None or now - trusted <= bound:
        return
    reads, was = now.astimezone(UTC), trusted.astimezone(UTC)
    raise ClockAhead(
        f"the clock reads {reads:%Y-%m-%d %H:%M} UTC, {_hours(now - trusted)} after the "
        f"last time retention trusted ({was:%Y-%m-%d %H:%M} UTC: the newest recording, or "
        f"its last pass), more than video.retention_clock_jump_hours "
        f"({jump_hours:g} h) allows. Retention did nothing: "
        "a clock set wrongly ahead would make recordings look expired. Check the clock "
        "(timedatectl; chronyc tracking); if it is right (nothing was recorded, or SafeCity "
        "was stopped, that long), restart SafeCity once it records again, or run "
        "`safecity recordings retention --trust-clock` (docs/running.md)"
    )


def floor_batch_problem(
    outcome: Outcome, before: DiskSpace, after: DiskSpace, root: Path
) -> str | None:
    """Why the floor must not go on after this batch, or None."""
    if outcome.missing_kept:
        return (
            f"{outcome.vanished} of the {outcome.tried} oldest recording files the index "
            f"names were missing, their folders too: the media folder {root} does "
            "not hold the files the index names — is the disk mounted? Their index rows "
            "were kept"
        )
    if (outcome.freed_bytes or outcome.failed) and after.free <= before.free:
        return (
            f"deleting {len(outcome.removed)} recording file(s) "
            f"({format_bytes(outcome.freed_bytes)}) freed no measurable space on the media "
            f"disk of {root} (free: {format_bytes(before.free)} before, "
            f"{format_bytes(after.free)} after): the disk measured may not be the one "
            "holding the recordings, the space may not be released yet (files held open, "
            "snapshots), or the files could not be deleted"
        )
    return None


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h"
