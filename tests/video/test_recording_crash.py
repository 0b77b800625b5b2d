"""The whole recording path on a real RTSP stream: pull, record, cut the stream mid-way, kill
the recorder mid-segment, recover — and the index and the files agree, frame for frame."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from sqlalchemy import select

from safecity.store.engine import Database
from safecity.video.models import RecordedSegment
from safecity.video.playback.clips import recording_gaps
from safecity.video.recording.recovery import recover_recordings
from tests import factories as f
from tests.support.rtsp import LIVE, RtspServer

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _rows(database: Database) -> list[RecordedSegment]:
    with database.session() as session:
        return list(session.scalars(select(RecordedSegment).order_by(RecordedSegment.started_at)))


@pytest.mark.slow
def test_cut_and_kill_then_recovery_leaves_index_and_files_in_step(
    database: Database, private_rtsp_server: RtspServer, tmp_path: Path
) -> None:
    with database.session() as session:
        camera = f.add_camera(session, "AST-1", f.add_district(session, "west", f.WEST))
        camera_id = camera.id
    media = tmp_path / "media"
    recorder = subprocess.Popen(
        [
            sys.executable, "-m", "tests.support.record_camera", database.url, str(media),
            str(camera_id), "AST-1", private_rtsp_server.url(LIVE), "2",
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: len(_rows(database)) >= 3, what="three segments before the cut")
        private_rtsp_server.stop()  # the camera dies mid-stream
        cut = len(_rows(database))
        wait_for(lambda: len(_rows(database)) > cut, what="the segment open at the cut, closed")
        before_cut = len(_rows(database))
        private_rtsp_server.restart()
        wait_for(lambda: len(_rows(database)) >= before_cut + 2, what="recording again")
        partials = lambda: list(media.rglob("*.partial"))  # noqa: E731
        wait_for(lambda: bool(partials()), what="a segment being written")
        time.sleep(0.8)  # well into the segment: a GOP or so written
        recorder.send_signal(signal.SIGKILL)
        recorder.wait(10)
    finally:
        if recorder.poll() is None:
            recorder.kill()
        log = recorder.stderr.read() if recorder.stderr else ""

    torn = partials()
    assert len(torn) == 1, f"exactly the segment being written is torn; log:\n{log}"
    report = recover_recordings(database, media)
    assert len(report.salvaged) + len(report.discarded) == 1
    assert not partials()

    rows = _rows(database)
    files = sorted(p.relative_to(media).as_posix() for p in media.rglob("*.mp4"))
    assert sorted(row.path for row in rows) == files, "every file indexed, every row a file"
    for row in rows:
        path = media / row.path
        assert hashlib.sha256(path.read_bytes()).hexdigest() == row.sha256
        with av.open(str(path)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames == row.packets > 0
    assert all(row.seconds <= 3.5 for row in rows), "2 s segments cut at 1 s GOPs"
    holes = recording_gaps(rows)
    assert len(holes) == 1, "one hole: where the camera was away"
    assert holes[0][0] == rows[before_cut - 1].ended_at
