"""Time a one-hour clip export by ``join_fragments`` against ``ffmpeg -f concat -c copy``.

Run by hand from the repository root:

    .venv/bin/python bench/clip_join.py [--segments 360] [--dir PATH] [--repeat 3]

It encodes one realistic recorder segment (10 s of 1080p street scene at 25 fps with sensor
noise, H.264 at about 4 Mbit/s, a keyframe every 2 s), remuxes it as the recorder does
(fragmented MP4, ``frag_keyframe+empty_moov+default_base_moof``), copies that file
``--segments`` times (valid: every recorder file restarts its timeline at 0), reads every
layout, and joins them all into one clip, placing file i at i x 10 s. The baseline, in the same
run and on the same files, is FFmpeg's concat demuxer with stream copy, which demuxes and
re-muxes every packet. The files have just been written, so both read from the page cache:
these are warm-cache figures (a cold disk adds its read time to both).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

# Run from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av
import numpy as np

from safecity.video.ingest.synthetic import StreetScene, VideoSpec
from safecity.video.mp4.join import Piece, join_fragments
from safecity.video.mp4.layout import SegmentLayout, read_layout

SPEC = VideoSpec(width=1920, height=1080, fps=25, seconds=10, gop_seconds=2)
BIT_RATE = 4_000_000
FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}


def encode_source(path: Path) -> None:
    """10 s of the street scene plus luma noise (so x264 spends the bit rate, as a real
    camera's sensor makes it), at a steady ~4 Mbit/s."""
    scene = StreetScene(SPEC, "CAM-BENCH", 1)
    rng = np.random.default_rng(1)
    noise = [rng.integers(0, 12, (SPEC.height, SPEC.width), dtype=np.uint8) for _ in range(7)]
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream(
            "libx264",
            rate=SPEC.fps,
            options={
                "preset": "ultrafast",
                "x264-params": f"keyint={SPEC.gop}:min-keyint={SPEC.gop}:scenecut=0:bframes=0",
            },
        )
        stream.width, stream.height, stream.pix_fmt = SPEC.width, SPEC.height, "yuv420p"
        stream.bit_rate = BIT_RATE
        stream.codec_context.time_base = Fraction(1, SPEC.fps)
        for index in range(SPEC.frames):
            canvas = scene.frame(index)
            canvas.y += noise[index % len(noise)]
            frame = av.VideoFrame.from_ndarray(canvas.buffer, format="yuv420p")
            frame.pts = index
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def remux_fragmented(source: Path, path: Path) -> None:
    """What the recorder does to each segment: stream copy into fragmented MP4."""
    with (
        av.open(str(source)) as inp,
        av.open(str(path), "w", format="mp4", options=FRAGMENTED) as out,
    ):
        in_stream = inp.streams.video[0]
        out_stream = out.add_stream_from_template(in_stream)
        for packet in inp.demux(in_stream):
            if packet.dts is not None:
                packet.stream = out_stream
                out.mux(packet)


def timed(label: str, seconds: float, detail: str = "") -> None:
    print(f"{label:<34} {seconds:8.3f} s  {detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=int, default=360)
    parser.add_argument("--dir", type=Path, help="work directory (default: a temporary one)")
    parser.add_argument("--repeat", type=int, default=3, help="joins to time (best is kept)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="clip-join-", dir=args.dir))
    try:
        run(work, args.segments, args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(work: Path, count: int, repeat: int) -> None:
    started = time.perf_counter()
    encode_source(work / "source.mp4")
    template = work / "template.mp4"
    remux_fragmented(work / "source.mp4", template)
    size = template.stat().st_size
    rate = size * 8 / SPEC.seconds / 1e6
    timed(
        "encode + remux one segment",
        time.perf_counter() - started,
        f"{size / 1e6:.2f} MB, {rate:.2f} Mbit/s",
    )

    started = time.perf_counter()
    segments = [work / f"segment-{index:04d}.mp4" for index in range(count)]
    for path in segments:
        shutil.copyfile(template, path)
    total = size * count
    timed(f"copy to {count} segment files", time.perf_counter() - started, f"{total / 1e9:.2f} GB")

    started = time.perf_counter()
    layouts = [read_layout(path) for path in segments]
    spent = time.perf_counter() - started
    fragments = sum(len(layout.fragments) for layout in layouts)
    timed(f"read_layout x {count}", spent, f"{fragments} fragments, {count / spent:,.0f} files/s")

    pieces = [
        whole(path, layout, index)
        for index, (path, layout) in enumerate(zip(segments, layouts, strict=True))
    ]
    out, floor_out = work / "clip.mp4", work / "floor.bin"
    best = float("inf")
    for attempt in range(1, repeat + 1):
        # Each run starts with no dirty pages to write back, and is paired with the floor in
        # the same conditions (first use of fresh memory is slow on some VMs: see run 1).
        os.sync()
        started = time.perf_counter()
        floor = plain_copy(segments, floor_out)
        spent = time.perf_counter() - started
        timed(f"floor: plain copy (run {attempt})", spent, f"{floor / 1e9 / spent:.2f} GB/s")
        floor_out.unlink()
        os.sync()
        started = time.perf_counter()
        result = join_fragments(pieces, out)
        spent = time.perf_counter() - started
        best = min(best, spent)
        speed = f"{result.size / 1e9 / spent:.2f} GB/s"
        timed(f"join_fragments (run {attempt})", spent, f"{speed}, {result.seconds / 3600:.2f} h")
        started = time.perf_counter()
        os.sync()
        timed("  then sync to disk", time.perf_counter() - started)
    check(out, sum(f.samples for layout in layouts for f in layout.fragments))
    out.unlink()

    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        print("ffmpeg not found: no baseline")
        return
    listing = work / "list.txt"
    listing.write_text("".join(f"file '{path}'\n" for path in segments))
    concat = [ffmpeg, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing)]
    os.sync()
    started = time.perf_counter()
    subprocess.run([*concat, "-c", "copy", str(work / "concat.mp4")], check=True)
    baseline = time.perf_counter() - started
    timed("ffmpeg -f concat -c copy", baseline, f"{total / 1e9 / baseline:.2f} GB/s")
    print(f"join_fragments (best run) is {baseline / best:.1f}x faster than ffmpeg concat")


def check(clip: Path, samples: int) -> None:
    """ffprobe (if installed) must read every packet of the clip without an error."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return
    entries = ["-count_packets", "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0"]
    probe = subprocess.run(
        [ffprobe, "-v", "error", *entries, str(clip)], capture_output=True, text=True, check=True
    )
    verdict = "ok" if probe.stdout.strip() == str(samples) and not probe.stderr else "WRONG"
    print(f"ffprobe on the clip: {probe.stdout.strip()} packets of {samples}, {verdict}")
    if probe.stderr:
        print(probe.stderr[:2000])


def plain_copy(paths: list[Path], out: Path) -> int:
    """The least a join can cost: the same bytes appended by the kernel, nothing parsed.

    (Not a valid MP4: concatenated files, each with its own moov.)"""
    written = 0
    with open(out, "wb") as target:
        for path in paths:
            with open(path, "rb") as source:
                size = os.fstat(source.fileno()).st_size
                done = 0
                while done < size:
                    done += os.copy_file_range(source.fileno(), target.fileno(), size - done)
                written += size
    return written


def whole(path: Path, layout: SegmentLayout, index: int) -> Piece:
    """The whole file ``index``, placed right after the previous one."""
    return Piece(path, layout, 0, len(layout.fragments) - 1, index * layout.duration)


if __name__ == "__main__":
    main()
