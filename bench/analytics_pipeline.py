"""Analytics cost on one thread: motion-only against bare decode, the detector's cost against
motion, and frame-to-event latency on the bus.

Run by hand from the repository root (the pinned model and footage are fetched once):

    .venv/bin/python bench/analytics_pipeline.py [--cameras 8] [--runs 3] [--seconds 20]
        [--live-cameras 1,4] [--parts motion,detector,latency]

The streams are OpenCV's vtest.avi (people crossing a plaza, 768×576, 10 fps, 80 s) as a
camera's sub-stream would send it: cropped to 16:9 and scaled to 640×360, encoded as H.264
(x264 veryfast, CRF 26, no B-frames, a keyframe every 2 s) at 5 fps (every other frame) and at
25 fps (frames blended in between, so every frame differs as a real 25 fps stream's do; a
repeated frame would be nearly free to decode). A "still" stream shows one frame of it with a
little sensor noise: a camera where nothing moves.

1. **Motion-only** (``detector.kind: none``): each of ``--cameras`` cameras gets its own
   ``FrameDecoder`` (packets fed exactly as ingest hands them to a live camera) and
   ``CameraAnalytics`` with a tamper rule and no detector, fed round-robin packet by packet.
   Baseline in the same run: bare PyAV decode of the same packets (an ``av.CodecContext`` per
   camera with the same defaults, ``av.Packet`` made from the same bytes). Also measured: the
   decoder alone (decode + the detect frame's RGB conversion), and, for comparison only,
   motion and tamper fed the decoded frame's luma plane (no RGB at all, as Frigate's motion
   is fed). Process CPU time, one thread (OpenCV held to one thread); passes alternate and the
   median of ``--runs`` is kept. Cameras per core: seconds of video analysed per CPU second.
2. **With the detector** (SSD MobileNet v2, LiteRT, one thread): ``--detector-cameras``
   cameras for ``--seconds`` each, 0%, 10% and 50% of them showing the plaza (each from its
   own place in the clip) and the rest the still scene, then twice the cameras with 0 and 1
   showing the plaza: detector calls, regions and CPU per second of video.
3. **Frame to event on the bus**: ingest plays the 5 fps plaza stream from its file at real
   time (``IngestWorker``) into the ``AnalyticsNode`` the video node runs (a ``CameraWatch``
   per camera, ``CameraAnalytics`` with the camera's stored rules: an intrusion rule on the
   whole picture, a line crossing at x = 0.5, tamper; one ``SharedDetector``; a ``Publisher``
   writing the snapshot and the SQLite event row, then publishing on an ``InProcessBus``),
   for 1 camera and for 4 cameras in step (the same file started together: their motion, and
   so their detector work, comes at once). A bus subscriber notes when each event arrives.
   Latency: arrival on the bus minus the time of the frame that fired it (``Frame.at``, the
   packet's wall-clock capture time by ingest's anchor). The recorder is not running.

``uptime`` is printed before and after: the machines are shared and noisy; compare the ratios
printed in one run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

# Run from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av
import cv2
import numpy as np

from safecity.analytics.analysis import CameraAnalytics
from safecity.analytics.assets.cache import AssetCache
from safecity.analytics.assets.catalogue import OPENCV_FOOTAGE, asset_named
from safecity.analytics.assets.fetch import fetch
from safecity.analytics.decoding import DecodeOptions, FrameDecoder, FrameSampler
from safecity.analytics.detectors.base import Detector
from safecity.analytics.frames import Image
from safecity.analytics.motion import MotionDetector
from safecity.analytics.node import AnalyticsNode
from safecity.analytics.objects import Detection
from safecity.analytics.rule_store import replace_camera_rules
from safecity.analytics.rules.definitions import CameraRules, LineCrossing, Tamper, ZoneIntrusion
from safecity.analytics.setup import build_configured_detector
from safecity.analytics.tamper import TamperWatch
from safecity.auth.roles import Role
from safecity.bus.core import Message
from safecity.bus.memory import InProcessBus
from safecity.settings import AnalyticsSettings, Settings
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.video.ingest.packets import StreamInfo, VideoPacket
from safecity.video.ingest.worker import IngestWorker
from safecity.video.node import CameraSource
from tests import factories as f

WIDTH, HEIGHT = 640, 360
GOP_SECONDS = 2.0
DETECT_FPS = 5.0
RATIO_GOAL = 1.3
CAMERAS_GOAL = 100
LATENCY_GOAL_MS = 500.0
TAMPER_ONLY = CameraRules(rules=[Tamper(name="tamper")])


def uptime() -> None:
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


# -- the streams ---------------------------------------------------------------------------


def plaza_pictures(source: Path) -> list[Image]:
    """vtest.avi's frames (10 fps), the middle 16:9 band scaled to 640×360, RGB."""
    pictures = []
    with av.open(str(source)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24")
            height, width = rgb.shape[:2]
            band = round(width * 9 / 16)
            top = (height - band) // 2
            scaled = cv2.resize(
                rgb[top : top + band], (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA
            )
            pictures.append(cast(Image, scaled))
    return pictures


def resampled(pictures: Sequence[Image], source_fps: float, fps: float) -> Iterator[Image]:
    """The pictures at ``fps``: every n-th one when slower, blends of neighbours when faster."""
    count = int(len(pictures) * fps / source_fps)
    for index in range(count):
        position = index * source_fps / fps
        low = min(int(position), len(pictures) - 1)
        share = position - low
        if share < 1e-6 or low + 1 >= len(pictures):
            yield pictures[low]
        else:
            yield cast(
                Image, cv2.addWeighted(pictures[low], 1 - share, pictures[low + 1], share, 0)
            )


def still_pictures(picture: Image, count: int) -> Iterator[Image]:
    """One picture over and over with sensor noise (standard deviation 2 grey levels): nothing moves."""
    rng = np.random.default_rng(7)
    for _ in range(count):
        noise = rng.normal(0, 2.0, picture.shape)
        yield np.clip(picture + noise, 0, 255).astype(np.uint8)


def encode(pictures: Iterator[Image], target: Path, fps: float) -> Path:
    """H.264 as a camera sends it: no B-frames, a keyframe every ``GOP_SECONDS``."""
    with av.open(str(target), "w", format="mp4") as writer:
        stream = writer.add_stream("libx264", rate=round(fps))
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {
            "preset": "veryfast",
            "crf": "26",
            "bf": "0",
            "g": str(round(fps * GOP_SECONDS)),
        }
        for index, picture in enumerate(pictures):
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            writer.mux(stream.encode(frame))
        writer.mux(stream.encode(None))
    return target


@dataclass(frozen=True)
class Streams:
    plaza_5: Path
    plaza_25: Path
    still_5: Path
    seconds: float


def make_streams(folder: Path) -> Streams:
    source = fetch(asset_named(OPENCV_FOOTAGE), AssetCache()).paths["vtest.avi"]
    pictures = plaza_pictures(source)
    return Streams(
        plaza_5=encode(resampled(pictures, 10, 5), folder / "plaza-5fps.mp4", 5),
        plaza_25=encode(resampled(pictures, 10, 25), folder / "plaza-25fps.mp4", 25),
        still_5=encode(still_pictures(pictures[0], len(pictures) // 2), folder / "still.mp4", 5),
        seconds=len(pictures) / 10,
    )


# -- packets as ingest hands them over ------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """One stream's packets in memory, from its first keyframe."""

    info: StreamInfo
    packets: list[VideoPacket]
    fps: float

    def from_keyframe(self, seconds: float, length: float) -> Recorded:
        """``length`` seconds of it from the first keyframe at or after ``seconds``, as a
        camera connection that started there."""
        tick = self.info.tick
        start = next(
            at
            for at, packet in enumerate(self.packets)
            if packet.keyframe and (packet.pts - self.info.first_pts) * tick >= seconds
        )
        first = self.packets[start].pts
        chosen = [p for p in self.packets[start:] if (p.pts - first) * tick < length]
        info = StreamInfo(
            camera_code=self.info.camera_code,
            codec=self.info.codec,
            time_base=self.info.time_base,
            width=self.info.width,
            height=self.info.height,
            extradata=self.info.extradata,
            template=self.info.template,
            started_at=time.time(),
            first_pts=first,
        )
        return Recorded(info, chosen, self.fps)


def record(path: Path, stack: ExitStack) -> Recorded:
    container = stack.enter_context(av.open(str(path)))
    stream = container.streams.video[0]
    packets = []
    for packet in container.demux(stream):
        if packet.pts is None or packet.size == 0:
            continue
        packets.append(
            VideoPacket(
                bytes(packet),
                packet.pts,
                packet.dts if packet.dts is not None else packet.pts,
                int(packet.duration or 0),
                bool(packet.is_keyframe),
                arrived=0.0,
            )
        )
    assert stream.time_base is not None and stream.average_rate is not None
    info = StreamInfo(
        camera_code="BENCH",
        codec=stream.codec_context.name,
        time_base=stream.time_base,
        width=stream.width,
        height=stream.height,
        extradata=bytes(stream.codec_context.extradata or b""),
        template=stream,
        started_at=time.time(),
        first_pts=packets[0].pts,
    )
    return Recorded(info, packets, float(stream.average_rate))


# -- 1. motion-only against bare decode -----------------------------------------------------


def bare_decode(stream: Recorded, cameras: int) -> tuple[float, int]:
    """CPU seconds and frames: the same packets through a bare decoder per camera."""
    codecs = []
    for _ in range(cameras):
        codec = cast(av.VideoCodecContext, av.CodecContext.create(stream.info.codec, "r"))
        codec.extradata = stream.info.extradata
        codecs.append(codec)
    frames = 0
    started = time.process_time()
    for packet in stream.packets:
        for codec in codecs:
            made = av.Packet(packet.data)
            made.pts, made.dts, made.is_keyframe = packet.pts, packet.dts, packet.keyframe
            frames += len(codec.decode(made))
    return time.process_time() - started, frames


def decoder_only(stream: Recorded, cameras: int) -> tuple[float, int]:
    """CPU seconds and detect frames: decode, and the detect frames converted to RGB."""
    options = DecodeOptions(detect_fps=DETECT_FPS, detect_width=WIDTH)
    decoders = [FrameDecoder(stream.info, options) for _ in range(cameras)]
    frames = 0
    started = time.process_time()
    for packet in stream.packets:
        for decoder in decoders:
            if decoder.decode(packet) is not None:
                frames += 1
    return time.process_time() - started, frames


def motion_only(stream: Recorded, cameras: int) -> tuple[float, int]:
    """CPU seconds and detect frames: decode, convert and analyse (masks, motion, tamper)."""
    options = DecodeOptions(detect_fps=DETECT_FPS, detect_width=WIDTH)
    decoders = [FrameDecoder(stream.info, options) for _ in range(cameras)]
    analytics = [CameraAnalytics(TAMPER_ONLY, None, UTC) for _ in range(cameras)]
    frames = 0
    started = time.process_time()
    for packet in stream.packets:
        for decoder, camera in zip(decoders, analytics, strict=True):
            frame = decoder.decode(packet)
            if frame is not None:
                camera.analyse(frame)
                frames += 1
    return time.process_time() - started, frames


def grey_first(stream: Recorded, cameras: int) -> tuple[float, int]:
    """Not the pipeline: what motion and tamper cost when fed the decoded frame's own luma
    plane (no RGB, no grey conversion), as Frigate's motion does; for comparison."""
    codecs = []
    for _ in range(cameras):
        codec = cast(av.VideoCodecContext, av.CodecContext.create(stream.info.codec, "r"))
        codec.extradata = stream.info.extradata
        codecs.append(codec)
    samplers = [FrameSampler(DETECT_FPS) for _ in range(cameras)]
    motions = [MotionDetector() for _ in range(cameras)]
    tampers = [TamperWatch() for _ in range(cameras)]
    tick = stream.info.tick
    frames = 0
    started = time.process_time()
    for packet in stream.packets:
        for codec, sampler, motion, tamper in zip(codecs, samplers, motions, tampers, strict=True):
            made = av.Packet(packet.data)
            made.pts, made.dts, made.is_keyframe = packet.pts, packet.dts, packet.keyframe
            for decoded in codec.decode(made):
                seconds = ((decoded.pts or packet.pts) - stream.info.first_pts) * tick
                if not sampler.due(seconds):
                    continue
                plane = decoded.planes[0]
                luma = np.frombuffer(memoryview(plane), np.uint8)
                luma = luma.reshape(plane.height, plane.line_size)
                tamper.watch(motion.detect(luma[:, : decoded.width]).grey, seconds)
                frames += 1
    return time.process_time() - started, frames


def pipeline_economy(stream: Recorded, cameras: int, runs: int, label: str) -> None:
    seconds = len(stream.packets) / stream.fps
    timings: dict[str, list[float]] = {"decode": [], "decoder": [], "motion": [], "grey": []}
    counts: dict[str, int] = {}
    for _ in range(runs):
        for name, measure in (
            ("decode", bare_decode),
            ("decoder", decoder_only),
            ("motion", motion_only),
            ("grey", grey_first),
        ):
            cpu, frames = measure(stream, cameras)
            timings[name].append(cpu)
            counts[name] = frames
    decode, decoder, motion, grey = (statistics.median(timings[n]) for n in timings)
    video = cameras * seconds
    analysed = counts["motion"]
    print(
        f"\n{label}: {cameras} cameras × {seconds:.0f} s, {counts['decode']} frames decoded, "
        f"{analysed} analysed (5 fps); median of {runs} runs, CPU seconds"
    )
    print(f"  {'':<50} {'CPU s':>7} {'ms/frame':>9} {'cams/core':>10} {'ratio':>6}")
    rows = (
        ("bare PyAV decode (baseline)", decode),
        ("FrameDecoder: decode + RGB detect frame", decoder),
        ("motion-only analytics (+ masks, motion, tamper)", motion),
        ("not the pipeline: decode, motion + tamper on luma", grey),
    )
    for name, cpu in rows:
        print(
            f"  {name:<50} {cpu:7.2f} {1000 * cpu / analysed:9.3f} {video / cpu:10.0f} "
            f"{cpu / decode:5.2f}×"
        )
    print(
        f"  per analysed frame: decode {1000 * decode / analysed:.3f} ms, RGB conversion "
        f"{1000 * (decoder - decode) / analysed:.3f} ms, analysis "
        f"{1000 * (motion - decoder) / analysed:.3f} ms"
    )
    ratio, per_core = motion / decode, video / motion
    print(
        f"  → analytics {ratio:.2f}× bare decode (goal ≤ {RATIO_GOAL}×: "
        f"{'holds' if ratio <= RATIO_GOAL else 'does NOT hold'}); {per_core:.0f} cameras per "
        f"core (goal ≥ {CAMERAS_GOAL}: {'holds' if per_core >= CAMERAS_GOAL else 'does NOT hold'})"
    )


# -- 2. the detector's cost grows with motion ----------------------------------------------


class TimedDetector:
    """The detector, with its calls and CPU time counted."""

    def __init__(self, detector: Detector) -> None:
        self._detector = detector
        self.name = detector.name
        self.input_size = detector.input_size
        self.max_batch = detector.max_batch
        self.calls = 0
        self.pictures = 0
        self.cpu = 0.0

    def detect(self, image: Image) -> list[Detection]:
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[Image]) -> list[list[Detection]]:
        started = time.process_time()
        found = self._detector.detect_batch(images)
        self.cpu += time.process_time() - started
        self.calls += 1
        self.pictures += len(images)
        return found


def detector_share(
    plaza: Recorded, still: Recorded, detector: Detector, cameras: int, moving: int, seconds: float
) -> dict[str, float]:
    timed = TimedDetector(detector)
    streams = [
        plaza.from_keyframe(8.0 * at, seconds) if at < moving else still.from_keyframe(0, seconds)
        for at in range(cameras)
    ]
    options = DecodeOptions(detect_fps=DETECT_FPS, detect_width=WIDTH)
    decoders = [FrameDecoder(stream.info, options) for stream in streams]
    analytics = [CameraAnalytics(TAMPER_ONLY, timed, UTC) for _ in streams]
    frames = 0
    started = time.process_time()
    for at in range(max(len(stream.packets) for stream in streams)):
        for stream, decoder, camera in zip(streams, decoders, analytics, strict=True):
            if at < len(stream.packets):
                frame = decoder.decode(stream.packets[at])
                if frame is not None:
                    camera.analyse(frame)
                    frames += 1
    cpu = time.process_time() - started
    return {
        "cpu": cpu,
        "frames": frames,
        "detector_frames": timed.calls,
        "regions": timed.pictures,
        "detector_cpu": timed.cpu,
        "video": cameras * seconds,
    }


def detector_economy(streams: Streams, cameras: int, seconds: float, stack: ExitStack) -> None:
    detector = build_configured_detector(AnalyticsSettings())
    assert detector is not None
    plaza, still = record(streams.plaza_5, stack), record(streams.still_5, stack)
    print(
        f"\nwith the detector ({detector.name}, one thread): cameras × {seconds:.0f} s at "
        "5 fps, the plaza on some, a still scene on the rest"
    )
    print(
        f"  {'cameras':>7} {'with motion':>13} {'detector frames/s':>18} {'regions/s':>10} "
        f"{'detector CPU':>13} {'other CPU':>10} {'per camera':>11}"
    )
    few = max(1, round(0.1 * cameras))
    for count, moving in (
        (cameras, 0),
        (cameras, few),
        (cameras, round(0.5 * cameras)),
        (2 * cameras, 0),
        (2 * cameras, few),
    ):
        figures = detector_share(plaza, still, detector, count, moving, seconds)
        other = figures["cpu"] - figures["detector_cpu"]
        print(
            f"  {count:>7} {moving:>5} ({100 * moving / count:3.0f}%) "
            f"{figures['detector_frames'] / seconds:18.1f} "
            f"{figures['regions'] / seconds:10.1f} "
            f"{100 * figures['detector_cpu'] / seconds:11.1f} % "
            f"{100 * other / seconds:8.1f} % "
            f"{100 * figures['cpu'] / figures['video']:9.2f} %"
        )
    print(
        "  per second of video of all the cameras together, in % of one core; detector "
        "frames: frames on which the detector ran (on one region or more); per camera: all "
        "the CPU over the cameras"
    )


# -- 3. frame to event on the bus -----------------------------------------------------------


def live_rules() -> CameraRules:
    return CameraRules(
        rules=[
            ZoneIntrusion(name="plaza"),
            LineCrossing(name="middle", line=((0.5, 0.0), (0.5, 1.0))),
            Tamper(name="tamper"),
        ]
    )


def frame_to_event(stream: Path, seconds: float, folder: Path, cameras: int) -> None:
    database = Database(f"sqlite:///{folder / f'safecity-{cameras}.db'}")
    migrate.upgrade(database)
    with database.session() as session:
        district = f.add_district(session, "bench", f.WEST)
        admin = f.add_user(session, "admin", Role.ADMIN)
        sources = []
        for number in range(1, cameras + 1):
            camera = f.add_camera(session, f"PLAZA-{number}", district)
            replace_camera_rules(session, camera, live_rules(), admin)
            sources.append(CameraSource(camera.id, camera.code, str(stream)))
    bus = InProcessBus()
    arrivals: list[tuple[float, dict[str, Any]]] = []
    lock = threading.Lock()

    def arrived(message: Message) -> None:
        now = time.time()
        with lock:
            arrivals.append((now, dict(message.payload)))

    bus.subscribe("analytics/events/#", arrived)
    node = AnalyticsNode(Settings(data_dir=folder), database, bus)
    node.start()
    workers = []
    for source in sources:
        sink = node.watch(source)
        assert sink is not None
        workers.append(IngestWorker(source.code, source.url, [sink]))
    cpu = time.process_time()
    for worker in workers:
        worker.start()
    try:
        time.sleep(seconds)
        figures = [node.figures(source.code) or {} for source in sources]
    finally:
        for worker in workers:
            worker.request_stop()
        for worker in workers:
            worker.stop()
        node.stop()
        time.sleep(0.5)
        bus.close()
        database.dispose()
    cpu = time.process_time() - cpu
    latencies = sorted(
        1000 * (now - datetime.fromisoformat(str(payload["at"])).timestamp())
        for now, payload in arrivals
    )
    kinds: dict[str, int] = {}
    for _, payload in arrivals:
        kinds[str(payload["kind"])] = kinds.get(str(payload["kind"]), 0) + 1
    print(
        f"\nframe to event on the bus: {cameras} camera(s) playing the 5 fps plaza stream live "
        f"(in step) for {seconds:.0f} s into the AnalyticsNode (CameraWatch, CameraAnalytics, "
        f"one SharedDetector, Publisher: snapshot, SQLite, bus); {100 * cpu / seconds:.0f}% "
        "of a core in all"
    )
    print(
        "  per camera: analysed "
        + ", ".join(f"{one.get('analysed_fps', 0):.1f}" for one in figures)
        + " fps; skipped "
        + ", ".join(f"{one.get('skipped_fps', 0):.1f}" for one in figures)
        + " fps; detector "
        + ", ".join(f"{one.get('detector_ms', 0):.0f}" for one in figures)
        + " ms per frame it ran on"
    )
    if not latencies:
        print("  no events arrived")
        return
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(
        f"  events {len(latencies)} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}):"
        f" frame → bus p50 {statistics.median(latencies):.0f} ms, p90 "
        f"{latencies[int(0.9 * (len(latencies) - 1))]:.0f} ms, p99 {p99:.0f} ms, max "
        f"{latencies[-1]:.0f} ms (goal p99 < {LATENCY_GOAL_MS:.0f} ms: "
        f"{'holds' if p99 < LATENCY_GOAL_MS else 'does NOT hold'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cameras", type=int, default=8, help="motion-only cameras")
    parser.add_argument("--runs", type=int, default=3, help="motion-only passes (median kept)")
    parser.add_argument("--detector-cameras", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0, help="video per detector camera")
    parser.add_argument("--live-seconds", type=float, default=60.0, help="per latency run")
    parser.add_argument(
        "--live-cameras", default="1,4", help="latency runs: cameras at once, comma-separated"
    )
    parser.add_argument(
        "--parts", default="motion,detector,latency", help="which parts to run, comma-separated"
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    cv2.setNumThreads(1)
    uptime()
    with (
        tempfile.TemporaryDirectory(prefix="safecity-analytics-bench-") as temp,
        ExitStack() as stack,
    ):
        folder = Path(temp)
        print("encoding the streams (vtest.avi as a 640×360 H.264 sub-stream)…")
        streams = make_streams(folder)
        if "motion" in parts:
            for path, label in (
                (streams.plaza_5, "motion-only, 640×360 H.264 at 5 fps"),
                (streams.plaza_25, "motion-only, 640×360 H.264 at 25 fps (detect 5 fps)"),
            ):
                pipeline_economy(record(path, stack), args.cameras, args.runs, label)
        if "detector" in parts:
            detector_economy(streams, args.detector_cameras, args.seconds, stack)
        if "latency" in parts:
            for cameras in (int(n) for n in args.live_cameras.split(",")):
                frame_to_event(streams.plaza_5, args.live_seconds, folder, cameras)
    uptime()


if __name__ == "__main__":
    main()
