"""What a retention pass did: its running figures, the summary it returns, and its log lines."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from safecity.video.models import PurgeReason
from safecity.video.recording.retention import Deletion, DiskSpace, PurgeTotals

log = logging.getLogger("safecity.video.recording.retention_keeper")
"""Retention's one logger, whichever of its modules speaks (docs/running.md names it)."""

Key = tuple[int, PurgeReason]


@dataclass(frozen=True)
class PurgeEntry:
    """What one camera lost for one reason in one pass (the figures of its purge record)."""

    camera_id: int
    camera_code: str
    reason: PurgeReason
    segments: int
    bytes: int
    oldest_at: datetime
    newest_at: datetime
    missing_files: int
    """Of ``segments``: rows whose file was already gone, so only the row was deleted."""


@dataclass(frozen=True)
class PurgeSummary:
    now: datetime
    dry_run: bool
    """Nothing was deleted; the entries are what a real pass would delete (the disk floor
    is not simulated: ``floor_missing_bytes`` says how much it would still have to free)."""
    entries: tuple[PurgeEntry, ...]
    failed_files: int
    """Files that could not be deleted; they and their rows were kept for the next pass."""
    disk_before: DiskSpace
    disk_after: DiskSpace
    """Measured after the pass; in a dry run, the space before plus what would be freed."""
    floor_percent: float
    floor_held_bytes: int
    """Bytes the floor had to leave because holds pin them."""
    interrupted: bool
    """The keeper was stopped during the pass; the rest waits for the next one."""
    floor_stopped: str | None = None
    """Why the disk floor stopped before the disk met it, when deleting did not free the
    space it should have (files missing from the media folder, space not released); the
    message was logged at ERROR."""

    @property
    def segments(self) -> int:
        return sum(entry.segments for entry in self.entries)

    @property
    def bytes(self) -> int:
        return sum(entry.bytes for entry in self.entries)

    @property
    def missing_files(self) -> int:
        return sum(entry.missing_files for entry in self.entries)

    @property
    def floor_missing_bytes(self) -> int:
        """How far the disk is (or would be) still under its floor after the pass."""
        return self.disk_after.shortfall(self.floor_percent)


@dataclass
class Outcome:
    """What one batch did, applied to the pass only once its transaction committed."""

    removed: list[Deletion] = field(default_factory=list)
    """The rows to delete: their files were removed, or were already gone."""
    missing: Counter[Key] = field(default_factory=Counter)
    failed: int = 0
    totals: dict[Key, tuple[int | None, PurgeTotals]] = field(default_factory=dict)
    folders: set[Path] = field(default_factory=set)
    freed_bytes: int = 0
    """The (indexed) size of the files actually removed; already missing ones free nothing."""
    gone: list[Deletion] = field(default_factory=list)
    """The planned deletions whose file was already missing."""
    vanished: int = 0
    """Of ``gone``: those whose folder is missing too. A file gone from a folder that is
    still there is a row left behind (a batch whose commit failed, a file removed by hand);
    a whole missing folder is what a media folder that is not the index's looks like."""
    held_late: Counter[int] = field(default_factory=Counter)
    """Bytes per camera that a hold placed after planning kept from deletion."""
    tried: int = 0
    """Files the batch tried to delete (removed, already missing, or refused)."""
    missing_kept: bool = False
    """Most files were missing, so their rows were kept (see ``keep_missing_rows``)."""

    def keep_missing_rows(self) -> None:
        """Leave the rows whose file was missing: the media folder may not be the one their
        files are in (an unmounted disk), and they will be needed once it is back."""
        gone = {id(deletion) for deletion in self.gone}
        self.removed = [d for d in self.removed if id(d) not in gone]
        self.missing.clear()
        self.missing_kept = True


@dataclass
class Pass:
    """The running figures of one pass."""

    now: datetime
    dry_run: bool
    totals: dict[Key, PurgeTotals] = field(default_factory=dict)
    purge_ids: dict[Key, int] = field(default_factory=dict)
    missing: Counter[Key] = field(default_factory=Counter)
    failed: int = 0
    floor_held: int = 0
    floor_stopped: str | None = None
    interrupted: bool = False

    def record(self, outcome: Outcome) -> None:
        for key, (purge_id, totals) in outcome.totals.items():
            self.totals[key] = totals
            if purge_id is not None:
                self.purge_ids[key] = purge_id
        self.missing.update(outcome.missing)
        self.failed += outcome.failed

    @property
    def bytes(self) -> int:
        return sum(totals.bytes for totals in self.totals.values())


def log_summary(summary: PurgeSummary) -> None:
    verb = "would purge" if summary.dry_run else "purged"
    for entry in summary.entries:
        log.info(
            "camera %s: %s %d segment(s), %s, recorded %s to %s (%s)%s",
            entry.camera_code,
            verb,
            entry.segments,
            format_bytes(entry.bytes),
            entry.oldest_at.isoformat(timespec="seconds"),
            entry.newest_at.isoformat(timespec="seconds"),
            entry.reason.value,
            f"; {entry.missing_files} file(s) were already missing" if entry.missing_files else "",
        )
    missing = summary.floor_missing_bytes
    if summary.dry_run or summary.interrupted or summary.floor_stopped or missing == 0:
        return  # a stopped floor said why at ERROR already
    floor = f"{summary.floor_percent:g}% free-space floor"
    held = summary.floor_held_bytes
    if held >= missing:
        log.warning(
            "the media disk stays %s under its %s: legal holds pin %s of the oldest recordings. "
            "Release holds that are no longer needed, or add disk space.",
            format_bytes(missing),
            floor,
            format_bytes(held),
        )
    else:
        log.error(
            "the media disk stays %s under its %s and retention cannot free it: %s is pinned by "
            "legal holds, the rest is taken by files retention does not manage or could not "
            "delete.",
            format_bytes(missing),
            floor,
            format_bytes(held),
        )


def format_bytes(count: int) -> str:
    """1536 → '1.5 KiB': sizes as people read them in logs and tables."""
    size, unit = float(count), "B"
    for bigger in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(size) < 1024:
            break
        size, unit = size / 1024, bigger
    return f"{count} B" if unit == "B" else f"{size:.1f} {unit}"
