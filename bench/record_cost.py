"""CPU cost of recording: our recorder vs ``ffmpeg -c copy -f segment`` on the same stream.

Run by hand from the repository root (needs Debian's ffmpeg for the source and the baseline):

    .venv/bin/python bench/record_cost.py [--minutes 5] [--runs 3]

It encodes a 1080p25 H.264 stream at ~4 Mbit/s once (x264, 2 s GOP, no B-frames, like a
city camera's main stream), then records ``--minutes`` of it (the source looped) both ways:

- ours: demux with PyAV, hand each packet to ``SegmentRecorder`` as ingest does (10 s
  fragmented-MP4 segments cut at keyframes, SHA-256 while writing, fsync + rename), measured
  with ``time.process_time()`` in this process;
- baseline: ``ffmpeg -stream_loop N -i src -c copy -f segment -segment_time 10`` into
  fragmented-MP4 segments, its CPU read from ``getrusage(RUSAGE_CHILDREN)``.

Both read the same file from the page cache, so the figure is the remux cost alone (network
receive costs the same either way). Ours also hashes every byte (SHA-256, for the index) and
fsyncs each segment; FFmpeg does neither, so a second ratio adds the hashing of FFmpeg's
segments to its side. Prints CPU seconds per stream-minute, the ratio, and how
many such streams one core records. Goal (issue 3): within 1.5x of FFmpeg, >= 100 per core.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av

import safecity.video.recording.recorder as recorder_module
from safecity.video.ingest.packets import PacketSink, StreamInfo, VideoPacket
from safecity.video.recording.recorder import FinishedSegment, SegmentRecorder

SOURCE_SECONDS = 60


def make_source(folder: Path) -> Path:
    path = folder / "camera-1080p25-4mbit.mp4"
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25,noise=alls=6:allf=t",
            "-t", str(SOURCE_SECONDS),
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
            "-b:v", "4M", "-maxrate", "4M", "-bufsize", "4M",
            "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-bf", "0",
            "-pix_fmt", "yuv420p", str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def play_looped(source: Path, loops: int, sink: PacketSink, started_at: datetime) -> None:
    """``loops`` passes of ``source`` into ``sink`` as fast as they demux, as one connection
    whose timestamps keep rising (as a camera's would), anchored at ``started_at``."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None
        duration = round(SOURCE_SECONDS / stream.time_base)
        info: StreamInfo | None = None
        for loop in range(loops):
            container.seek(0)
            for packet in container.demux(stream):
                if packet.pts is None or packet.dts is None or packet.size == 0:
                    continue
                pts, dts = packet.pts + loop * duration, packet.dts + loop * duration
                if info is None:
                    context = stream.codec_context
                    info = StreamInfo(
                        "BENCH", context.name, stream.time_base, context.width,
                        context.height, bytes(context.extradata or b""), stream,
                        started_at.timestamp(), pts,
                    )  # fmt: skip
                    sink.stream_opened(info)
                data, keyframe = bytes(packet), bool(packet.is_keyframe)
                arrived = info.wall_time(pts)
                sink.packet(
                    VideoPacket(data, pts, dts, int(packet.duration or 0), keyframe, arrived)
                )
    sink.stream_closed()


class _UnhashedFile(recorder_module.HashingFile):
    """For the split only: the recorder's file without the SHA-256 (never used in SafeCity)."""

    def write(self, data: bytes) -> int:
        self._raw.write(data)
        return len(data)


def ours_without_hash(source: Path, loops: int, out: Path) -> tuple[float, int, int]:
    """The same recording with hashing switched off: the remux's own cost."""
    real = recorder_module.HashingFile
    recorder_module.HashingFile = _UnhashedFile  # type: ignore[misc]
    try:
        return ours(source, loops, out)
    finally:
        recorder_module.HashingFile = real  # type: ignore[misc]


def ours(source: Path, loops: int, out: Path) -> tuple[float, int, int]:
    """CPU seconds, segments and bytes for recording ``loops`` passes of ``source``."""
    finished: list[FinishedSegment] = []
    recorder = SegmentRecorder(1, "BENCH", out, finished.append, segment_seconds=10)
    began = time.process_time()
    play_looped(source, loops, recorder, datetime.now(UTC))
    spent = time.process_time() - began
    return spent, len(finished), sum(s.bytes for s in finished)


def ffmpeg(source: Path, loops: int, out: Path) -> tuple[float, int, int]:
    out.mkdir(parents=True, exist_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-stream_loop", str(loops - 1), "-i", str(source),
            "-c", "copy", "-f", "segment", "-segment_time", "10", "-reset_timestamps", "1",
            "-segment_format", "mp4",
            "-segment_format_options", "movflags=frag_keyframe+empty_moov+default_base_moof",
            str(out / "%05d.mp4"),
        ],
        check=True,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    files = list(out.glob("*.mp4"))
    return spent, len(files), sum(f.stat().st_size for f in files)


def hashing(folder: Path) -> float:
    """CPU seconds to SHA-256 every file in ``folder`` (what our index adds to FFmpeg's work)."""
    began = time.process_time()
    for path in sorted(folder.glob("*.mp4")):
        digest = hashlib.sha256()
        with path.open("rb", buffering=0) as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
    return time.process_time() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=5, help="stream length recorded per run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        sys.exit("needs ffmpeg (apt-get install ffmpeg) for the source stream and the baseline")
    loops = max(1, args.minutes * 60 // SOURCE_SECONDS)
    stream_minutes = loops * SOURCE_SECONDS / 60
    with tempfile.TemporaryDirectory(prefix="safecity-bench-") as scratch:
        folder = Path(scratch)
        print("encoding a 1080p25 ~4 Mbit/s source …", flush=True)
        source = make_source(folder)
        with av.open(str(source)) as probe:
            bitrate = probe.bit_rate / 1e6 if probe.bit_rate else 0.0
        print(f"source: {source.stat().st_size / 1e6:.1f} MB, {bitrate:.2f} Mbit/s")
        ours_cpu: list[float] = []
        ffmpeg_cpu: list[float] = []
        hash_cpu: list[float] = []
        unhashed_cpu: list[float] = []
        for run in range(args.runs):
            spent, segments, size = ours(source, loops, folder / f"ours-{run}")
            ours_cpu.append(spent)
            unhashed_cpu.append(ours_without_hash(source, loops, folder / f"remux-{run}")[0])
            shutil.rmtree(folder / f"remux-{run}")
            base, base_segments, base_size = ffmpeg(source, loops, folder / f"ffmpeg-{run}")
            ffmpeg_cpu.append(base)
            hash_cpu.append(hashing(folder / f"ffmpeg-{run}"))
            print(
                f"run {run + 1}: ours {spent:.3f} s CPU ({segments} segments, "
                f"{size / 1e6:.0f} MB) | ffmpeg {base:.3f} s CPU ({base_segments} segments, "
                f"{base_size / 1e6:.0f} MB)"
            )
            shutil.rmtree(folder / f"ours-{run}")
            shutil.rmtree(folder / f"ffmpeg-{run}")
    ours_median, ffmpeg_median = statistics.median(ours_cpu), statistics.median(ffmpeg_cpu)
    ratio = ours_median / ffmpeg_median
    per_core = stream_minutes * 60 / ours_median
    print()
    print(f"stream recorded per run: {stream_minutes:.0f} min of 1080p25 at ~{bitrate:.1f} Mbit/s")
    print(f"ours:   {ours_median / stream_minutes * 1000:.1f} ms CPU per stream-minute")
    print(f"ffmpeg: {ffmpeg_median / stream_minutes * 1000:.1f} ms CPU per stream-minute")
    print(f"ratio ours/ffmpeg: {ratio:.2f}x (goal <= 1.5x)")
    remux = statistics.median(unhashed_cpu)
    print(
        f"  of which the remux alone (hashing off, for the split): "
        f"{remux / stream_minutes * 1000:.1f} ms per stream-minute, {remux / ffmpeg_median:.2f}x"
    )
    same_work = ffmpeg_median + statistics.median(hash_cpu)
    print(
        f"ratio ours/(ffmpeg + SHA-256 of its segments, the index's hash): "
        f"{ours_median / same_work:.2f}x"
    )
    print(f"streams one core records: {per_core:.0f} (goal >= 100)")


if __name__ == "__main__":
    main()
