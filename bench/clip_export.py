"""Clip export of one hour across 360 recorded segments, end to end, vs FFmpeg's concat.

Run by hand from the repository root (needs Debian's ffmpeg for the source and the baseline):

    .venv/bin/python bench/clip_export.py [--minutes 60] [--runs 3]

It encodes a 1080p25 ~4 Mbit/s H.264 stream once, records ``--minutes`` of it (the source
looped) with the real recorder into 10 s segments indexed in an SQLite database, then times
the whole range three ways: streamed as the API's ``clip.mp4`` does it (``plan_clip``: index
query, every segment's layout, the plan; then every chunk of the stream read and counted, as a
fast client would take it: nothing is written), and written to a file by ``export_clip`` (the
same plan, the payloads copied by the kernel), with and without the SHA-256 check of every
source segment that evidence export makes. The baseline, in the same run on the same files, is
``ffmpeg -f concat -safe 0 -i list -c copy`` (demuxes and re-muxes every packet). Files were
just written, so all read from the page cache: warm-cache figures. Goal (issue 3): < 2 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from safecity.city.models import Camera, District
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.video.models import RecordedSegment
from safecity.video.playback.clips import export_clip, plan_clip
from safecity.video.recording.recorder import SegmentRecorder
from safecity.video.recording.segment_index import SegmentIndexWriter

sys.path.insert(0, str(Path(__file__).resolve().parent))
from record_cost import SOURCE_SECONDS, make_source, play_looped

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def record_hour(source: Path, minutes: int, media: Path, database: Database) -> int:
    """Record ``minutes`` of the looped source for camera 1 from START; returns segments."""
    index = SegmentIndexWriter(database)
    recorder = SegmentRecorder(1, "BENCH", media, index.add, segment_seconds=10)
    play_looped(source, max(1, minutes * 60 // SOURCE_SECONDS), recorder, START)
    return index.flush()


def prepare(folder: Path, database: Database) -> None:
    migrate.upgrade(database)
    square = [[71.3, 51.1], [71.5, 51.1], [71.5, 51.2], [71.3, 51.2], [71.3, 51.1]]
    with database.session() as session:
        district = District(
            code="d", name="District", geometry={"type": "Polygon", "coordinates": [square]}
        )
        session.add(district)
        session.flush()
        session.add(
            Camera(
                code="BENCH",
                name="Bench camera",
                latitude=51.15,
                longitude=71.4,
                district_id=district.id,
                main_stream_url="rtsp://bench/",
            )
        )


def export(database: Database, media: Path, out: Path, minutes: int, verify: bool) -> float:
    began = time.perf_counter()
    with database.session() as session:
        camera = session.scalars(select(Camera)).one()
        clip = export_clip(
            session, media, camera, START, START + timedelta(minutes=minutes), out, verify=verify
        )
    spent = time.perf_counter() - began
    assert len(clip.segments) >= minutes * 6, clip.segments
    out.unlink()
    return spent


def stream(database: Database, media: Path, minutes: int) -> tuple[float, float]:
    """Seconds to plan the clip (until the response could start) and to stream all of it."""
    began = time.perf_counter()
    with database.session() as session:
        camera = session.scalars(select(Camera)).one()
        clip = plan_clip(
            session, media, camera, START, START + timedelta(minutes=minutes), verify=False
        )
    planned = time.perf_counter() - began
    sent = sum(len(chunk) for chunk in clip.join.chunks())
    spent = time.perf_counter() - began
    assert sent == clip.bytes and len(clip.segments) >= minutes * 6, (sent, clip.bytes)
    return planned, spent


def ffmpeg_concat(database: Database, media: Path, folder: Path) -> float:
    with database.session() as session:
        paths = session.scalars(select(RecordedSegment.path).order_by(RecordedSegment.started_at))
        listing = folder / "list.txt"
        listing.write_text("".join(f"file '{media / path}'\n" for path in paths))
    out = folder / "ffmpeg.mp4"
    began = time.perf_counter()
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing),
         "-c", "copy", str(out)],
        check=True,
    )  # fmt: skip
    spent = time.perf_counter() - began
    out.unlink()
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        sys.exit("needs ffmpeg (apt-get install ffmpeg) for the source stream and the baseline")
    with tempfile.TemporaryDirectory(prefix="safecity-bench-") as scratch:
        folder = Path(scratch)
        media = folder / "media"
        database = Database(f"sqlite:///{folder / 'bench.db'}")
        prepare(folder, database)
        print("encoding a 1080p25 ~4 Mbit/s source …", flush=True)
        source = make_source(folder)
        print(f"recording {args.minutes} min of it into 10 s segments …", flush=True)
        began = time.perf_counter()
        segments = record_hour(source, args.minutes, media, database)
        size = sum(p.stat().st_size for p in media.rglob("*.mp4"))
        print(
            f"{segments} segments, {size / 1e9:.2f} GB, recorded in "
            f"{time.perf_counter() - began:.1f} s"
        )
        planned, streamed, plain, verified, baseline = [], [], [], [], []
        for run in range(args.runs):
            first_byte, whole = stream(database, media, args.minutes)
            planned.append(first_byte)
            streamed.append(whole)
            plain.append(export(database, media, folder / "clip.mp4", args.minutes, False))
            verified.append(export(database, media, folder / "clip.mp4", args.minutes, True))
            baseline.append(ffmpeg_concat(database, media, folder))
            print(
                f"run {run + 1}: stream {streamed[-1]:.2f} s (plan {planned[-1]:.2f} s) | "
                f"file export {plain[-1]:.2f} s | with SHA-256 check {verified[-1]:.2f} s | "
                f"ffmpeg concat -c copy {baseline[-1]:.2f} s"
            )
        database.dispose()
    ready, sent, fast, checked, ffmpeg = (
        statistics.median(x) for x in (planned, streamed, plain, verified, baseline)
    )
    print()
    print(f"clip of {args.minutes} min across {segments} segments ({size / 1e9:.2f} GB), medians:")
    print(
        f"  streamed (playback/download): {sent:.2f} s, {size / sent / 1e9:.2f} GB/s "
        f"(goal < 2 s); the response can start after {ready:.2f} s"
    )
    print(f"  file export: {fast:.2f} s, {size / fast / 1e9:.2f} GB/s")
    print(f"  file export with SHA-256 check (evidence): {checked:.2f} s")
    print(
        f"  ffmpeg concat -c copy: {ffmpeg:.2f} s; streaming is {ffmpeg / sent:.1f}x faster, "
        f"the file export {ffmpeg / fast:.1f}x"
    )


if __name__ == "__main__":
    main()
