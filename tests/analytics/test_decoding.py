"""Detect frames from files and from live packets: the detect rate, the detect size, damage."""

from __future__ import annotations

from pathlib import Path

import pytest

from safecity.analytics.decoding import (
    DecodeOptions,
    FrameSampler,
    UnreadableVideo,
    detect_size,
    file_frames,
)


def test_frames_of_a_file_come_at_the_detect_rate_and_width(plaza_h264: Path) -> None:
    frames = list(file_frames(plaza_h264, DecodeOptions(detect_fps=5, detect_width=640)))
    # 20 s of a 10 fps clip at 5 fps: every other frame.
    assert len(frames) == 100
    assert [f.index for f in frames] == list(range(100))
    assert frames[0].offset == 0
    assert frames[1].offset == pytest.approx(0.2)
    assert frames[-1].offset == pytest.approx(19.8)
    assert frames[0].image.shape == (480, 640, 3)  # 768×576 scaled to 640 wide, shape kept
    assert frames[0].image.dtype.name == "uint8"


def test_a_picture_no_wider_than_the_detect_width_is_analysed_as_it_comes() -> None:
    assert detect_size(640, 360, 640) == (640, 360)
    assert detect_size(1920, 1080, 640) == (640, 360)
    assert detect_size(2560, 1440, 1280) == (1280, 720)
    assert detect_size(1000, 333, 640) == (640, 212)  # even, as scalers prefer


def test_the_sampler_keeps_an_even_cadence_and_does_not_catch_up_a_gap() -> None:
    sampler = FrameSampler(5.0)
    kept = [t / 25 for t in range(50) if sampler.due(t / 25)]  # 2 s at 25 fps
    assert len(kept) == 10
    # A 3 s gap, then frames again: one frame, then the cadence, no burst.
    after = [5 + t / 25 for t in range(25) if sampler.due(5 + t / 25)]
    assert len(after) == 5
    # A looped file: time starts again from 0.
    assert sampler.due(0.0)


def test_a_camera_sending_a_multiple_of_the_detect_rate_is_sampled_evenly() -> None:
    # 10 fps at 5 fps: every other frame, though 0.1 s steps summed in floating point do not
    # land exactly on the 0.2 s cadence (0.6 vs 0.6000000000000001).
    sampler = FrameSampler(5.0)
    kept = [index for index in range(300) if sampler.due(index / 10)]
    assert kept == list(range(0, 300, 2))
    sampler = FrameSampler(5.0)
    kept = [index for index in range(750) if sampler.due(index * 0.04)]  # 25 fps
    assert kept == list(range(0, 750, 5))


def test_options_out_of_range_are_refused_in_plain_words() -> None:
    with pytest.raises(ValueError, match="detect rate"):
        DecodeOptions(detect_fps=0)
    with pytest.raises(ValueError, match="detect width"):
        DecodeOptions(detect_width=10)


def test_a_file_that_is_not_video_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("this is not a video")
    with pytest.raises(UnreadableVideo, match=r"notes\.mp4: cannot open it as video"):
        list(file_frames(bogus, DecodeOptions()))


def test_a_recording_cut_short_is_a_clear_error(plaza_h264: Path, tmp_path: Path) -> None:
    """An MP4 whose end (and so its index) is missing cannot be read: said, not crashed."""
    cut = tmp_path / "cut.mp4"
    data = plaza_h264.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(UnreadableVideo, match=r"cut\.mp4"):
        list(file_frames(cut, DecodeOptions()))
