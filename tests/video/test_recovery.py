"""Start-up recovery puts folder and index back in step after a crash."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest
from sqlalchemy import delete, select

from safecity.store.engine import Database
from safecity.video.models import PurgeReason, RecordedSegment, RecordingPurge
from safecity.video.recording.recovery import recover_recordings
from tests import factories as f
from tests.support.recording import record, street_clip

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
NOW = START + timedelta(hours=1)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return street_clip(tmp_path_factory.mktemp("clips"))


@pytest.fixture
def recorded(database: Database, clip: Path, tmp_path: Path) -> list[RecordedSegment]:
    with database.session() as session:
        camera = f.add_camera(session, "AST-1", f.add_district(session, "west", f.WEST))
        camera_id = camera.id
    record(database, tmp_path, camera_id, "AST-1", clip, START)
    return _rows(database)


def _rows(database: Database) -> list[RecordedSegment]:
    with database.session() as session:
        return list(session.scalars(select(RecordedSegment).order_by(RecordedSegment.started_at)))


def _frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_a_torn_segment_is_salvaged_up_to_its_last_whole_fragment(
    database: Database, recorded: list[RecordedSegment], tmp_path: Path
) -> None:
    last = recorded[-1]
    whole = (tmp_path / last.path).read_bytes()
    with database.session() as session:
        session.execute(delete(RecordedSegment).where(RecordedSegment.id == last.id))
    (tmp_path / last.path).unlink()
    torn = tmp_path / (last.path + ".partial")
    torn.write_bytes(whole[: int(len(whole) * 0.7)])  # power cut in the middle of a GOP

    report = recover_recordings(database, tmp_path, now=NOW)

    assert report.salvaged == [last.path]
    assert not torn.exists()
    frames = _frames(tmp_path / last.path)
    assert 0 < frames < 150, "the complete GOPs are kept, the torn one is not"
    assert frames % 30 == 0, "whole 2-second GOPs only"
    rows = {row.path: row for row in _rows(database)}
    salvaged = rows[last.path]
    assert salvaged.started_at == last.started_at.replace(microsecond=0)
    assert salvaged.sha256 == hashlib.sha256((tmp_path / last.path).read_bytes()).hexdigest()
    assert round(salvaged.seconds) == frames // 15


def test_a_partial_file_with_nothing_usable_is_discarded(
    database: Database, recorded: list[RecordedSegment], tmp_path: Path
) -> None:
    day = (tmp_path / recorded[0].path).parent
    empty = day / "093000-000.mp4.partial"
    empty.write_bytes(b"\x00\x00\x00\x18ftypiso5")  # died right after opening the file
    report = recover_recordings(database, tmp_path, now=NOW)
    assert report.discarded == [str((day / "093000-000.mp4").relative_to(tmp_path).as_posix())]
    assert not empty.exists() and not (day / "093000-000.mp4").exists()
    assert len(_rows(database)) == 3, "what was stored is untouched"


def test_a_finished_file_missing_from_the_index_is_indexed(
    database: Database, recorded: list[RecordedSegment], tmp_path: Path
) -> None:
    lost = recorded[1]
    with database.session() as session:  # the crash came between rename and insert
        session.execute(delete(RecordedSegment).where(RecordedSegment.id == lost.id))
    report = recover_recordings(database, tmp_path, now=NOW)
    assert report.indexed == [lost.path]
    again = {row.path: row for row in _rows(database)}[lost.path]
    assert again.sha256 == lost.sha256
    assert again.bytes == lost.bytes
    assert again.packets == lost.packets
    assert again.keyframes == lost.keyframes
    assert abs((again.ended_at - lost.ended_at).total_seconds()) < 0.01


def test_an_indexed_segment_whose_file_is_gone_is_removed_and_logged(
    database: Database, recorded: list[RecordedSegment], tmp_path: Path
) -> None:
    (tmp_path / recorded[0].path).unlink()
    report = recover_recordings(database, tmp_path, now=NOW)
    assert report.missing == [recorded[0].path]
    assert [row.path for row in _rows(database)] == [r.path for r in recorded[1:]]
    with database.session() as session:
        purge = session.scalars(select(RecordingPurge)).one()
    assert purge.reason is PurgeReason.MISSING_FILE
    assert (purge.segments, purge.bytes) == (1, recorded[0].bytes)


def test_a_clean_folder_needs_nothing(
    database: Database, recorded: list[RecordedSegment], tmp_path: Path
) -> None:
    (tmp_path / "recordings" / "NOT-A-CAMERA" / "2026-11-27").mkdir(parents=True)
    report = recover_recordings(database, tmp_path, now=NOW)
    assert not report.changed
    assert report.unknown_cameras == ["NOT-A-CAMERA"]
    assert len(_rows(database)) == 3


def test_an_absent_media_disk_does_not_empty_the_index(
    database: Database, recorded: list[RecordedSegment], tmp_path: Path
) -> None:
    unmounted = tmp_path / "unmounted"
    unmounted.mkdir()  # the mount point, without the disk behind it
    report = recover_recordings(database, unmounted, now=NOW)
    assert report.refused is not None and "is the media disk mounted?" in report.refused
    assert report.missing == []
    assert len(_rows(database)) == 3, "the index is left as it is"
    with database.session() as session:
        assert session.scalars(select(RecordingPurge)).all() == []


def test_most_files_gone_at_once_is_treated_as_a_missing_disk(
    database: Database, clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import safecity.video.recording.recovery as recovery

    monkeypatch.setattr(recovery, "MISSING_ALARM", 1)
    with database.session() as session:
        camera_id = f.add_camera(session, "AST-2", f.add_district(session, "west", f.WEST)).id
    record(database, tmp_path, camera_id, "AST-2", clip, START)
    for row in _rows(database)[:-1]:
        (tmp_path / row.path).unlink()  # 2 of 3 gone: more than half, more than the alarm
    report = recover_recordings(database, tmp_path, now=NOW)
    assert report.refused is not None
    assert len(_rows(database)) == 3
