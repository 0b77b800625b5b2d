"""Retention carried out: the files and index rows that ``safecity.video.recording.retention``
decides to delete, deleted in bounded batches.

A city records ~110 segment files a second, millions of rows a day, so nothing here loads a
camera's (let alone the city's) segments at once. A pass:

1. **Age and quota**, a page of cameras at a time. Each camera's oldest unheld segments come
   from the (camera_id, started_at) index, beyond its age limit, or all of them while the
   camera is over its byte quota (its unheld total is one SUM). A camera with more than a
   batch to delete is fetched again after the last segment seen.
2. **Disk floor**, only while the media disk is under ``min_free_percent``: the segments that
   ended longest ago city-wide, from the ended_at index, a batch at a time, until the files
   actually removed add up to the shortfall measured; then the disk is measured again.

Every batch is carried out by ``retention_delete`` (files first, then their rows and the purge
record, in one transaction; holds read again as it goes). A pass refuses to start, and the
floor stops, as ``retention_checks`` says (an unmounted media disk, a clock that jumped, a
floor batch that frees nothing). ``retention_rows`` reads the index for it, and
``retention_pass`` keeps its figures and writes its summary to the log.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from prometheus_client import Gauge
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from safecity.city.models import Camera, Site
from safecity.core.clock import utcnow
from safecity.core.periodic import PeriodicWork
from safecity.settings import VideoSettings
from safecity.store.engine import Database
from safecity.video.models import RecordedSegment
from safecity.video.recording.retention import (
    CameraRecordings,
    DiskSpace,
    PolicyError,
    PolicyOverride,
    RetentionPolicy,
    SegmentRef,
    plan_camera,
    plan_floor,
    resolve_policy,
)
from safecity.video.recording.retention_checks import (
    RetentionError,
    check_clock,
    check_media,
    floor_batch_problem,
)
from safecity.video.recording.retention_delete import Deleter
from safecity.video.recording.retention_pass import (
    Pass,
    PurgeEntry,
    PurgeSummary,
    format_bytes,
    log_summary,
)
from safecity.video.recording.retention_rows import (
    SEGMENT_COLUMNS,
    active_holds,
    chunks,
    fetch,
    unheld,
)

log = logging.getLogger(__name__)

RETENTION_REFUSED = Gauge(
    "safecity_retention_refused",
    "1 while the last retention pass refused to run (media folder, clock), else 0",
)

_Segment = RecordedSegment


class DiskUsage(Protocol):
    @property
    def total(self) -> int: ...

    @property
    def free(self) -> int: ...


@dataclass(frozen=True)
class _CameraPolicy:
    camera_id: int
    policy: RetentionPolicy


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
        self._deleter = Deleter(media_root, remove_file)
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
        check_media(self._root, self._database)
        if not trust_clock:
            self._check_clock(now)
        with self._running:
            run = Pass(now, dry_run)
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
        log_summary(summary)
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
        check_clock(now, self._trusted, self._settings.retention_clock_jump_hours)

    def _disk(self) -> DiskSpace:
        usage = self._disk_usage(self._root)
        return DiskSpace(total=usage.total, free=usage.free)

    def _stopping(self, run: Pass) -> bool:
        if self._passes.stopping:
            run.interrupted = True
        return run.interrupted

    def _enforce_policies(self, run: Pass) -> None:
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

    def _enforce_page(self, cameras: list[_CameraPolicy], run: Pass) -> None:
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
                holds = active_holds(session, [ref for one in batch for ref in one.candidates])
                plans = [plan_camera(recordings, holds, run.now) for recordings in batch]
                outcome = self._deleter.carry_out(
                    session, [d for plan in plans for d in plan.deletions], paths, run
                )
            run.record(outcome)
            self._deleter.remove_empty_folders(outcome.folders)
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
            for chunk in chunks(camera_ids):
                rows = session.execute(
                    select(_Segment.camera_id, func.sum(_Segment.bytes))
                    .where(_Segment.camera_id.in_(chunk), unheld())
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
        query = select(*SEGMENT_COLUMNS).where(_Segment.camera_id == camera.camera_id, unheld())
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
        return fetch(
            session, query.order_by(_Segment.started_at, _Segment.id).limit(self._batch_size)
        )

    def _enforce_floor(self, run: Pass) -> DiskSpace:
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
                    plan = plan_floor(refs, active_holds(session, refs), planned_on, percent)
                    outcome = self._deleter.carry_out(
                        session, plan.deletions, paths, run, keep_missing_when_most=True
                    )
                run.record(outcome)
                run.floor_held += plan.held_bytes + sum(outcome.held_late.values())
                self._deleter.remove_empty_folders(outcome.folders)
                if plan.walked_to is not None:
                    cursor = (plan.walked_to.ended_at, plan.walked_to.id)
                before, disk = disk, self._disk()
                removed += outcome.freed_bytes
                problem = floor_batch_problem(outcome, before, disk, self._root)
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

    @staticmethod
    def _stop_floor(run: Pass, problem: str, disk: DiskSpace) -> DiskSpace:
        run.floor_stopped = problem
        log.error("disk floor stopped: %s. The rest waits for the next pass.", problem)
        return disk

    def _oldest_in_city(
        self, session: Session, cursor: tuple[datetime, int] | None
    ) -> list[tuple[SegmentRef, str]]:
        """The segments that ended longest ago, held ones included (the planner counts them
        to tell how much of the floor holds keep)."""
        query = select(*SEGMENT_COLUMNS)
        if cursor is not None:
            ended_at, segment_id = cursor
            query = query.where(
                or_(
                    _Segment.ended_at > ended_at,
                    and_(_Segment.ended_at == ended_at, _Segment.id > segment_id),
                )
            )
        return fetch(
            session, query.order_by(_Segment.ended_at, _Segment.id).limit(self._batch_size)
        )

    def _entries(self, run: Pass) -> tuple[PurgeEntry, ...]:
        codes: dict[int, str] = {}
        camera_ids = sorted({camera_id for camera_id, _ in run.totals})
        with self._database.session() as session:
            for chunk in chunks(camera_ids):
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
