"""The recorder on real H.264: segments cut at keyframes, contiguous, hashed, indexed, and
nothing already stored lost when the disk fills up."""

from __future__ import annotations

import errno
import hashlib
import itertools
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import av
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

import safecity.video.recording.recorder as recorder_module
from safecity.store.engine import Database
from safecity.video.ingest.packets import StreamInfo, VideoPacket
from safecity.video.models import RecordedSegment
from safecity.video.recording.recorder import FinishedSegment, SegmentRecorder, started_at_from_path
from tests import factories as f
from tests.support.recording import play_into, record, street_clip

START = datetime(2026, 11, 27, 9, 0, 0, 250000, tzinfo=UTC)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return street_clip(tmp_path_factory.mktemp("clips"))


@pytest.fixture
def camera_id(database: Database) -> int:
    with database.session() as session:
        return f.add_camera(session, "AST-1", f.add_district(session, "west", f.WEST)).id


def _frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_segments_are_cut_at_keyframes_back_to_back_and_indexed(
    database: Database, camera_id: int, clip: Path, tmp_path: Path
) -> None:
    segments = record(database, tmp_path, camera_id, "AST-1", clip, START)

    assert [round(s.seconds) for s in _rows(database)] == [10, 10, 10]
    assert segments[0].started_at == START
    for before, after in itertools.pairwise(segments):
        assert after.started_at == before.ended_at, "no hole, no overlap between segments"
    assert sum(s.packets for s in segments) == 450
    assert sum(_frames(tmp_path / s.path) for s in segments) == 450, "every frame decodes"
    for segment in segments:
        data = (tmp_path / segment.path).read_bytes()
        assert segment.sha256 == hashlib.sha256(data).hexdigest()
        assert segment.bytes == len(data)
        assert segment.codec.startswith("avc1.")
        assert [ms for ms, _ in segment.keyframes] == [0, 2000, 4000, 6000, 8000]
        assert segment.keyframes[0][1] == segment.init_bytes, "first fragment after the init"
        assert data[segment.keyframes[1][1] + 4 : segment.keyframes[1][1] + 8] == b"moof"
        assert started_at_from_path(segment.path) == segment.started_at.replace(
            microsecond=segment.started_at.microsecond // 1000 * 1000
        )
    assert segments[0].path == "recordings/AST-1/2026-11-27/090000-250.mp4"
    assert not list(tmp_path.rglob("*.partial")), "nothing left half-written"
    assert {r.path for r in _rows(database)} == {s.path for s in segments}


def test_a_cut_waits_for_the_next_keyframe(
    database: Database, camera_id: int, clip: Path, tmp_path: Path
) -> None:
    segments = record(database, tmp_path, camera_id, "AST-1", clip, START, segment_seconds=3)
    assert [round(s.seconds) for s in segments] == [4] * 7 + [2], "GOPs are 2 s long"


def test_a_new_connection_starts_a_new_segment(
    database: Database, camera_id: int, clip: Path, tmp_path: Path
) -> None:
    first = record(database, tmp_path, camera_id, "AST-1", clip, START)
    later = START + timedelta(minutes=5)
    second = record(database, tmp_path, camera_id, "AST-1", clip, later)
    assert len(first) == len(second) == 3
    assert second[0].started_at == later
    assert len(_rows(database)) == 6


class _SmallDisk:
    """Files that fail with 'No space left on device' once ``room`` bytes are written."""

    def __init__(self, room: int) -> None:
        self.room = room

    def open(self, path: Path) -> IO[bytes]:
        disk = self
        raw = open(path, "xb")  # noqa: SIM115

        class Limited:
            def write(self, data: bytes) -> int:
                if disk.room < len(data):
                    raise OSError(errno.ENOSPC, "No space left on device")
                disk.room -= len(data)
                return raw.write(data)

            def __getattr__(self, name: str) -> object:
                return getattr(raw, name)

        return Limited()  # type: ignore[return-value]


def _recording_failures() -> float:
    return REGISTRY.get_sample_value("safecity_recording_failures_total") or 0.0


def test_full_disk_stops_recording_clearly_and_keeps_what_was_stored(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="safecity.video.recording.recorder")
    monkeypatch.setattr(recorder_module, "RETRY_AFTER_WRITE_ERROR_SECONDS", 0.0)
    finished: list[FinishedSegment] = []
    disk = _SmallDisk(room=120_000)
    failures_before = _recording_failures()
    recorder = SegmentRecorder(
        1, "AST-1", tmp_path, finished.append, segment_seconds=10, open_file=disk.open
    )
    play_into([recorder], clip, "AST-1", START)

    assert len(finished) == 1, "the first segment fitted, the second did not"
    stored = tmp_path / finished[0].path
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == finished[0].sha256
    assert _frames(stored) == 150
    state = recorder.state()
    assert not state.recording
    assert state.detail is not None and "no space left on device" in state.detail
    assert not list(tmp_path.rglob("*.partial")), "the torn segment is removed"

    assert _recording_failures() - failures_before > 1, "tried again at each keyframe"
    said = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert len(said) == 1, "said once, not at every try"
    assert said[0][0] == "ERROR"
    assert said[0][1].startswith("camera AST-1: recording stopped: cannot write recordings/AST-1/")
    assert said[0][1].endswith(": no space left on device")

    disk.room = 10**9  # space freed: the next keyframe starts a new segment
    play_into([recorder], clip, "AST-1", START + timedelta(minutes=1))
    assert len(finished) == 4
    assert recorder.state().detail is None
    assert caplog.records[-1].getMessage() == "camera AST-1: recording again"


def _rows(database: Database) -> list[RecordedSegment]:
    with database.session() as session:
        return list(session.scalars(select(RecordedSegment).order_by(RecordedSegment.started_at)))


def _packets(source: Path) -> tuple[list[VideoPacket], StreamInfo, av.container.InputContainer]:
    container = av.open(str(source))
    stream = container.streams.video[0]
    assert stream.time_base is not None
    packets = [
        VideoPacket(bytes(p), p.pts, p.dts, int(p.duration or 0), bool(p.is_keyframe), 0.0)
        for p in container.demux(stream)
        if p.pts is not None and p.dts is not None and p.size
    ]
    container.seek(0)
    info = StreamInfo(
        "AST-1", "h264", stream.time_base, 320, 180,
        bytes(stream.codec_context.extradata or b""), stream, START.timestamp(), packets[0].pts,
    )  # fmt: skip
    return packets, info, container


def test_a_reanchored_clock_never_makes_segments_overlap(clip: Path, tmp_path: Path) -> None:
    finished: list[FinishedSegment] = []
    recorder = SegmentRecorder(1, "AST-1", tmp_path, finished.append, segment_seconds=10)
    packets, info, container = _packets(clip)
    with container:
        recorder.stream_opened(info)
        for packet in packets[:90]:  # 6 s on the camera's clock
            recorder.packet(packet)
        # The camera's clock ran fast: by the wall clock only 4 s passed. Ingest re-anchors
        # at the keyframe at 6 s, without closing the stream.
        anchor = replace(info, started_at=(START + timedelta(seconds=4)).timestamp(),
                         first_pts=packets[90].pts)  # fmt: skip
        recorder.stream_opened(anchor)
        for packet in packets[90:]:
            recorder.packet(packet)
        recorder.stream_closed()
    assert finished[0].ended_at == START + timedelta(seconds=4), "cut where the next begins"
    assert finished[1].started_at == START + timedelta(seconds=4)
    for before, after in itertools.pairwise(finished):
        assert before.ended_at <= after.started_at


def test_a_camera_without_keyframes_is_not_buffered_for_ever(
    clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "MAX_GOP_SECONDS", 3.0)
    finished: list[FinishedSegment] = []
    recorder = SegmentRecorder(1, "AST-1", tmp_path, finished.append, segment_seconds=10)
    packets, info, container = _packets(clip)
    with container:
        recorder.stream_opened(info)
        # After the first keyframe, keyframes stop (intra refresh, a lost flag, …).
        for index, packet in enumerate(packets[:150]):
            recorder.packet(replace(packet, keyframe=index == 0))
    state = recorder.state()
    assert not state.recording
    assert state.detail is not None and "no keyframe for over 3 s" in state.detail
    assert len(finished) == 1 and round(finished[0].seconds) == 3, "what came is kept"
