"""Synthetic street video: real H.264 that decodes, keyframes on the GOP, seamless loops."""

from __future__ import annotations

import time
from pathlib import Path

import av
import numpy as np
import pytest

from safecity.video.ingest.synthetic import (
    TEXT_ON,
    StreetScene,
    VideoJob,
    VideoSpec,
    text_mask,
    write_street_video,
    write_street_videos,
)

SPEC = VideoSpec(width=320, height=180, fps=15, seconds=4, gop_seconds=2)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_street_video(
        VideoJob(tmp_path_factory.mktemp("clip") / "AST-00001.mp4", "AST-00001", 1), SPEC
    )


def test_clip_is_h264_of_the_asked_size_rate_and_length(clip: Path) -> None:
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (320, 180)
        assert stream.average_rate == 15
        frames = list(container.decode(stream))
    assert len(frames) == SPEC.frames == 60
    assert {frame.format.name for frame in frames} == {"yuv420p"}
    assert frames[-1].time is not None and frames[-1].time == pytest.approx(4.0 - 1 / 15)


def test_a_keyframe_opens_every_gop(clip: Path) -> None:
    with av.open(str(clip)) as container:
        keyframes = [
            index
            for index, packet in enumerate(container.demux(video=0))
            if packet.size and packet.is_keyframe
        ]
    assert keyframes == [0, 30]


def test_the_picture_moves(clip: Path) -> None:
    with av.open(str(clip)) as container:
        frames = [frame.to_ndarray(format="gray") for frame in container.decode(video=0)]
    below_the_clock = slice(40, None)
    change = np.abs(frames[0][below_the_clock].astype(int) - frames[10][below_the_clock]).mean()
    assert change > 1.0


def test_the_last_frame_leads_seamlessly_into_the_first() -> None:
    scene = StreetScene(SPEC, "AST-00001", seed=1)
    first = scene.frame(0).buffer.copy()
    one_after_the_last = scene.frame(SPEC.frames).buffer.copy()
    below_the_clock = slice(40, None)
    assert np.array_equal(first[below_the_clock], one_after_the_last[below_the_clock])


def test_the_same_seed_draws_the_same_frames() -> None:
    same = [StreetScene(SPEC, "AST-00001", seed=5).frame(17).buffer.copy() for _ in range(2)]
    other = StreetScene(SPEC, "AST-00001", seed=6).frame(17).buffer
    assert np.array_equal(same[0], same[1])
    assert not np.array_equal(same[0], other)


def test_label_and_clock_are_burned_in() -> None:
    scene = StreetScene(SPEC, "AST-00001", seed=1)
    luma = scene.frame(SPEC.fps * 3).y
    label, clock = text_mask("AST-00001", 1), text_mask("00:00:03", 1)
    assert np.array_equal(luma[8 : 8 + 7, 8 : 8 + label.shape[1]] == TEXT_ON, label)
    right = SPEC.width - 8
    assert np.array_equal(luma[8 : 8 + 7, right - clock.shape[1] : right] == TEXT_ON, clock)


def test_a_file_at_the_path_is_always_whole(tmp_path: Path) -> None:
    path = write_street_video(VideoJob(tmp_path / "a.mp4", "A", 1), SPEC)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.slow
def test_six_demo_clips_encode_in_seconds(tmp_path: Path) -> None:
    jobs = [VideoJob(tmp_path / f"{n}.mp4", f"AST-{n:05d}", n) for n in range(6)]
    started = time.perf_counter()
    paths = write_street_videos(jobs, VideoSpec(width=640, height=360, fps=15, seconds=20))
    took = time.perf_counter() - started
    assert [p.stat().st_size > 50_000 for p in paths] == [True] * 6
    assert took < 15, f"six 20 s clips took {took:.1f} s"
