"""Retention on real files in a media folder, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from safecity.city.models import Camera, District, Site
from safecity.core.clock import utcnow
from safecity.settings import VideoSettings
from safecity.store.engine import Database
from safecity.video.models import LegalHold, PurgeReason, RecordedSegment, RecordingPurge
from safecity.video.recording import retention_delete, retention_keeper
from safecity.video.recording.retention import (
    CameraPlan,
    CameraRecordings,
    DiskSpace,
    FloorPlan,
    plan_camera,
    plan_floor,
)
from safecity.video.recording.retention import HoldSpan as Span
from safecity.video.recording.retention import SegmentRef as Ref
from safecity.video.recording.retention_checks import ClockAhead, RetentionError
from safecity.video.recording.retention_keeper import RetentionKeeper
from tests import factories as f

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SIZE = 1000
YEAR_OF_HOURS = 24 * 365
"""Most tests run retention at a made-up NOW, days after their newest recording: a bound on
clock jumps that lets them (the clock guard has tests of its own)."""
SETTINGS = VideoSettings(
    retention_days=30, min_free_percent=5, retention_clock_jump_hours=YEAR_OF_HOURS
)
LOGGER = "safecity.video.recording.retention_keeper"


class Usage(NamedTuple):
    total: int
    used: int
    free: int


class FakeDisk:
    """A disk of ``total`` bytes holding ``other`` bytes besides the media folder's files, so
    its free space grows as retention deletes them."""

    def __init__(self, media: Path, total: int, other: int = 0) -> None:
        self.media, self.total, self.other = media, total, other

    def __call__(self, path: Path) -> Usage:
        assert path == self.media
        used = self.other + sum(p.stat().st_size for p in self.media.rglob("*") if p.is_file())
        return Usage(self.total, used, self.total - used)


@pytest.fixture
def media(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    return folder


def add_camera(
    database: Database, code: str, site: dict[str, Any] | None = None, **fields: Any
) -> int:
    """A camera (at a new site with ``site``'s fields, if given)."""
    with database.session() as session:
        district = session.scalar(select(District).where(District.code == "west"))
        if district is None:
            district = f.add_district(session, "west", f.WEST)
        at: Site | None = None
        if site is not None:
            at = f.add_site(session, f"site-{code.lower()}", district)
            for name, value in site.items():
                setattr(at, name, value)
        return f.add_camera(session, code, district, at, **fields).id


def record(
    database: Database,
    media: Path,
    camera_id: int,
    first: datetime,
    count: int = 1,
    *,
    seconds: int = 10,
    on_disk: bool = True,
) -> list[str]:
    """``count`` back-to-back segments from ``first``: files of SIZE bytes and their rows."""
    with database.session() as session:
        code = session.get_one(Camera, camera_id).code
        paths = []
        for index in range(count):
            started = first + timedelta(seconds=seconds * index)
            path = f"recordings/{code}/{started:%Y-%m-%d}/{started:%H%M%S}-000.mp4"
            if on_disk:
                (media / path).parent.mkdir(parents=True, exist_ok=True)
                (media / path).write_bytes(b"\0" * SIZE)
            session.add(
                RecordedSegment(
                    camera_id=camera_id,
                    started_at=started,
                    ended_at=started + timedelta(seconds=seconds),
                    path=path,
                    bytes=SIZE,
                    sha256="0" * 64,
                    codec="avc1.64001f",
                    time_scale=90000,
                    init_bytes=100,
                    packets=seconds * 25,
                    keyframes=[[0, 100]],
                )
            )
            paths.append(path)
    return paths


def hold(
    database: Database, camera_id: int, starts_at: datetime, ends_at: datetime, **fields: Any
) -> None:
    with database.session() as session:
        session.add(
            LegalHold(
                camera_id=camera_id,
                starts_at=starts_at,
                ends_at=ends_at,
                kind="incident",
                reason="robbery at the market",
                **fields,
            )
        )


def indexed(database: Database) -> set[str]:
    with database.session() as session:
        return set(session.scalars(select(RecordedSegment.path)))


def on_disk(media: Path) -> set[str]:
    return {p.relative_to(media).as_posix() for p in media.rglob("*.mp4")}


def purges(database: Database) -> list[tuple[str, PurgeReason, int, int, datetime, datetime]]:
    with database.session() as session:
        rows = session.execute(
            select(
                Camera.code,
                RecordingPurge.reason,
                RecordingPurge.segments,
                RecordingPurge.bytes,
                RecordingPurge.oldest_at,
                RecordingPurge.newest_at,
            )
            .join(Camera, Camera.id == RecordingPurge.camera_id)
            .order_by(Camera.code, RecordingPurge.reason)
        )
        return [
            (code, reason, n, size, oldest, newest)
            for code, reason, n, size, oldest, newest in rows
        ]


def keeper(
    database: Database,
    media: Path,
    disk: Callable[[Path], Usage] | None = None,
    settings: VideoSettings = SETTINGS,
    **options: Any,
) -> RetentionKeeper:
    return RetentionKeeper(
        database, media, settings, disk or FakeDisk(media, total=10**12), **options
    )


def test_age_deletes_files_then_rows_and_the_emptied_day_folder(
    database: Database, media: Path, caplog: pytest.LogCaptureFixture
) -> None:
    camera = add_camera(database, "CAM-1")
    first = NOW - timedelta(days=31)
    old = record(database, media, camera, first, 3)
    young = record(database, media, camera, NOW - timedelta(days=1), 2)
    caplog.set_level(logging.INFO, logger=LOGGER)

    summary = keeper(database, media).run_once(NOW)

    assert indexed(database) == on_disk(media) == set(young)
    assert not (media / old[0]).parent.exists()  # the day folder went with its last file
    assert (media / young[0]).parent.exists()
    oldest, newest = first, first + timedelta(seconds=30)
    assert purges(database) == [("CAM-1", PurgeReason.AGE, 3, 3 * SIZE, oldest, newest)]
    (entry,) = summary.entries
    assert (entry.camera_code, entry.reason, entry.segments, entry.bytes) == (
        "CAM-1",
        PurgeReason.AGE,
        3,
        3 * SIZE,
    )
    assert summary.failed_files == 0 and summary.missing_files == 0
    assert "camera CAM-1: purged 3 segment(s), 2.9 KiB" in caplog.text
    assert "(age)" in caplog.text


def test_quota_keeps_the_newest_recordings_within_the_cameras_bytes(
    database: Database, media: Path
) -> None:
    camera = add_camera(database, "CAM-1", retention_bytes=3 * SIZE)
    paths = record(database, media, camera, NOW - timedelta(hours=1), 5)

    keeper(database, media).run_once(NOW)

    assert indexed(database) == on_disk(media) == set(paths[2:])
    assert [row[1:4] for row in purges(database)] == [(PurgeReason.CAMERA_QUOTA, 2, 2 * SIZE)]


def test_a_sites_policy_is_inherited(database: Database, media: Path) -> None:
    at_site = add_camera(database, "PARK-1", site={"retention_days": 7})
    alone = add_camera(database, "STREET-1")
    gone = record(database, media, at_site, NOW - timedelta(days=8))
    kept = record(database, media, at_site, NOW - timedelta(days=6))
    kept += record(database, media, alone, NOW - timedelta(days=8))

    keeper(database, media).run_once(NOW)

    assert indexed(database) == on_disk(media) == set(kept)
    assert not set(gone) & on_disk(media)


def test_a_cameras_own_setting_overrides_its_site(database: Database, media: Path) -> None:
    camera = add_camera(
        database,
        "PARK-1",
        site={"retention_days": 7, "retention_bytes": 1},
        retention_days=10,
        retention_bytes=100 * SIZE,
    )
    gone = record(database, media, camera, NOW - timedelta(days=11))
    kept = record(database, media, camera, NOW - timedelta(days=8), 2)

    keeper(database, media).run_once(NOW)

    assert indexed(database) == on_disk(media) == set(kept)
    assert not set(gone) & on_disk(media)


def test_under_the_floor_the_oldest_recordings_city_wide_go_first(
    database: Database, media: Path
) -> None:
    one, two = add_camera(database, "CAM-1"), add_camera(database, "CAM-2")
    start = NOW - timedelta(hours=1)
    a = record(database, media, one, start, 4)
    b = record(database, media, two, start + timedelta(seconds=5), 4)
    # 100 kB disk, 5 % floor = 5,000 B free; 2,500 B free now: three 1,000 B files must go.
    disk = FakeDisk(media, total=100_000, other=100_000 - 2_500 - 8 * SIZE)

    summary = keeper(database, media, disk, batch_size=2).run_once(NOW)

    assert indexed(database) == on_disk(media) == set(a[2:] + b[1:])
    assert [row[:3] for row in purges(database)] == [
        ("CAM-1", PurgeReason.DISK_FLOOR, 2),
        ("CAM-2", PurgeReason.DISK_FLOOR, 1),
    ]
    assert summary.disk_before.free == 2_500 and summary.disk_after.free == 5_500
    assert summary.floor_missing_bytes == 0


def test_held_recordings_survive_age_and_quota(database: Database, media: Path) -> None:
    aged = add_camera(database, "CAM-1")
    limited = add_camera(database, "CAM-2", retention_bytes=SIZE)
    first = NOW - timedelta(days=40)
    old = record(database, media, aged, first, 3)
    hold(database, aged, first + timedelta(seconds=12), first + timedelta(seconds=18))
    recent = record(database, media, limited, NOW - timedelta(hours=1), 3)
    hold(database, limited, NOW - timedelta(hours=2), NOW - timedelta(hours=1))

    keeper(database, media).run_once(NOW)

    # CAM-1 keeps the held middle segment; CAM-2's held first segment does not count against
    # its one-segment quota, so only the second goes.
    assert indexed(database) == on_disk(media) == {old[1], recent[0], recent[2]}


def test_the_floor_leaves_held_recordings_and_warns(
    database: Database, media: Path, caplog: pytest.LogCaptureFixture
) -> None:
    camera = add_camera(database, "CAM-1")
    start = NOW - timedelta(hours=1)
    paths = record(database, media, camera, start, 4)
    hold(database, camera, start, start + timedelta(seconds=25))  # the first three
    disk = FakeDisk(media, total=100_000, other=100_000 - 4 * SIZE)  # 0 free: 5,000 B short
    caplog.set_level(logging.INFO, logger=LOGGER)

    summary = keeper(database, media, disk).run_once(NOW)

    assert indexed(database) == on_disk(media) == set(paths[:3])
    assert summary.floor_held_bytes == 3 * SIZE
    assert summary.floor_missing_bytes == 4 * SIZE
    assert "legal holds, the rest is taken by files retention does not manage" in caplog.text

    caplog.clear()
    # With a smaller shortfall the holds alone explain it: a warning, not an error.
    disk.other -= 2 * SIZE
    keeper(database, media, disk).run_once(NOW)
    (record_,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record_.levelno == logging.WARNING
    assert "legal holds pin 2.9 KiB" in record_.getMessage()


def test_a_released_hold_no_longer_protects(database: Database, media: Path) -> None:
    camera = add_camera(database, "CAM-1")
    first = NOW - timedelta(days=40)
    record(database, media, camera, first, 2)
    hold(database, camera, first, first + timedelta(days=1), released_at=NOW - timedelta(days=1))

    keeper(database, media).run_once(NOW)

    assert indexed(database) == on_disk(media) == set()


def test_a_file_already_missing_is_counted_and_its_row_deleted(
    database: Database, media: Path
) -> None:
    camera = add_camera(database, "CAM-1")
    record(database, media, camera, NOW - timedelta(days=40), 2, on_disk=False)
    record(database, media, camera, NOW - timedelta(days=35), 1)

    summary = keeper(database, media).run_once(NOW)

    assert indexed(database) == set()
    (entry,) = summary.entries
    assert entry.segments == 3 and entry.missing_files == 2
    assert purges(database)[0][1:3] == (PurgeReason.AGE, 3)


def test_a_file_that_cannot_be_deleted_keeps_its_row_and_the_rest_goes_on(
    database: Database, media: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stuck_camera, fine_camera = add_camera(database, "CAM-1"), add_camera(database, "CAM-2")
    stuck = record(database, media, stuck_camera, NOW - timedelta(days=40))
    fine = record(database, media, fine_camera, NOW - timedelta(days=40))
    folder = (media / stuck[0]).parent
    options: dict[str, Any] = {}
    if os.geteuid() == 0:  # root deletes whatever the permissions say: refuse in code instead

        def remove_file(path: Path) -> None:
            if path.parent == folder:
                raise PermissionError(13, "Permission denied", str(path))
            os.remove(path)

        options["remove_file"] = remove_file
    else:
        folder.chmod(0o500)
    try:
        summary = keeper(database, media, **options).run_once(NOW)
    finally:
        folder.chmod(0o700)

    assert indexed(database) == on_disk(media) == set(stuck)
    assert not set(fine) & on_disk(media)
    assert summary.failed_files == 1
    assert [entry.camera_code for entry in summary.entries] == ["CAM-2"]
    assert "could not delete 1 recording file(s)" in caplog.text
    assert "Permission denied" in caplog.text

    keeper(database, media).run_once(NOW)  # the next pass, once it can, deletes it
    assert indexed(database) == on_disk(media) == set()


def test_a_path_leading_outside_the_media_folder_is_never_followed(
    database: Database, media: Path
) -> None:
    camera = add_camera(database, "CAM-1")
    outside = media.parent / "precious.mp4"
    outside.write_bytes(b"keep me")
    (media / "recordings" / "CAM-1").mkdir(parents=True)  # the disk is mounted
    record(database, media, camera, NOW - timedelta(days=40), 2, on_disk=False)
    damaged = {"../precious.mp4", str(outside)}
    with database.session() as session:
        segments = session.scalars(select(RecordedSegment)).all()
        for segment, path in zip(segments, sorted(damaged), strict=True):
            segment.path = path

    summary = keeper(database, media).run_once(NOW)

    assert outside.read_bytes() == b"keep me"
    assert indexed(database) == damaged
    assert summary.failed_files == 2


def test_one_purge_record_per_camera_and_reason_across_batches(
    database: Database, media: Path
) -> None:
    one, two = add_camera(database, "CAM-1"), add_camera(database, "CAM-2")
    first = NOW - timedelta(days=40)
    record(database, media, one, first, 5)
    record(database, media, two, first, 3)
    retention = keeper(database, media, batch_size=2, cameras_per_batch=1)

    retention.run_once(NOW)
    retention.run_once(NOW)  # nothing left to do: no new records

    assert indexed(database) == set()
    assert purges(database) == [
        ("CAM-1", PurgeReason.AGE, 5, 5 * SIZE, first, first + timedelta(seconds=50)),
        ("CAM-2", PurgeReason.AGE, 3, 3 * SIZE, first, first + timedelta(seconds=30)),
    ]


def test_a_dry_run_lists_what_would_go_and_deletes_nothing(database: Database, media: Path) -> None:
    camera = add_camera(database, "CAM-1", retention_bytes=2 * SIZE)
    paths = record(database, media, camera, NOW - timedelta(days=40), 2)
    paths += record(database, media, camera, NOW - timedelta(hours=1), 3)
    disk = FakeDisk(media, total=1_000_000)

    summary = keeper(database, media, disk, batch_size=1).run_once(NOW, dry_run=True)

    assert indexed(database) == on_disk(media) == set(paths)
    assert purges(database) == []
    assert [(e.reason, e.segments) for e in summary.entries] == [
        (PurgeReason.AGE, 2),
        (PurgeReason.CAMERA_QUOTA, 1),
    ]
    assert summary.dry_run and summary.disk_after.free == summary.disk_before.free + 3 * SIZE


def test_an_unusable_setting_keeps_that_cameras_recordings(
    database: Database, media: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken, fine = add_camera(database, "CAM-1", retention_days=0), add_camera(database, "CAM-2")
    kept = record(database, media, broken, NOW - timedelta(days=40))
    record(database, media, fine, NOW - timedelta(days=40))

    keeper(database, media).run_once(NOW)

    assert indexed(database) == set(kept)
    assert "camera CAM-1: retention of 0 days would delete every recording" in caplog.text


def test_a_missing_media_folder_stops_the_pass(database: Database, tmp_path: Path) -> None:
    with pytest.raises(RetentionError, match="is its disk mounted"):
        keeper(database, tmp_path / "unmounted").run_once(NOW)


# -- an unmounted disk, a disk that frees nothing ----------------------------------------------


@pytest.mark.parametrize("recordings", ["missing", "empty"])
def test_an_empty_media_folder_with_indexed_recordings_deletes_nothing(
    database: Database, media: Path, recordings: str
) -> None:
    """The media disk is not mounted: its mount point is an empty folder on the root disk,
    which is under its floor. Neither age nor the floor may delete a single row."""
    camera = add_camera(database, "CAM-1", retention_bytes=SIZE)
    old = record(database, media, camera, NOW - timedelta(days=40), 3, on_disk=False)
    young = record(database, media, camera, NOW - timedelta(hours=1), 3, on_disk=False)
    if recordings == "empty":
        (media / "recordings").mkdir()
    root_fs = lambda path: Usage(100_000, 99_000, 1_000)  # noqa: E731 - 1 % free

    for dry_run in (True, False):
        with pytest.raises(RetentionError) as caught:
            keeper(database, media, root_fs).run_once(NOW, dry_run=dry_run)

        message = str(caught.value)
        state = "is empty" if recordings == "empty" else "does not exist"
        assert f"recordings folder {media / 'recordings'} {state}" in message
        assert "the index lists recordings: is the media disk mounted" in message
        assert "Retention did nothing" in message
        assert indexed(database) == set(old + young)
        assert purges(database) == []


def test_an_empty_media_folder_with_an_empty_index_is_a_new_install(
    database: Database, media: Path
) -> None:
    add_camera(database, "CAM-1")

    summary = keeper(database, media).run_once(NOW)

    assert summary.entries == () and summary.floor_stopped is None


def test_a_floor_batch_of_mostly_missing_files_keeps_their_rows_and_stops(
    database: Database, media: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The disk was not mounted when the node started, and the recorder has written today's
    recordings to the mount point on the root disk: the older files the index names are not
    in this media folder, nor are their day folders. The floor must not walk through the index
    deleting rows that free nothing."""
    camera = add_camera(database, "CAM-1")
    gone = record(database, media, camera, NOW - timedelta(days=2), 6, on_disk=False)
    there = record(database, media, camera, NOW - timedelta(hours=1), 2)
    disk = FakeDisk(media, total=100_000, other=100_000 - 2 * SIZE)  # 0 free: 5,000 B short

    summary = keeper(database, media, disk, batch_size=3).run_once(NOW)

    assert indexed(database) == set(gone + there)
    assert on_disk(media) == set(there)
    assert purges(database) == [] and summary.entries == ()
    assert summary.floor_stopped is not None
    assert "3 of the 3 oldest recording files the index names were missing, their folders" in (
        summary.floor_stopped
    )
    assert "does not hold the files the index names — is the disk mounted?" in (
        summary.floor_stopped
    )
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage().split(":")[0] for r in errors] == ["disk floor stopped"]
    assert "Their index rows were kept" in errors[0].getMessage()


def test_a_few_missing_files_do_not_count_towards_the_floor(
    database: Database, media: Path
) -> None:
    """A row whose file is gone frees nothing: the floor goes on until the files it actually
    removed cover the shortfall, and no further."""
    camera = add_camera(database, "CAM-1")
    start = NOW - timedelta(hours=2)
    record(database, media, camera, start, on_disk=False)
    present = record(database, media, camera, start + timedelta(seconds=10), 7)
    # 5,000 B floor, 2,000 B free: 3,000 B short, which three of the present files cover.
    disk = FakeDisk(media, total=100_000, other=100_000 - 7 * SIZE - 2_000)

    summary = keeper(database, media, disk, batch_size=4).run_once(NOW)

    assert indexed(database) == on_disk(media) == set(present[3:])
    (entry,) = summary.entries
    assert (entry.segments, entry.missing_files) == (4, 1)
    assert summary.disk_after.free == 5_000 and summary.floor_stopped is None


def test_rows_left_by_a_failed_commit_do_not_stop_the_floor(
    database: Database, media: Path
) -> None:
    """A floor batch deleted its files, then its commit failed: the next pass finds a batch of
    rows whose files are gone from folders that are still there. Those rows go (counted as
    missing) and the floor carries on with the files that are there."""
    camera = add_camera(database, "CAM-1")
    start = NOW - timedelta(hours=2)
    stale = record(database, media, camera, start, 4)
    for path in stale:
        (media / path).unlink()
    present = record(database, media, camera, start + timedelta(seconds=40), 6)
    # 5,000 B floor, 2,000 B free: 3,000 B short.
    disk = FakeDisk(media, total=100_000, other=100_000 - 6 * SIZE - 2_000)

    summary = keeper(database, media, disk, batch_size=4).run_once(NOW)

    assert indexed(database) == on_disk(media) == set(present[3:])
    (entry,) = summary.entries
    assert (entry.segments, entry.missing_files) == (7, 4)
    assert summary.floor_stopped is None and summary.floor_missing_bytes == 0


def test_a_disk_that_never_frees_space_stops_the_floor_after_one_batch(
    database: Database, media: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Deleting frees nothing measurable (the disk measured is not the one holding the files,
    snapshots, files held open): one batch goes, then the floor stops and says why."""
    camera = add_camera(database, "CAM-1")
    paths = record(database, media, camera, NOW - timedelta(hours=1), 10)
    full = lambda path: Usage(100_000, 100_000, 0)  # noqa: E731

    summary = keeper(database, media, full, batch_size=2).run_once(NOW)

    assert indexed(database) == on_disk(media) == set(paths[2:])
    assert summary.floor_stopped is not None
    assert "freed no measurable space" in summary.floor_stopped
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "disk floor stopped" in errors[0].getMessage()


def test_a_disk_that_frees_far_less_than_was_removed_stops_after_one_round(
    database: Database, media: Path
) -> None:
    camera = add_camera(database, "CAM-1")
    paths = record(database, media, camera, NOW - timedelta(hours=1), 10)
    calls = 0

    def barely(path: Path) -> Usage:
        nonlocal calls
        calls += 1  # a byte more free at every look, whatever is deleted
        return Usage(100_000, 100_000 - calls, calls)

    summary = keeper(database, media, barely, batch_size=2).run_once(NOW)

    # The round removes the 5,000 B it measured missing, then sees that it freed ~nothing.
    assert indexed(database) == on_disk(media) == set(paths[5:])
    assert summary.floor_stopped is not None and "freed only" in summary.floor_stopped


# -- holds placed while a pass is under way ------------------------------------------------------


def test_a_hold_placed_after_a_camera_batch_was_planned_keeps_its_segments(
    database: Database, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    camera = add_camera(database, "CAM-1")
    first = NOW - timedelta(days=40)
    old = record(database, media, camera, first, 3)
    planned = plan_camera

    def plan_then_hold(
        recordings: CameraRecordings, holds: list[Span], now: datetime
    ) -> CameraPlan:
        plan = planned(recordings, holds, now)
        if plan.deletions and not holds:  # an officer holds the middle segment just now
            hold(database, camera, first + timedelta(seconds=12), first + timedelta(seconds=18))
        return plan

    monkeypatch.setattr(retention_keeper, "plan_camera", plan_then_hold)

    keeper(database, media).run_once(NOW)

    assert indexed(database) == on_disk(media) == {old[1]}
    assert [row[1:3] for row in purges(database)] == [(PurgeReason.AGE, 2)]


def test_a_hold_placed_after_a_floor_batch_was_planned_keeps_its_segments(
    database: Database, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    camera = add_camera(database, "CAM-1")
    start = NOW - timedelta(hours=1)
    paths = record(database, media, camera, start, 4)
    disk = FakeDisk(media, total=100_000, other=100_000 - 4 * SIZE - 3_000)  # 2,000 B short
    planned = plan_floor
    placed = False

    def plan_then_hold(
        candidates: list[Ref], holds: list[Span], disk: DiskSpace, percent: float
    ) -> FloorPlan:
        nonlocal placed
        plan = planned(candidates, holds, disk, percent)
        if not placed:
            placed = True
            hold(database, camera, start + timedelta(seconds=2), start + timedelta(seconds=8))
        return plan

    monkeypatch.setattr(retention_keeper, "plan_floor", plan_then_hold)

    summary = keeper(database, media, disk).run_once(NOW)

    # The first segment is held now; the floor takes the next two instead.
    assert indexed(database) == on_disk(media) == {paths[0], paths[3]}
    assert summary.floor_held_bytes == SIZE and summary.floor_missing_bytes == 0


def test_a_hold_placed_while_files_are_deleted_protects_the_rest_of_the_batch(
    database: Database, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention_delete, "_HOLD_RECHECK_FILES", 2)
    camera = add_camera(database, "CAM-1")
    first = NOW - timedelta(days=40)
    old = record(database, media, camera, first, 6)
    placed = False

    def remove_then_hold(path: Path) -> None:
        nonlocal placed
        os.remove(path)
        if not placed:  # committed while the first file goes: pins the fifth
            placed = True
            hold(database, camera, first + timedelta(seconds=42), first + timedelta(seconds=48))

    keeper(database, media, remove_file=remove_then_hold).run_once(NOW)

    assert indexed(database) == on_disk(media) == {old[4]}


def test_a_refused_pass_is_logged_as_an_error_in_the_background(
    database: Database, media: Path, caplog: pytest.LogCaptureFixture
) -> None:
    camera = add_camera(database, "CAM-1")
    record(database, media, camera, utcnow() - timedelta(days=40), on_disk=False)
    retention = keeper(
        database,
        media,
        settings=VideoSettings(
            retention_check_seconds=0.05, retention_clock_jump_hours=YEAR_OF_HOURS
        ),
    )
    retention.start()
    try:
        deadline = time.monotonic() + 10
        while "retention pass refused" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        retention.stop()

    (refused, *_) = [r for r in caplog.records if "retention pass refused" in r.getMessage()]
    assert refused.levelno == logging.ERROR and refused.exc_info is None
    assert "is the media disk mounted" in refused.getMessage()
    assert len(indexed(database)) == 1


def test_background_passes_survive_errors_and_stop_promptly(
    database: Database, media: Path, caplog: pytest.LogCaptureFixture
) -> None:
    camera = add_camera(database, "CAM-1")
    record(database, media, camera, utcnow() - timedelta(days=40))
    real_disk = FakeDisk(media, total=10**12)
    calls = 0
    passes = threading.Event()

    def flaky_disk(path: Path) -> Usage:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("the disk is having a bad day")
        if calls >= 3:
            passes.set()
        return real_disk(path)

    settings = VideoSettings(retention_check_seconds=0.05, retention_clock_jump_hours=YEAR_OF_HOURS)
    retention = keeper(database, media, flaky_disk, settings)
    retention.start()
    try:
        assert passes.wait(10)
        deadline = time.monotonic() + 10
        while indexed(database) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        started = time.monotonic()
        retention.stop()
        stopped_in = time.monotonic() - started

    assert indexed(database) == set()
    assert "retention pass failed" in caplog.text and "bad day" in caplog.text
    assert stopped_in < 1.0


CLOCK = VideoSettings(retention_days=30, min_free_percent=5, retention_check_seconds=0.05)
"""The default bound on clock jumps: 6 hours."""


def test_a_clock_far_past_the_newest_recording_deletes_nothing(
    database: Database, media: Path
) -> None:
    assert CLOCK.retention_clock_jump_hours == 6
    camera = add_camera(database, "CAM-1")
    expired = record(database, media, camera, NOW - timedelta(days=40), 3)
    newest = record(database, media, camera, NOW - timedelta(minutes=1))  # ends NOW - 50 s

    with pytest.raises(ClockAhead) as refused:
        keeper(database, media, settings=CLOCK).run_once(NOW + timedelta(hours=6, minutes=5))

    assert "6.1 h after the last time retention trusted" in str(refused.value)
    assert "Retention did nothing" in str(refused.value)
    assert indexed(database) == on_disk(media) == set(expired + newest)
    assert purges(database) == []

    keeper(database, media, settings=CLOCK).run_once(NOW + timedelta(hours=5))
    assert indexed(database) == on_disk(media) == set(newest)


def test_recordings_made_after_a_jump_do_not_make_the_clock_look_right(
    database: Database, media: Path
) -> None:
    camera = add_camera(database, "CAM-1")
    record(database, media, camera, NOW - timedelta(days=40))
    fortnight = record(database, media, camera, NOW - timedelta(days=15))
    record(database, media, camera, NOW - timedelta(minutes=1))
    retention = keeper(database, media, settings=CLOCK)
    retention.run_once(NOW)
    jumped = NOW + timedelta(days=20)
    record(database, media, camera, jumped - timedelta(minutes=1))  # written under the new clock

    with pytest.raises(ClockAhead):
        retention.run_once(jumped)
    assert set(fortnight) <= indexed(database), "15 days old by the true clock: kept"

    keeper(database, media, settings=CLOCK).run_once(jumped)  # a restart trusts the clock
    assert not set(fortnight) & indexed(database)


def test_a_clock_jump_in_the_background_is_an_error_a_health_issue_and_a_metric(
    database: Database, media: Path, caplog: pytest.LogCaptureFixture
) -> None:
    camera = add_camera(database, "CAM-1")
    record(database, media, camera, utcnow() - timedelta(days=2))
    retention = keeper(database, media, settings=CLOCK)
    assert retention.refusal is None
    retention.start()
    try:
        deadline = time.monotonic() + 10
        while retention.refusal is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        retention.stop()

    assert isinstance(retention.refusal, ClockAhead)
    assert retention.refusal.summary == "the clock jumped ahead"
    (refused, *_) = [r for r in caplog.records if "retention pass refused" in r.getMessage()]
    assert refused.levelno == logging.ERROR
    assert "after the last time retention trusted" in refused.getMessage()
    assert REGISTRY.get_sample_value("safecity_retention_refused") == 1
    assert len(indexed(database)) == 1
