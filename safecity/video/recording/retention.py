"""Which recordings retention deletes, and why. Pure: no database, no files.

Three reasons, checked in this order:

1. **Age**: a segment that ended before ``now - days`` (the camera's days, else its site's,
   else the global setting).
2. **Camera quota**: a camera whose recordings exceed its byte quota loses its oldest segments
   until it is back under.
3. **Disk floor**: while the media disk has less free space than the floor, the oldest
   segments city-wide (those that ended longest ago) go first, whichever camera recorded them.

A segment that overlaps an active (unreleased) legal hold is never deleted, whatever the reason,
and held recordings count against neither the age nor the quota: a hold must not make a camera
lose its new footage. The floor cannot take held recordings either; the floor plan says how many
bytes it still misses so that the keeper can tell an operator why.

The planners work on bounded batches of candidates (``safecity.video.recording.retention_keeper`` fetches
them in the right order), so the same functions serve a camera with ten segments and a city
with tens of millions.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from safecity.video.models import PurgeReason


class PolicyError(ValueError):
    """A stored retention setting that cannot be applied (zero or negative)."""


@dataclass(frozen=True)
class PolicyOverride:
    """The retention fields of a camera or a site; ``None`` means "inherit"."""

    days: float | None = None
    max_bytes: int | None = None


@dataclass(frozen=True)
class RetentionPolicy:
    """What one camera keeps: recordings younger than ``days``, at most ``max_bytes`` of them
    (``None``: no quota)."""

    days: float
    max_bytes: int | None = None

    def cutoff(self, now: datetime) -> datetime:
        """Segments that ended before this moment are too old to keep. Days reaching back
        beyond the calendar (a typo like 1e9) keep everything rather than fail the pass."""
        try:
            return now - timedelta(days=self.days)
        except OverflowError:
            return datetime.min.replace(tzinfo=now.tzinfo)


def resolve_policy(
    camera: PolicyOverride, site: PolicyOverride | None, default_days: float
) -> RetentionPolicy:
    """The camera's own values, else its site's, else the global days and no quota.

    Each field is inherited on its own, so a site can set a quota while its cameras keep the
    global days. Raises PolicyError for a value of zero or less: applying it would delete every
    recording of the camera, which is never what an empty-looking setting meant.
    """
    site = site or PolicyOverride()
    days = camera.days if camera.days is not None else site.days
    max_bytes = camera.max_bytes if camera.max_bytes is not None else site.max_bytes
    if days is not None and math.isnan(days):
        raise PolicyError("retention of NaN days is not a number of days")
    if days is not None and days <= 0:
        raise PolicyError(f"retention of {days:g} days would delete every recording")
    if max_bytes is not None and max_bytes <= 0:
        raise PolicyError(f"a quota of {max_bytes} bytes would delete every recording")
    return RetentionPolicy(days=default_days if days is None else days, max_bytes=max_bytes)


@dataclass(frozen=True, slots=True)
class SegmentRef:
    """What the planner needs to know about one recorded segment."""

    id: int
    camera_id: int
    started_at: datetime
    ended_at: datetime
    bytes: int


@dataclass(frozen=True, slots=True)
class HoldSpan:
    """An active legal hold: this camera's recordings in [starts_at, ends_at] must stay."""

    camera_id: int
    starts_at: datetime
    ends_at: datetime

    def pins(self, segment: SegmentRef) -> bool:
        """Whether the segment shows any moment of the held stretch. The bounds count as
        inside: a segment that merely touches the stretch is kept, since evidence at its edge
        is worth more than a few megabytes."""
        return (
            segment.camera_id == self.camera_id
            and segment.started_at <= self.ends_at
            and segment.ended_at >= self.starts_at
        )


def is_held(segment: SegmentRef, holds: Iterable[HoldSpan]) -> bool:
    return any(hold.pins(segment) for hold in holds)


@dataclass(frozen=True, slots=True)
class Deletion:
    segment: SegmentRef
    reason: PurgeReason


@dataclass(frozen=True)
class CameraRecordings:
    """One camera's batch for the age and quota rules.

    ``candidates`` are its oldest segments, oldest first, none of them earlier than what a
    previous batch covered. ``stored_bytes`` is the size of all its recordings that no hold
    pins, the candidates included.
    """

    camera_id: int
    policy: RetentionPolicy
    stored_bytes: int
    candidates: Sequence[SegmentRef]


@dataclass(frozen=True)
class CameraPlan:
    camera_id: int
    deletions: tuple[Deletion, ...]
    over_quota_bytes: int
    """How far over its quota the camera still is once these deletions are done."""
    settled: bool
    """The plan stopped at a segment the policy keeps: later segments are younger and the
    quota is met, so no later batch of this camera has anything to delete."""


def plan_camera(
    recordings: CameraRecordings, holds: Iterable[HoldSpan], now: datetime
) -> CameraPlan:
    """Age first, then quota: walk the candidates oldest first, skipping held ones."""
    camera_holds = [hold for hold in holds if hold.camera_id == recordings.camera_id]
    cutoff = recordings.policy.cutoff(now)
    quota = recordings.policy.max_bytes
    remaining = recordings.stored_bytes
    deletions: list[Deletion] = []
    settled = False
    for segment in recordings.candidates:
        if is_held(segment, camera_holds):
            continue
        if segment.ended_at < cutoff:
            reason = PurgeReason.AGE
        elif quota is not None and remaining > quota:
            reason = PurgeReason.CAMERA_QUOTA
        else:
            settled = True
            break
        deletions.append(Deletion(segment, reason))
        remaining -= segment.bytes
    over = max(0, remaining - quota) if quota is not None else 0
    return CameraPlan(recordings.camera_id, tuple(deletions), over, settled)


@dataclass(frozen=True)
class DiskSpace:
    """The media disk as ``shutil.disk_usage`` reports it, in bytes."""

    total: int
    free: int

    def floor(self, percent: float) -> int:
        """The free space the floor asks for."""
        return math.ceil(self.total * percent / 100)

    def shortfall(self, percent: float) -> int:
        """How many bytes must be freed to meet the floor (0 when it is met)."""
        return max(0, self.floor(percent) - self.free)

    def after_freeing(self, freed: int) -> DiskSpace:
        return replace(self, free=min(self.total, self.free + freed))


@dataclass(frozen=True)
class FloorPlan:
    deletions: tuple[Deletion, ...]
    missing_bytes: int
    """Still below the floor by this much once these deletions are done."""
    held_bytes: int
    """Bytes of candidates that a hold kept from deletion while the floor was not yet met."""
    walked_to: SegmentRef | None
    """The last candidate considered, oldest first: the next batch starts after it. Those
    beyond it were not needed."""

    @property
    def missing_because_of_holds(self) -> int:
        """The part of the shortfall that holds account for; the rest is space taken by
        something other than the candidates (other files, recordings not walked yet)."""
        return min(self.missing_bytes, self.held_bytes)


def plan_floor(
    candidates: Iterable[SegmentRef],
    holds: Iterable[HoldSpan],
    disk: DiskSpace,
    floor_percent: float,
) -> FloorPlan:
    """Delete the oldest unheld candidates, whichever camera recorded them, until the disk
    meets its floor.

    Oldest means "ended longest ago" (then by id): the order of the index on ``ended_at``, so
    the keeper can fetch the city's oldest segments in batches without sorting the whole table.
    For one camera it is the same order as by start, since its segments follow one another.
    """
    by_camera: dict[int, list[HoldSpan]] = {}
    for hold in holds:
        by_camera.setdefault(hold.camera_id, []).append(hold)
    needed = disk.shortfall(floor_percent)
    deletions: list[Deletion] = []
    held = 0
    walked_to: SegmentRef | None = None
    for segment in sorted(candidates, key=lambda s: (s.ended_at, s.id)):
        if needed <= 0:
            break
        walked_to = segment
        if is_held(segment, by_camera.get(segment.camera_id, ())):
            held += segment.bytes
            continue
        deletions.append(Deletion(segment, PurgeReason.DISK_FLOOR))
        needed -= segment.bytes
    return FloorPlan(tuple(deletions), max(0, needed), held, walked_to)


@dataclass(frozen=True)
class PurgeTotals:
    """What one camera lost for one reason: the figures of a ``RecordingPurge`` row."""

    segments: int
    bytes: int
    oldest_at: datetime
    newest_at: datetime

    def plus(self, other: PurgeTotals) -> PurgeTotals:
        return PurgeTotals(
            segments=self.segments + other.segments,
            bytes=self.bytes + other.bytes,
            oldest_at=min(self.oldest_at, other.oldest_at),
            newest_at=max(self.newest_at, other.newest_at),
        )


def tally(deletions: Iterable[Deletion]) -> dict[tuple[int, PurgeReason], PurgeTotals]:
    """Group deletions by (camera, reason): one purge record each."""
    totals: dict[tuple[int, PurgeReason], PurgeTotals] = {}
    for deletion in deletions:
        segment = deletion.segment
        one = PurgeTotals(1, segment.bytes, segment.started_at, segment.ended_at)
        key = (segment.camera_id, deletion.reason)
        totals[key] = totals[key].plus(one) if key in totals else one
    return totals
