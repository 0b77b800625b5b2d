"""HLS VOD playlists over the recorder's fMP4 files: exact text, tag placement, bad input, and
what FFmpeg's HLS demuxer makes of init and retimed media parts on disk."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from safecity.video.ingest.synthetic import VideoJob, VideoSpec, write_street_video
from safecity.video.mp4.join import Piece, plan_media_segment
from safecity.video.mp4.layout import read_layout
from safecity.video.playback.hls import HlsSegment, vod_playlist
from tests.support.recording import record_segments

START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
FFPROBE = shutil.which("ffprobe")


def segment(number: int, **changes: object) -> HlsSegment:
    base = HlsSegment(
        url=f"/api/recordings/CAM-1/{number}/media-{number * 153600}.m4s",
        init_url=f"/api/recordings/CAM-1/{number}/init.mp4",
        duration=10.0,
        started_at=START + timedelta(seconds=10 * number),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_exact_text_for_two_segments() -> None:
    playlist = vod_playlist([segment(0), segment(1, duration=9.5)])
    assert playlist == (
        "#EXTM3U\n"
        "#EXT-X-VERSION:7\n"
        "#EXT-X-TARGETDURATION:10\n"
        "#EXT-X-PLAYLIST-TYPE:VOD\n"
        "#EXT-X-INDEPENDENT-SEGMENTS\n"
        "#EXT-X-PROGRAM-DATE-TIME:2024-05-01T08:00:00.000Z\n"
        '#EXT-X-MAP:URI="/api/recordings/CAM-1/0/init.mp4"\n'
        "#EXTINF:10.000,\n"
        "/api/recordings/CAM-1/0/media-0.m4s\n"
        '#EXT-X-MAP:URI="/api/recordings/CAM-1/1/init.mp4"\n'
        "#EXTINF:9.500,\n"
        "/api/recordings/CAM-1/1/media-153600.m4s\n"
        "#EXT-X-ENDLIST\n"
    )


def test_discontinuities_carry_a_program_date_time() -> None:
    later = START + timedelta(minutes=5, milliseconds=250)
    local = later.astimezone(timezone(timedelta(hours=2)))  # written back in UTC
    segments = [
        segment(0, discontinuity=True),  # nothing before it: no tag
        segment(1),
        segment(2, discontinuity=True, started_at=local),
        segment(3),
    ]
    lines = vod_playlist(segments).splitlines()
    assert lines.count("#EXT-X-DISCONTINUITY") == 1
    dates = [line for line in lines if line.startswith("#EXT-X-PROGRAM-DATE-TIME:")]
    assert dates == [
        "#EXT-X-PROGRAM-DATE-TIME:2024-05-01T08:00:00.000Z",
        "#EXT-X-PROGRAM-DATE-TIME:2024-05-01T08:05:00.250Z",
    ]
    gap = lines.index("#EXT-X-DISCONTINUITY")
    assert lines[gap + 1] == dates[1]
    assert lines[gap + 2] == '#EXT-X-MAP:URI="/api/recordings/CAM-1/2/init.mp4"'
    assert lines[gap + 4] == "/api/recordings/CAM-1/2/media-307200.m4s"
    assert lines[lines.index("/api/recordings/CAM-1/0/media-0.m4s") - 3] == dates[0]


def test_the_map_is_repeated_only_when_the_init_changes() -> None:
    shared = segment(1, init_url=segment(0).init_url)
    lines = vod_playlist([segment(0), shared, segment(2)]).splitlines()
    assert sum(line.startswith("#EXT-X-MAP:") for line in lines) == 2


def test_target_duration_rounds_the_longest_up_or_is_checked() -> None:
    assert "#EXT-X-TARGETDURATION:11\n" in vod_playlist([segment(0, duration=10.01)])
    assert "#EXT-X-TARGETDURATION:12\n" in vod_playlist([segment(0)], target_duration=12)
    with pytest.raises(ValueError, match=r"shorter than a 10\.000 s segment"):
        vod_playlist([segment(0)], target_duration=9)


def test_urls_are_percent_encoded_and_control_characters_refused() -> None:
    odd = '/clips/a b"c/é.m4s?x=1&y=%2F'
    playlist = vod_playlist([segment(0, url=odd, init_url=odd.replace(".m4s", ".mp4"))])
    assert '#EXT-X-MAP:URI="/clips/a%20b%22c/%C3%A9.mp4?x=1&y=%2F"' in playlist
    assert "\n/clips/a%20b%22c/%C3%A9.m4s?x=1&y=%2F\n" in playlist
    for url in ("a.mp4\n#EXT-X-ENDLIST", "a\r.mp4", "", "#comment.mp4"):
        for field in ("url", "init_url"):
            with pytest.raises(ValueError, match="URL"):
                vod_playlist([segment(0, **{field: url})])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"duration": 0.0}, "duration"),
        ({"duration": float("nan")}, "duration"),
        ({"started_at": datetime(2024, 5, 1, 8, 0)}, "timezone-aware"),
    ],
)
def test_bad_segments_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        vod_playlist([segment(0), segment(1, **changes)])


def test_an_empty_playlist_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one segment"):
        vod_playlist([])


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    directory = tmp_path_factory.mktemp("hls")
    spec = VideoSpec(width=320, height=180, fps=15, seconds=30, gop_seconds=2)
    source = write_street_video(VideoJob(directory / "source.mp4", "CAM-1", 5), spec)
    return record_segments(source, directory / "media")


def probe(playlist: Path) -> tuple[dict[str, Any], str]:
    """ffprobe's view of a playlist on disk: packets read, frames decoded, duration; stderr."""
    assert FFPROBE is not None
    result = subprocess.run(
        [FFPROBE, "-v", "error", "-count_packets", "-count_frames",
         "-show_entries", "stream=nb_read_packets,nb_read_frames:format=duration",
         "-of", "json", str(playlist)],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    facts = json.loads(result.stdout)
    stream = facts["streams"][0]
    summary = {
        "packets": int(stream["nb_read_packets"]),
        "frames": int(stream["nb_read_frames"]),
        "seconds": float(facts["format"]["duration"]),
    }
    return summary, result.stderr


def playlist_over(files: list[Path], folder: Path, hole: int) -> Path:
    """Init and retimed media parts of ``files`` (10 s each, back to back but for ``hole``
    seconds before the third) and their playlist, written in ``folder`` as a server lays
    them out; the playlist's path."""
    segments = []
    for number, path in enumerate(files):
        layout = read_layout(path)
        seconds = 10 * number + (hole if number == 2 else 0)
        shift = seconds * layout.timescale
        part = folder / f"{number}"
        part.mkdir(parents=True)
        (part / "init.mp4").write_bytes(path.read_bytes()[: layout.init_size])
        media = plan_media_segment(Piece(path, layout, 0, len(layout.fragments) - 1, shift))
        (part / f"media-{shift}.m4s").write_bytes(b"".join(media.chunks()))
        segments.append(
            HlsSegment(
                url=f"{number}/media-{shift}.m4s",
                init_url=f"{number}/init.mp4",
                duration=layout.seconds,
                started_at=START + timedelta(seconds=seconds),
                discontinuity=number == 2 and hole > 0,
            )
        )
    playlist = folder / "index.m3u8"
    playlist.write_text(vod_playlist(segments))
    return playlist


@pytest.mark.skipif(FFPROBE is None, reason="ffprobe is not installed")
@pytest.mark.parametrize("hole", [0, 60])
def test_ffprobe_decodes_every_frame_of_retimed_parts(
    recorded: list[Path], tmp_path: Path, hole: int
) -> None:
    """FFmpeg's HLS demuxer drops the first GOP of every later file when each restarts at 0
    (390 of 450 frames); parts placed on one timeline play whole, across a hole too (the
    playlist's duration is its segments', the hole being a discontinuity)."""
    facts, errors = probe(playlist_over(recorded, tmp_path, hole))
    assert errors == ""
    assert facts == {"packets": 450, "frames": 450, "seconds": 30.0}
