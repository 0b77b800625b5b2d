"""Retention carried out: the files and index rows that ``safecity.video.recording.retention`` decides
to delete, deleted in bounded batches.

A city records ~110 segment files a second, millions of rows a day, so nothing here loads a
camera's (let alone the city's) segments at once. A pass:

1. **Age and quota**, a page of cameras at a time. Each camera's oldest unheld segments come
   from the (camera_id, started_at) index, beyond its age limit, or all of them while the
   camera is over its byte quota (its unheld total is one SUM). A camera with more than a
   batch to delete is fetched again after the last segment seen.
2. **Disk floor**, only while the media disk is under ``min_free_percent``: the segments that
   ended longest ago city-wide, from the ended_at index, a batch at a time, until the files
   actually removed add up to the shortfall measured; then the disk is measured again.

Every batch deletes the files first, then their rows and the purge record, in one transaction:
if the commit fails, the next pass finds rows whose file is already gone, which is fine (they
are counted, and deleted). A file that cannot be deleted keeps its row and is tried again on
the next pass. Holds are read when a batch is planned and read again (one indexed query per
``_HOLD_RECHECK_FILES`` files) just before its files are deleted, so a hold committed while a
batch is under way protects what it pins from the next few files on.

Deleting must never run away when the files are not where the index says (an unmounted disk
whose mount point is an empty folder): a pass refuses to start when the recordings folder is
missing or empty while the index lists recordings, and the floor stops, leaving those rows
alone, when a batch finds most of its files missing (day folders and all), and stops when a
batch frees no measurable space.

Nor when the clock is wrong: a pass refuses to start when the clock reads more than
``retention_clock_jump_hours`` past the last time the keeper trusted (``ClockAhead``).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol, TypeVar

from prometheus_client import Gauge
from sqlalchemy import ColumnElement, Select, and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from safecity.city.models import Camera, Site
from safecity.core.periodic import PeriodicWork
from safecity.settings import VideoSettings
from safecity.store.base import utcnow
from safecity.store.engine import Database
from safecity.video.models import LegalHold, PurgeReason, RecordedSegment, RecordingPurge
from safecity.video.recording.retention import (
    CameraRecordings,
    Deletion,
    DiskSpace,
    HoldSpan,
    PolicyError,
    PolicyOverride,
    PurgeTotals,
    RetentionPolicy,
    SegmentRef,
    is_held,
    plan_camera,
    plan_floor,
    resolve_policy,
    tally,
)

log = logging.getLogger(__name__)

RETENTION_REFUSED = Gauge(
    "safecity_retention_refused",
    "1 while the last retention pass refused to run (media folder, clock), else 0",
)

_IN_CHUNK = 500
"""Ids per IN (...) list: well under every backend's bound-parameter limit."""

_HOLD_RECHECK_FILES = 100
"""Files deleted between two reads of the active holds within a batch."""

RECORDINGS_FOLDER = "recordings"
"""Where the recorder writes inside the media folder: ``safecity.video.recording.recorder``'s folder of
the same name (not imported from there: that module loads PyAV, which the CLI does not need)."""

_MOSTLY_MISSING = 0.5
"""A floor batch that finds at least this share of its files already gone, their folders too,
stops the floor."""

Key = tuple[int, PurgeReason]
_T = TypeVar("_T")


class DiskUsage(Protocol):
    @property
    def total(self) -> int: ...

    @property
    def free(self) -> int: ...


class RetentionError(Exception):
    """Retention cannot run at all; the message says what to fix."""

    summary = "the media folder does not hold the recordings the index lists"
    """The reason in a few words, without paths (what /api/health shows to anyone)."""


class ClockAhead(RetentionError):
    """The clock reads further past the last trusted time than ``retention_clock_jump_hours``:
    deleting by age now could delete recordings that are not old at all."""

    summary = "the clock jumped ahead"


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


@dataclass(frozen=True)
class _CameraPolicy:
    camera_id: int
    policy: RetentionPolicy


@dataclass
class _Outcome:
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
class _Pass:
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

    def record(self, outcome: _Outcome) -> None:
        for key, (purge_id, totals) in outcome.totals.items():
            self.totals[key] = totals
            if purge_id is not None:
                self.purge_ids[key] = purge_id
        self.missing.update(outcome.missing)
        self.failed += outcome.failed

    @property
    def bytes(self) -> int:
        return sum(totals.bytes for totals in self.totals.values())


_Segment = RecordedSegment
_SegmentQuery = Select[int, int, datetime, datetime, int, str]
_SEGMENT_COLUMNS = (
    _Segment.id,
    _Segment.camera_id,
    _Segment.started_at,
    _Segment.ended_at,
    _Segment.bytes,
    _Segment.path,
)


def _unheld() -> ColumnElement[bool]:
    """No active hold pins this segment (the same overlap rule as ``HoldSpan.pins``)."""
    return ~(
        select(LegalHold.id)
        .where(
            LegalHold.camera_id == _Segment.camera_id,
            LegalHold.released_at.is_(None),
            LegalHold.starts_at <= _Segment.ended_at,
            LegalHold.ends_at >= _Segment.started_at,
        )
        .exists()
    )


def _fetch(session: Session, query: _SegmentQuery) -> list[tuple[SegmentRef, str]]:
    """Run a query over ``_SEGMENT_COLUMNS``: each segment for the planner, with its path."""
    return [
        (SegmentRef(segment_id, camera_id, started_at, ended_at, size), path)
        for segment_id, camera_id, started_at, ended_at, size, path in session.execute(query)
    ]


def _figures(totals: PurgeTotals) -> dict[str, object]:
    return {
        "segments": totals.segments,
        "bytes": totals.bytes,
        "oldest_at": totals.oldest_at,
        "newest_at": totals.newest_at,
    }


def _chunks(items: Sequence[_T], size: int = _IN_CHUNK) -> Iterable[Sequence[_T]]:
    return (items[start : start + size] for start in range(0, len(items), size))


class RetentionKeeper:
    """Applies retention to one media folder and its index. Run one keeper per media folder.

    ``run_once`` makes one pass; ``start`` runs a pass every ``retention_check_seconds`` on a
    background thread until ``stop``. ``disk_usage`` and ``remove_file`` are the operating
    system's unless a test needs a disk that fills up or a file that will not go.
    """

    def __init__(
        self,
        database: Database,
        media_root: Path,
        settings: VideoSettings,
        disk_usage: Callable[[Path], DiskUsage] = shutil.disk_usage,
        *,
        remove_file: Callable[[Path], None] = os.remove,
        batch_size: int = 500,
        cameras_per_batch: int = 20,
    ) -> None:
        if batch_size < 1 or cameras_per_batch < 1:
            raise ValueError("batch_size and cameras_per_batch must be at least 1")
        self._database = database
        self._root = media_root
        self._settings = settings
        self._disk_usage = disk_usage
        self._remove_file = remove_file
        self._batch_size = batch_size
        self._cameras_per_batch = cameras_per_batch
        self._running = threading.Lock()
        self._passes = PeriodicWork(
            "retention-keeper",
            self._background_pass,
            first=0,
            every=settings.retention_check_seconds,
            log=log,
            failed="retention pass failed",
        )
        self._trusted: datetime | None = None
        """The latest time this keeper believes the clock was right: the newest recording's
        end when it first looked, then the start of its last pass."""
        self._looked = False
        self._refusal: RetentionError | None = None

    # -- one pass ---------------------------------------------------------------------------

    def run_once(
        self, now: datetime, *, dry_run: bool = False, trust_clock: bool = False
    ) -> PurgeSummary:
        """Delete (or, with ``dry_run``, only list) what retention asks for at ``now``.

        Raises RetentionError, deleting nothing, when the media folder is missing, or when its
        recordings folder is missing or empty while the index lists recordings: an unmounted
        disk must not make every indexed file look deleted. Raises ClockAhead, deleting
        nothing, when ``now`` is too far past the last trusted time, unless ``trust_clock``
        (a person checked the clock).
        """
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self._check_media()
        if not trust_clock:
            self._check_clock(now)
        with self._running:
            run = _Pass(now, dry_run)
            disk_before = self._disk()
            self._enforce_policies(run)
            if dry_run:
                disk_after = disk_before.after_freeing(run.bytes)
            else:
                disk_after = self._enforce_floor(run)
            summary = PurgeSummary(
                now=now,
                dry_run=dry_run,
                entries=self._entries(run),
                failed_files=run.failed,
                disk_before=disk_before,
                disk_after=disk_after,
                floor_percent=self._settings.min_free_percent,
                floor_held_bytes=run.floor_held,
                interrupted=run.interrupted,
                floor_stopped=run.floor_stopped,
            )
            self._trusted = max(now, self._trusted) if self._trusted else now
        _log_summary(summary)
        return summary

    def _look_at_the_index(self) -> None:
        """Take the newest recording's end as the trusted time, once."""
        if self._looked:
            return
        with self._database.session() as session:
            self._trusted = session.scalar(select(func.max(_Segment.ended_at)))
        self._looked = True

    @property
    def refusal(self) -> RetentionError | None:
        """Why the last background pass did nothing, or None when it ran."""
        return self._refusal

    def _check_clock(self, now: datetime) -> None:
        """Raise ClockAhead when ``now`` is further past the trusted time than the setting
        allows. The trusted time is read from the index once, before this keeper's first pass
        (before the cameras record anything under a wrong clock), and then only moves with
        passes that ran: recordings made after a jump carry the jumped time and must not make
        it look right."""
        self._look_at_the_index()
        trusted = self._trusted
        bound = timedelta(hours=self._settings.retention_clock_jump_hours)
        if trusted is None or now - trusted <= bound:
            return
        reads, was = now.astimezone(UTC), trusted.astimezone(UTC)
        raise ClockAhead(
            f"the clock reads {reads:%Y-%m-%d %H:%M} UTC, {_hours(now - trusted)} after the "
            f"last time retention trusted ({was:%Y-%m-%d %H:%M} UTC: the newest recording, or "
            f"its last pass), more than video.retention_clock_jump_hours "
            f"({self._settings.retention_clock_jump_hours:g} h) allows. Retention did nothing: "
            "a clock set wrongly ahead would make recordings look expired. Check the clock "
            "(timedatectl; chronyc tracking); if it is right (nothing was recorded, or SafeCity "
            "was stopped, that long), restart SafeCity once it records again, or run "
            "`safecity recordings retention --trust-clock` (docs/running.md)"
        )

    def _check_media(self) -> None:
        """Raise RetentionError unless the media folder looks like the one the index
        describes: it exists, and holds recordings whenever the index lists some."""
        if not self._root.is_dir():
            raise RetentionError(
                f"media folder {self._root} does not exist: is its disk mounted? "
                "Retention did nothing."
            )
        recordings = self._root / RECORDINGS_FOLDER
        try:
            empty = next(recordings.iterdir(), None) is None
            state = "is empty"
        except (FileNotFoundError, NotADirectoryError):
            empty, state = True, "does not exist"
        except OSError as exc:
            raise RetentionError(
                f"cannot read {recordings}: {exc}. Retention did nothing."
            ) from exc
        if not empty:
            return
        with self._database.session() as session:
            indexed = session.scalar(select(_Segment.id).limit(1)) is not None
        if indexed:
            raise RetentionError(
                f"recordings folder {recordings} {state}, yet the index lists recordings: is "
                f"the media disk mounted at {self._root}? Retention did nothing (no recording "
                "was deleted, for any reason)."
            )

    def _disk(self) -> DiskSpace:
        usage = self._disk_usage(self._root)
        return DiskSpace(total=usage.total, free=usage.free)

    def _stopping(self, run: _Pass) -> bool:
        if self._passes.stopping:
            run.interrupted = True
        return run.interrupted

    # -- age and quota, camera by camera ------------------------------------------------------

    def _enforce_policies(self, run: _Pass) -> None:
        after_id = 0
        while not self._stopping(run):
            last_id, cameras = self._camera_page(after_id)
            if last_id is None:
                return
            after_id = last_id
            self._enforce_page(cameras, run)

    def _camera_page(self, after_id: int) -> tuple[int | None, list[_CameraPolicy]]:
        """The next cameras by id with their effective policies. A camera whose stored
        setting is unusable is logged and left alone (the disk floor still applies to it)."""
        with self._database.session() as session:
            rows = session.execute(
                select(
                    Camera.id,
                    Camera.code,
                    Camera.retention_days,
                    Camera.retention_bytes,
                    Site.retention_days,
                    Site.retention_bytes,
                )
                .outerjoin(Site, Camera.site_id == Site.id)
                .where(Camera.id > after_id)
                .order_by(Camera.id)
                .limit(self._cameras_per_batch)
            ).all()
        cameras: list[_CameraPolicy] = []
        for camera_id, code, days, max_bytes, site_days, site_max_bytes in rows:
            try:
                policy = resolve_policy(
                    PolicyOverride(days, max_bytes),
                    PolicyOverride(site_days, site_max_bytes),
                    self._settings.retention_days,
                )
            except PolicyError as exc:
                log.error(
                    "camera %s: %s; its recordings are kept by age and quota until its (or its "
                    "site's) retention setting is fixed",
                    code,
                    exc,
                )
                continue
            cameras.append(_CameraPolicy(camera_id, policy))
        return (rows[-1][0] if rows else None), cameras

    def _enforce_page(self, cameras: list[_CameraPolicy], run: _Pass) -> None:
        stored = self._unheld_bytes(
            [c.camera_id for c in cameras if c.policy.max_bytes is not None]
        )
        cursors: dict[int, tuple[datetime, int]] = {}
        pending = cameras
        while pending and not self._stopping(run):
            paths: dict[int, str] = {}
            batch: list[CameraRecordings] = []
            with self._database.session() as session:
                for camera in pending:
                    rows = self._camera_candidates(
                        session, camera, stored.get(camera.camera_id, 0), cursors, run.now
                    )
                    paths.update((ref.id, path) for ref, path in rows)
                    refs = [ref for ref, _ in rows]
                    batch.append(
                        CameraRecordings(
                            camera.camera_id, camera.policy, stored.get(camera.camera_id, 0), refs
                        )
                    )
                holds = self._holds(session, [ref for one in batch for ref in one.candidates])
                plans = [plan_camera(recordings, holds, run.now) for recordings in batch]
                outcome = self._carry_out(
                    session, [d for plan in plans for d in plan.deletions], paths, run
                )
            run.record(outcome)
            self._remove_empty_folders(outcome.folders)
            freed = Counter[int](outcome.held_late)  # held now: no longer counts either
            for deletion in outcome.removed:
                freed[deletion.segment.camera_id] += deletion.segment.bytes
            next_round: list[_CameraPolicy] = []
            for camera, recordings, plan in zip(pending, batch, plans, strict=True):
                if camera.camera_id in stored:
                    stored[camera.camera_id] -= freed[camera.camera_id]
                if len(recordings.candidates) == self._batch_size and not plan.settled:
                    last = recordings.candidates[-1]
                    cursors[camera.camera_id] = (last.started_at, last.id)
                    next_round.append(camera)
            pending = next_round

    def _unheld_bytes(self, camera_ids: list[int]) -> dict[int, int]:
        """Each camera's stored bytes that no hold pins (what its quota is measured on)."""
        totals = dict.fromkeys(camera_ids, 0)
        with self._database.session() as session:
            for chunk in _chunks(camera_ids):
                rows = session.execute(
                    select(_Segment.camera_id, func.sum(_Segment.bytes))
                    .where(_Segment.camera_id.in_(chunk), _unheld())
                    .group_by(_Segment.camera_id)
                )
                totals.update((camera_id, int(total or 0)) for camera_id, total in rows)
        return totals

    def _camera_candidates(
        self,
        session: Session,
        camera: _CameraPolicy,
        stored_bytes: int,
        cursors: dict[int, tuple[datetime, int]],
        now: datetime,
    ) -> list[tuple[SegmentRef, str]]:
        """The camera's next oldest unheld segments: beyond its age limit, or any age while it
        is over its quota."""
        query = select(*_SEGMENT_COLUMNS).where(_Segment.camera_id == camera.camera_id, _unheld())
        quota = camera.policy.max_bytes
        if quota is None or stored_bytes <= quota:
            cutoff = camera.policy.cutoff(now)
            query = query.where(_Segment.started_at < cutoff, _Segment.ended_at < cutoff)
        cursor = cursors.get(camera.camera_id)
        if cursor is not None:
            started_at, segment_id = cursor
            query = query.where(
                or_(
                    _Segment.started_at > started_at,
                    and_(_Segment.started_at == started_at, _Segment.id > segment_id),
                )
            )
        return _fetch(
            session, query.order_by(_Segment.started_at, _Segment.id).limit(self._batch_size)
        )

    # -- the disk floor, city-wide ------------------------------------------------------------

    def _enforce_floor(self, run: _Pass) -> DiskSpace:
        """Delete the city's oldest unheld recordings while the disk is under its floor.

        Rounds: measure the shortfall, delete batches until the files actually removed (not
        rows whose file was already gone) add up to it, measure again. Another round follows
        only if the last one freed at least half of what it removed (recording goes on
        meanwhile); otherwise, and after any batch that finds most of its files missing (their
        folders too) or frees no measurable space, the floor stops with an ERROR rather than
        walk on through the index.
        """
        percent = self._settings.min_free_percent
        disk = self._disk()
        cursor: tuple[datetime, int] | None = None
        while not self._stopping(run):
            target = disk.shortfall(percent)
            if target <= 0:
                break
            start, removed = disk, 0
            while removed < target and disk.shortfall(percent) > 0:
                if self._stopping(run):
                    return disk
                paths: dict[int, str] = {}
                with self._database.session() as session:
                    rows = self._oldest_in_city(session, cursor)
                    if not rows:
                        return disk
                    paths.update((ref.id, path) for ref, path in rows)
                    refs = [ref for ref, _ in rows]
                    # what this round still has to remove, or less if the disk says so
                    planned_on = max(start.after_freeing(removed), disk, key=lambda d: d.free)
                    plan = plan_floor(refs, self._holds(session, refs), planned_on, percent)
                    outcome = self._carry_out(
                        session, plan.deletions, paths, run, keep_missing_when_most=True
                    )
                run.record(outcome)
                run.floor_held += plan.held_bytes + sum(outcome.held_late.values())
                self._remove_empty_folders(outcome.folders)
                if plan.walked_to is not None:
                    cursor = (plan.walked_to.ended_at, plan.walked_to.id)
                before, disk = disk, self._disk()
                removed += outcome.freed_bytes
                problem = self._floor_batch_problem(outcome, before, disk)
                if problem is not None:
                    return self._stop_floor(run, problem, disk)
            gained = disk.free - start.free
            if disk.shortfall(percent) > 0 and removed > 0 and 2 * gained < removed:
                return self._stop_floor(
                    run,
                    f"deleting {format_bytes(removed)} of recordings freed only "
                    f"{format_bytes(max(0, gained))} on the media disk of {self._root}: the "
                    "disk measured may not be the one holding the recordings (a separate mount "
                    "under the media folder?), or the space is not released (files held open, "
                    "snapshots)",
                    disk,
                )
        return disk

    def _floor_batch_problem(
        self, outcome: _Outcome, before: DiskSpace, after: DiskSpace
    ) -> str | None:
        """Why the floor must not go on after this batch, or None."""
        if outcome.missing_kept:
            return (
                f"{outcome.vanished} of the {outcome.tried} oldest recording files the index "
                f"names were missing, their folders too: the media folder {self._root} does "
                "not hold the files the index names — is the disk mounted? Their index rows "
                "were kept"
            )
        if (outcome.freed_bytes or outcome.failed) and after.free <= before.free:
            return (
                f"deleting {len(outcome.removed)} recording file(s) "
                f"({format_bytes(outcome.freed_bytes)}) freed no measurable space on the media "
                f"disk of {self._root} (free: {format_bytes(before.free)} before, "
                f"{format_bytes(after.free)} after): the disk measured may not be the one "
                "holding the recordings, the space may not be released yet (files held open, "
                "snapshots), or the files could not be deleted"
            )
        return None

    @staticmethod
    def _stop_floor(run: _Pass, problem: str, disk: DiskSpace) -> DiskSpace:
        run.floor_stopped = problem
        log.error("disk floor stopped: %s. The rest waits for the next pass.", problem)
        return disk

    def _oldest_in_city(
        self, session: Session, cursor: tuple[datetime, int] | None
    ) -> list[tuple[SegmentRef, str]]:
        """The segments that ended longest ago, held ones included (the planner counts them
        to tell how much of the floor holds keep)."""
        query = select(*_SEGMENT_COLUMNS)
        if cursor is not None:
            ended_at, segment_id = cursor
            query = query.where(
                or_(
                    _Segment.ended_at > ended_at,
                    and_(_Segment.ended_at == ended_at, _Segment.id > segment_id),
                )
            )
        return _fetch(
            session, query.order_by(_Segment.ended_at, _Segment.id).limit(self._batch_size)
        )

    # -- carrying a plan out --------------------------------------------------------------------

    @staticmethod
    def _holds(session: Session, segments: Sequence[SegmentRef]) -> list[HoldSpan]:
        """The active holds that could pin any of these segments."""
        if not segments:
            return []
        rows = session.execute(
            select(LegalHold.camera_id, LegalHold.starts_at, LegalHold.ends_at).where(
                LegalHold.released_at.is_(None),
                LegalHold.camera_id.in_(sorted({s.camera_id for s in segments})),
                LegalHold.starts_at <= max(s.ended_at for s in segments),
                LegalHold.ends_at >= min(s.started_at for s in segments),
            )
        )
        return [HoldSpan(camera_id, starts_at, ends_at) for camera_id, starts_at, ends_at in rows]

    def _carry_out(
        self,
        session: Session,
        deletions: Sequence[Deletion],
        paths: dict[int, str],
        run: _Pass,
        *,
        keep_missing_when_most: bool = False,
    ) -> _Outcome:
        """Delete the files, then their rows, and bring this pass's purge records up to date,
        all inside the caller's transaction. A dry run only counts.

        The active holds are read again before every ``_HOLD_RECHECK_FILES`` files, and a
        segment a hold now pins is kept. With ``keep_missing_when_most``, when most files were
        already missing, folders and all, their rows are kept (``_Outcome.keep_missing_rows``).
        """
        outcome = _Outcome()
        failures: dict[int, list[str]] = {}
        for chunk in _chunks(deletions, _HOLD_RECHECK_FILES):
            if not run.dry_run:
                chunk = self._still_unheld(session, chunk, outcome)
            for deletion in chunk:
                segment = deletion.segment
                if not run.dry_run:
                    try:
                        folder, existed = self._delete_file(paths[segment.id])
                    except (OSError, ValueError) as exc:
                        failures.setdefault(segment.camera_id, []).append(str(exc))
                        continue
                    if existed:
                        outcome.folders.add(folder)
                        outcome.freed_bytes += segment.bytes
                    else:
                        outcome.missing[(segment.camera_id, deletion.reason)] += 1
                        outcome.gone.append(deletion)
                        if not folder.is_dir():
                            outcome.vanished += 1
                outcome.removed.append(deletion)
        outcome.failed = sum(len(problems) for problems in failures.values())
        outcome.tried = len(outcome.removed) + outcome.failed
        for camera_id, problems in failures.items():
            log.error(
                "camera id %d: could not delete %d recording file(s), kept them and their index "
                "rows for the next pass; first: %s",
                camera_id,
                len(problems),
                problems[0],
            )
        mostly_missing = outcome.vanished >= _MOSTLY_MISSING * outcome.tried
        if keep_missing_when_most and outcome.vanished and mostly_missing:
            outcome.keep_missing_rows()
        for key, delta in tally(outcome.removed).items():
            before = run.totals.get(key)
            outcome.totals[key] = (run.purge_ids.get(key), before.plus(delta) if before else delta)
        if not run.dry_run and outcome.removed:
            self._write_rows(session, outcome, run.now)
        return outcome

    def _still_unheld(
        self, session: Session, deletions: Sequence[Deletion], outcome: _Outcome
    ) -> list[Deletion]:
        """The deletions that no active hold pins now: a hold committed since the batch was
        planned keeps its segments (one indexed query on the holds of these cameras)."""
        holds = self._holds(session, [deletion.segment for deletion in deletions])
        if not holds:
            return list(deletions)
        kept: list[Deletion] = []
        for deletion in deletions:
            segment = deletion.segment
            if is_held(segment, holds):
                outcome.held_late[segment.camera_id] += segment.bytes
            else:
                kept.append(deletion)
        late = len(deletions) - len(kept)
        if late:
            log.info("kept %d segment(s) that a legal hold placed during this pass pins", late)
        return kept

    def _delete_file(self, relative: str) -> tuple[Path, bool]:
        """Delete one segment's file; return its folder and whether the file was there.
        Raises OSError when it cannot be deleted, ValueError for a path that is not inside
        the media folder."""
        file = self._media_file(relative)
        try:
            self._remove_file(file)
        except FileNotFoundError:
            return file.parent, False
        return file.parent, True

    def _media_file(self, relative: str) -> Path:
        """The file a stored path names. Raises ValueError for one that would lead outside
        the media folder (absolute, or with '..'): a damaged row must not delete anything else."""
        if not relative.strip("/") or relative.startswith("/") or ".." in relative.split("/"):
            raise ValueError(f"{relative!r} is not a path inside the media folder")
        return self._root / relative

    @staticmethod
    def _write_rows(session: Session, outcome: _Outcome, now: datetime) -> None:
        """Delete the batch's rows and insert or update this pass's purge records, a
        statement per kind rather than per camera (a floor batch touches hundreds)."""
        ids = [deletion.segment.id for deletion in outcome.removed]
        for chunk in _chunks(ids):
            session.execute(delete(_Segment).where(_Segment.id.in_(chunk)))
        new = [
            (key, totals) for key, (purge_id, totals) in outcome.totals.items() if purge_id is None
        ]
        grown = [
            {"id": purge_id, **_figures(totals)}
            for purge_id, totals in outcome.totals.values()
            if purge_id is not None
        ]
        if grown:
            session.execute(update(RecordingPurge), grown)
        if new:
            purge_ids = session.scalars(
                insert(RecordingPurge).returning(RecordingPurge.id, sort_by_parameter_order=True),
                [
                    {"camera_id": camera_id, "reason": reason, "purged_at": now, **_figures(totals)}
                    for (camera_id, reason), totals in new
                ],
            ).all()
            for (key, totals), purge_id in zip(new, purge_ids, strict=True):
                outcome.totals[key] = (purge_id, totals)

    def _remove_empty_folders(self, folders: Iterable[Path]) -> None:
        """Remove the folders (a camera's day, ``recordings/<camera>/<date>``) that deleting
        files emptied. Their parents stay, so that the recorder never finds a camera's folder
        vanishing while it creates the next day's folder in it."""
        for folder in folders:
            try:
                folder.rmdir()
            except OSError:  # not empty, or already gone
                continue

    def _entries(self, run: _Pass) -> tuple[PurgeEntry, ...]:
        codes: dict[int, str] = {}
        camera_ids = sorted({camera_id for camera_id, _ in run.totals})
        with self._database.session() as session:
            for chunk in _chunks(camera_ids):
                rows = session.execute(select(Camera.id, Camera.code).where(Camera.id.in_(chunk)))
                codes.update((camera_id, code) for camera_id, code in rows)
        entries = [
            PurgeEntry(
                camera_id=camera_id,
                camera_code=codes.get(camera_id, f"#{camera_id}"),
                reason=reason,
                segments=totals.segments,
                bytes=totals.bytes,
                oldest_at=totals.oldest_at,
                newest_at=totals.newest_at,
                missing_files=run.missing[(camera_id, reason)],
            )
            for (camera_id, reason), totals in run.totals.items()
        ]
        return tuple(sorted(entries, key=lambda entry: (entry.camera_code, entry.reason)))

    # -- in the background ------------------------------------------------------------------

    def start(self) -> None:
        """Run a pass now and then every ``retention_check_seconds`` on a background thread."""
        if self._passes.started:
            raise RuntimeError("the retention keeper is already running")
        self._look_at_the_index()  # now, before the node's cameras record under this clock
        self._passes.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the background passes; a pass under way ends after its current batch."""
        if not self._passes.stop(timeout):
            log.warning("retention keeper still busy after %.0f s; left it to finish", timeout)

    def _background_pass(self) -> None:
        try:
            self.run_once(utcnow())
            self._refusal = None
        except RetentionError as exc:
            self._refusal = exc
            log.error("retention pass refused: %s", exc)
        finally:
            RETENTION_REFUSED.set(1 if self._refusal is not None else 0)


def _log_summary(summary: PurgeSummary) -> None:
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


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h"


def format_bytes(count: int) -> str:
    """1536 → '1.5 KiB': sizes as people read them in logs and tables."""
    size, unit = float(count), "B"
    for bigger in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(size) < 1024:
            break
        size, unit = size / 1024, bigger
    return f"{count} B" if unit == "B" else f"{size:.1f} {unit}"
