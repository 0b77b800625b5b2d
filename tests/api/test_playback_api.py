"""Recorded video over HTTP: timeline with holes, HLS, segment parts and clips, scoped."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import httpx2
import pytest
from fastapi.testclient import TestClient

from safecity.store.engine import Database
from safecity.video.models import CameraStream, StreamStatus
from safecity.video.mp4.layout import read_layout
from tests.api.conftest import City
from tests.audit.entries import audit_entries
from tests.support.recording import record, street_clip

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LATER = START + timedelta(minutes=2)
FFPROBE = shutil.which("ffprobe")
FRAMES = 2 * 30 * 15  # two 30 s recordings at 15 fps


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return street_clip(tmp_path_factory.mktemp("clips"))


@pytest.fixture
def recorded(database: Database, city: City, source: Path, tmp_path: Path) -> City:
    """E-STREET (east) recorded 09:00:00–09:00:30 and 09:02:00–09:02:30: a 90 s hole."""
    for started in (START, LATER):
        record(database, tmp_path / "media", city.street_east_id, "E-STREET", source, started)
    return city


def _q(start: datetime, end: datetime) -> dict[str, str]:
    return {"start": start.isoformat(), "end": end.isoformat()}


def test_timeline_lists_ranges_and_holes(
    recorded: City, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in("operator")
    answer = client.get(
        f"/api/cameras/{recorded.street_east_id}/recordings",
        params=_q(START - timedelta(minutes=1), START + timedelta(minutes=4)),
    )
    assert answer.status_code == 200, answer.text
    timeline = answer.json()
    assert [(r["segments"], r["start"], r["end"]) for r in timeline["ranges"]] == [
        (3, "2026-11-20T09:00:00Z", "2026-11-20T09:00:30Z"),
        (3, "2026-11-20T09:02:00Z", "2026-11-20T09:02:30Z"),
    ]
    assert [(g["start"], g["end"]) for g in timeline["gaps"]] == [
        ("2026-11-20T08:59:00Z", "2026-11-20T09:00:00Z"),
        ("2026-11-20T09:00:30Z", "2026-11-20T09:02:00Z"),
        ("2026-11-20T09:02:30Z", "2026-11-20T09:04:00Z"),
    ]
    assert timeline["recorded_seconds"] == 60.0


def test_timeline_of_a_day_in_the_city_time_zone(
    recorded: City, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in("operator")
    answer = client.get(
        f"/api/cameras/{recorded.street_east_id}/recordings", params={"day": "2026-11-20"}
    )
    assert answer.status_code == 200
    assert len(answer.json()["ranges"]) == 2
    assert answer.json()["start"] == "2026-11-20T00:00:00Z"


def _fetch_playlist(client: TestClient, base: str, folder: Path) -> tuple[str, list[bytes]]:
    """The playlist and every part it names, written under ``folder`` as the relative URIs
    say, as a player resolves them; returns the text and each init + media pair joined (a
    stand-alone file per recorded segment)."""
    answer = client.get(f"{base}/recordings.m3u8", params=_q(START, LATER + timedelta(minutes=1)))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    folder.mkdir()
    (folder / "recordings.m3u8").write_text(answer.text)
    init = b""
    joined = []
    for line in answer.text.splitlines():
        mapped = re.fullmatch(r'#EXT-X-MAP:URI="(.+)"', line)
        uri = mapped.group(1) if mapped else None if line.startswith("#") else line
        if uri is None:
            continue
        part = client.get(f"{base}/{uri}")
        assert part.status_code == 200, (uri, part.text)
        assert part.headers["content-length"] == str(len(part.content))
        (folder / uri).parent.mkdir(parents=True, exist_ok=True)
        (folder / uri).write_bytes(part.content)
        if mapped:
            init = part.content
        else:
            joined.append(init + part.content)
    return answer.text, joined


def test_hls_parts_continue_one_timeline_across_files_and_the_hole(
    recorded: City, signed_in: Callable[[str], TestClient], tmp_path: Path
) -> None:
    base = f"/api/cameras/{recorded.street_east_id}"
    text, files = _fetch_playlist(signed_in("operator"), base, tmp_path / "hls")
    lines = text.splitlines()
    assert text.count("#EXTINF:") == 6
    assert lines.count("#EXT-X-DISCONTINUITY") == 1
    assert lines[lines.index("#EXT-X-DISCONTINUITY") + 1] == (
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-20T09:02:00.000Z"
    )
    assert text.endswith("#EXT-X-ENDLIST\n")
    maps = [line for line in lines if line.startswith("#EXT-X-MAP:")]
    media = [line for line in lines if line.startswith("segments/")]
    assert all(re.fullmatch(r'#EXT-X-MAP:URI="segments/\d+/init\.mp4"', m) for m in maps)
    assert all(re.fullmatch(r"segments/\d+/media-\d+\.m4s", m) for m in media)
    layouts = [read_layout(data) for data in files]
    assert [layout.file_size - layout.init_size for layout in layouts] == [
        len(data) - layout.init_size for data, layout in zip(files, layouts, strict=True)
    ]
    scale = layouts[0].timescale
    starts = [layout.start_time / scale for layout in layouts]
    assert starts == [0, 10, 20, 120, 130, 140], "wall-clock places, the hole a jump"
    for before, after in ((0, 1), (1, 2), (3, 4), (4, 5)):
        assert layouts[after].start_time == layouts[before].end_time, "no overlap, no sliver"
    assert sum(fragment.samples for layout in layouts for fragment in layout.fragments) == FRAMES


@pytest.mark.skipif(FFPROBE is None, reason="ffprobe is not installed: cannot play the HLS")
def test_ffprobe_decodes_every_frame_of_the_playlist_across_files_and_the_hole(
    recorded: City, signed_in: Callable[[str], TestClient], tmp_path: Path
) -> None:
    """FFmpeg's HLS demuxer, reading the parts the API serves: each file's times restarting
    at 0 would cost the first GOP of every later file; retimed, every frame decodes."""
    assert FFPROBE is not None
    base = f"/api/cameras/{recorded.street_east_id}"
    _fetch_playlist(signed_in("operator"), base, tmp_path / "hls")
    result = subprocess.run(
        [FFPROBE, "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames",
         "-of", "json", str(tmp_path / "hls" / "recordings.m3u8")],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    frames = int(json.loads(result.stdout)["streams"][0]["nb_read_frames"])
    assert (frames, result.stderr) == (FRAMES, "")


def test_hls_parts_are_refused_when_bad_or_gone(
    recorded: City, signed_in: Callable[[str], TestClient], tmp_path: Path
) -> None:
    client = signed_in("operator")
    base = f"/api/cameras/{recorded.street_east_id}"
    playlist = client.get(f"{base}/recordings.m3u8", params=_q(START, LATER)).text
    uri = next(line for line in playlist.splitlines() if line.startswith("segments/"))
    number = uri.split("/")[1]
    assert client.get(f"{base}/segments/{number}/media--1.m4s").status_code == 422
    assert client.get(f"{base}/segments/{number}/media-{1 << 64}.m4s").status_code == 422
    assert client.get(f"{base}/segments/999999/init.mp4").status_code == 404
    for path in (tmp_path / "media").rglob("*.mp4"):
        path.unlink()
    assert client.get(f"{base}/{uri}").status_code == 410
    assert client.get(f"{base}/segments/{number}/init.mp4").status_code == 410


def test_an_unreadable_segment_is_refused_without_naming_the_media_folder(
    recorded: City, signed_in: Callable[[str], TestClient], tmp_path: Path
) -> None:
    client = signed_in("operator")
    base = f"/api/cameras/{recorded.street_east_id}"
    playlist = client.get(f"{base}/recordings.m3u8", params=_q(START, LATER)).text
    number = next(line for line in playlist.splitlines() if line.startswith("segments/"))
    segments = sorted((tmp_path / "media").rglob("*.mp4"))
    assert segments, "the fixture recorded segments"
    for path in segments:
        path.write_bytes(path.read_bytes()[:2000])  # cut inside the first fragment
    answers = [
        _clip(client, recorded.street_east_id),
        client.get(f"{base}/{number.split('/media')[0]}/init.mp4"),
    ]
    for answer in answers:
        assert answer.status_code == 422, answer.text
        detail = answer.json()["detail"]
        assert "truncated" in detail or "ends inside" in detail, detail
        assert str(tmp_path) not in detail, "the server's folders are not for the caller"


def _clip(client: TestClient, camera_id: int, **headers: str) -> httpx2.Response:
    return client.get(
        f"/api/cameras/{camera_id}/clip.mp4",
        params=_q(START + timedelta(seconds=5), START + timedelta(seconds=25)) | {"download": "1"},
        headers=headers,
    )


def test_clip_joins_segments_without_reencoding(
    recorded: City, signed_in: Callable[[str], TestClient], tmp_path: Path
) -> None:
    answer = _clip(signed_in("operator"), recorded.street_east_id)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-clip-start"] == "2026-11-20T09:00:04+00:00", "keyframe before 5 s"
    assert answer.headers["x-clip-end"] == "2026-11-20T09:00:26+00:00", "end of the GOP"
    assert answer.headers["x-clip-gaps"] == "0"
    assert answer.headers["content-disposition"] == (
        'attachment; filename="E-STREET_20261120T090004Z_20261120T090026Z.mp4"'
    )
    assert answer.headers["content-length"] == str(len(answer.content))
    out = tmp_path / "clip.mp4"
    out.write_bytes(answer.content)
    with av.open(str(out)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 22 * 15
    assert not (tmp_path / "media" / "tmp").exists(), "streamed: no temporary file"


def test_a_clip_serves_byte_ranges_for_seeking(
    recorded: City, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in("operator")
    whole = _clip(client, recorded.street_east_id).content
    size = len(whole)
    asked = {
        "bytes=0-99": (0, 100),
        "bytes=100000-": (100000, size),
        "bytes=-1000": (size - 1000, size),
        f"bytes=5000-{size + 50}": (5000, size),
    }
    for header, (first, stop) in asked.items():
        part = _clip(client, recorded.street_east_id, Range=header)
        assert part.status_code == 206, header
        assert part.headers["content-range"] == f"bytes {first}-{stop - 1}/{size}"
        assert part.content == whole[first:stop], header
    whole_again = _clip(client, recorded.street_east_id, Range="bytes=0-9", **{"If-Range": "x"})
    assert (whole_again.status_code, whole_again.content) == (200, whole)
    several = _clip(client, recorded.street_east_id, Range="bytes=0-9,20-29")
    assert several.status_code == 200
    for header in (f"bytes={size}-", "bytes=-0", "bytes=9-3"):
        refused = _clip(client, recorded.street_east_id, Range=header)
        assert refused.status_code == 416, header
        assert refused.headers["content-range"] == f"bytes */{size}"


def test_clip_of_an_unrecorded_range_is_404(
    recorded: City, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in("operator")
    answer = client.get(
        f"/api/cameras/{recorded.street_east_id}/clip.mp4",
        params=_q(START - timedelta(hours=2), START - timedelta(hours=1)),
    )
    assert answer.status_code == 404
    assert "no recording" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("user", "expected"),
    [("officer-east", 200), ("water", 404), ("akimat-west", 403), ("admin", 200)],
)
def test_recordings_are_scoped_and_limited_by_role(
    recorded: City, signed_in: Callable[[str], TestClient], user: str, expected: int
) -> None:
    client = signed_in(user)
    answer = client.get(
        f"/api/cameras/{recorded.street_east_id}/recordings",
        params=_q(START, START + timedelta(minutes=5)),
    )
    assert answer.status_code == expected


def test_a_segment_of_another_camera_is_not_served(
    recorded: City, signed_in: Callable[[str], TestClient]
) -> None:
    client = signed_in("operator")
    playlist = client.get(
        f"/api/cameras/{recorded.street_east_id}/recordings.m3u8",
        params=_q(START, START + timedelta(minutes=1)),
    ).text
    media = next(line for line in playlist.splitlines() if line.startswith("segments/"))
    init = media.rsplit("/", 1)[0] + "/init.mp4"
    east, west = (
        f"/api/cameras/{recorded.street_east_id}",
        f"/api/cameras/{recorded.street_west_id}",
    )
    for uri in (media, init):
        assert client.get(f"{east}/{uri}").status_code == 200
        assert client.get(f"{west}/{uri}").status_code == 404, "another camera's segment"
    client = signed_in("water")
    for uri in (media, init):
        assert client.get(f"{east}/{uri}").status_code == 404, "out of scope: as if missing"
    client = signed_in("akimat-west")
    for uri in (media, init):
        assert client.get(f"{east}/{uri}").status_code == 403, "may not watch recordings"


def test_bad_ranges_are_refused(recorded: City, signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in("operator")
    base = f"/api/cameras/{recorded.street_east_id}"
    assert client.get(f"{base}/clip.mp4", params=_q(LATER, START)).status_code == 422
    naive = {"start": "2026-11-20T09:00:00", "end": "2026-11-20T09:01:00"}
    assert client.get(f"{base}/clip.mp4", params=naive).status_code == 422
    week = _q(START, START + timedelta(days=7))
    assert client.get(f"{base}/recordings.m3u8", params=week).status_code == 422
    assert client.get(f"{base}/recordings").status_code == 422


def test_the_segment_being_written_is_not_a_hole(
    database: Database, city: City, source: Path, tmp_path: Path,
    signed_in: Callable[[str], TestClient],
) -> None:  # fmt: skip
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=35)
    segments = record(
        database, tmp_path / "media", city.street_east_id, "E-STREET", source, started
    )
    params = _q(started - timedelta(minutes=1), started + timedelta(minutes=1))
    client = signed_in("operator")
    url = f"/api/cameras/{city.street_east_id}/recordings"
    idle = client.get(url, params=params).json()
    assert idle["recording_since"] is None
    assert idle["gaps"][-1]["start"] == segments[-1].ended_at.isoformat().replace("+00:00", "Z")
    with database.session() as session:
        session.add(
            CameraStream(camera_id=city.street_east_id, status=StreamStatus.ONLINE, recording=True)
        )
    live = client.get(url, params=params).json()
    assert live["recording_since"] == idle["gaps"][-1]["start"], "the open segment starts there"
    assert len(live["gaps"]) == len(idle["gaps"]) - 1, "and it is not shown as a hole"


def test_playlist_and_clip_requests_are_audited_once_per_viewing(
    recorded: City, signed_in: Callable[[str], TestClient], database: Database
) -> None:
    client = signed_in("operator")
    base = f"/api/cameras/{recorded.street_east_id}"
    assert client.get(f"{base}/recordings.m3u8", params=_q(START, LATER)).status_code == 200
    assert _clip(client, recorded.street_east_id).status_code == 200
    assert _clip(client, recorded.street_east_id, Range="bytes=0-99").status_code == 206
    assert _clip(client, recorded.street_east_id, Range="bytes=100-199").status_code == 206
    rows = audit_entries(database)[1:]  # after the sign-in
    assert [(e.action, e.actor, e.target) for e in rows] == [
        ("video.playback", "operator", f"camera:{recorded.street_east_id}"),
        ("video.clip", "operator", f"camera:{recorded.street_east_id}"),
        ("video.clip", "operator", f"camera:{recorded.street_east_id}"),
    ]
    assert rows[0].details == {"start": START.isoformat(), "end": LATER.isoformat()}
    assert rows[1].details["clip_start"] == "2026-11-20T09:00:04+00:00"
    assert rows[1].details["download"] is True
