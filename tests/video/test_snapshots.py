"""Snapshots decode the last GOP on demand, and a camera without keyframes cannot grow it."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from safecity.video.ingest.synthetic import VideoSpec
from safecity.video.live.snapshots import GopBuffer
from tests.support.players import FilePlayer
from tests.support.recording import street_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = VideoSpec(width=320, height=180, fps=15, seconds=4, gop_seconds=2)
    return street_clip(tmp_path_factory.mktemp("clips"), spec)


def test_a_snapshot_is_a_jpeg_of_the_latest_picture(clip: Path, tmp_path: Path) -> None:
    buffer = GopBuffer()
    assert buffer.snapshot_jpeg() is None, "nothing received yet"
    player = FilePlayer(clip, buffer)
    player.open()
    player.send(40)  # into the second GOP
    jpeg = buffer.snapshot_jpeg()
    player.close()
    assert jpeg is not None and jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    (tmp_path / "snapshot.jpg").write_bytes(jpeg)
    with av.open(str(tmp_path / "snapshot.jpg")) as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (320, 180)
    assert buffer.snapshot_jpeg() is not None, "the last picture outlives the connection"


def test_a_gop_over_the_size_cap_is_dropped_until_the_next_keyframe(clip: Path) -> None:
    buffer = GopBuffer(max_bytes=10_000)
    player = FilePlayer(clip, buffer)
    player.open()
    player.send(29)  # most of the first GOP: ~20 kB, twice the cap
    assert buffer.snapshot_jpeg() is None
    player.send(2)  # the keyframe at 2 s starts a new GOP
    assert buffer.snapshot_jpeg() is not None
    player.close()
