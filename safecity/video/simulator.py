"""Simulated cameras: H.264 files played in a loop at real time, packet by packet.

A ``SimulatedCamera`` behaves towards the rest of SafeCity like a camera on the network: it
sends the packets of its stream when they are due, without decoding them, and its health
(online, fps, bitrate, last packet) is measured from what it actually sent. It keeps the
packets since the last keyframe so that a snapshot needs to decode only that one GOP, on
demand. ``CameraSimulator`` runs several and publishes their health on the bus, as any
source of video does (see ``safecity.video.health``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import av

from safecity.bus import Bus
from safecity.video.health import StreamHealth, publish_health
from safecity.video.snapshots import jpeg_from_frame

log = logging.getLogger(__name__)

RATE_WINDOW_SECONDS = 3.0
"""fps and bitrate are measured over the packets sent in this last stretch of time."""
STALE_AFTER_SECONDS = 2.0
"""A camera that sent nothing for this long is offline."""
RESYNC_AFTER_SECONDS = 1.0
"""Further behind schedule than this (a suspended machine), restart the clock, don't burst."""
FIRST_REPORT_AFTER_SECONDS = 1.0


class SimulatedCamera:
    """One camera: plays the H.264 stream in ``path`` (MP4 or similar) on a thread."""

    def __init__(self, code: str, path: Path) -> None:
        self.code = code
        self.path = path
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"camera-{code}", daemon=True)
        self._extradata = b""
        self._gop: list[bytes] = []
        self._recent: deque[tuple[float, int]] = deque()
        self._packets = 0
        self._loops = 0
        self._last_packet_at: datetime | None = None
        self._last_packet_clock = 0.0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def health(self) -> StreamHealth:
        now = time.monotonic()
        with self._lock:
            self._forget_before(now - RATE_WINDOW_SECONDS)
            recent = list(self._recent)
            online = self.running and now - self._last_packet_clock < STALE_AFTER_SECONDS
            packets, loops, last_at = self._packets, self._loops, self._last_packet_at
        fps = bitrate = 0.0
        if online and len(recent) >= 2:
            span = recent[-1][0] - recent[0][0]
            if span > 0:
                fps = (len(recent) - 1) / span
                bitrate = sum(size for _, size in recent[1:]) * 8 / span / 1000
        return StreamHealth(self.code, online, fps, bitrate, last_at, packets, loops)

    def snapshot_jpeg(self) -> bytes | None:
        """The latest picture as JPEG: decodes the packets since the last keyframe. None
        before the first keyframe has been sent."""
        with self._lock:
            gop, extradata = list(self._gop), self._extradata
        if not gop:
            return None
        decoder = av.CodecContext.create("h264", "r")
        if extradata:
            decoder.extradata = extradata
        latest = None
        for data in gop:
            for frame in decoder.decode(av.Packet(data)):
                latest = frame
        for frame in decoder.decode(None):
            latest = frame
        return jpeg_from_frame(latest) if latest is not None else None

    def _run(self) -> None:
        try:
            self._play()
        except Exception:
            log.exception("simulated camera %s stopped: cannot play %s", self.code, self.path)

    def _play(self) -> None:
        with av.open(str(self.path)) as container:
            stream = container.streams.video[0]
            time_base = stream.time_base
            if stream.codec_context.name != "h264" or time_base is None:
                raise ValueError(f"{self.path} does not hold a timed H.264 stream")
            with self._lock:
                self._extradata = bytes(stream.codec_context.extradata or b"")
            start_pts = stream.start_time or 0
            clock_zero = time.monotonic()
            while not self._stop.is_set():
                played = 0.0
                for packet in container.demux(stream):
                    if packet.pts is None or packet.size == 0:
                        continue  # the empty packet that marks the end of the file
                    position = float((packet.pts - start_pts) * time_base)
                    lateness = time.monotonic() - (clock_zero + position)
                    if lateness > RESYNC_AFTER_SECONDS:
                        clock_zero += lateness
                    elif lateness < 0 and self._stop.wait(-lateness):
                        return
                    self._send(bytes(packet), packet.is_keyframe)
                    played = position + float((packet.duration or 0) * time_base)
                if played == 0.0:
                    raise ValueError(f"{self.path} holds no video packets")
                clock_zero += played
                with self._lock:
                    self._loops += 1
                container.seek(0)

    def _send(self, data: bytes, keyframe: bool) -> None:
        now = time.monotonic()
        with self._lock:
            if keyframe:
                self._gop = []
            if keyframe or self._gop:
                self._gop.append(data)
            self._recent.append((now, len(data)))
            self._forget_before(now - RATE_WINDOW_SECONDS)
            self._packets += 1
            self._last_packet_clock = now
            self._last_packet_at = datetime.now(UTC)

    def _forget_before(self, moment: float) -> None:
        while self._recent and self._recent[0][0] < moment:
            self._recent.popleft()


class CameraSimulator:
    """Runs the simulated cameras and, every ``report_every`` seconds, publishes their health
    on ``bus``. Also the demo's ``SnapshotProvider``."""

    def __init__(
        self,
        cameras: Mapping[str, Path],
        bus: Bus | None = None,
        *,
        report_every: float = 5.0,
    ) -> None:
        self.cameras = {code: SimulatedCamera(code, path) for code, path in cameras.items()}
        self._bus = bus
        self._report_every = report_every
        self._stop = threading.Event()
        self._reporter = threading.Thread(
            target=self._report_loop, name="camera-health", daemon=True
        )

    def __enter__(self) -> CameraSimulator:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        for camera in self.cameras.values():
            camera.start()
        if self._bus is not None:
            self._reporter.start()

    def stop(self) -> None:
        """Stop every camera and the reporter (each wakes at once), then report them offline."""
        self._stop.set()
        for camera in self.cameras.values():
            camera.stop()
        if self._reporter.ident is not None:  # it was started
            self._reporter.join(timeout=5.0)
            self.report_health()

    def health(self) -> list[StreamHealth]:
        return [camera.health() for camera in self.cameras.values()]

    def snapshot_jpeg(self, camera_code: str) -> bytes | None:
        camera = self.cameras.get(camera_code)
        return camera.snapshot_jpeg() if camera is not None else None

    def report_health(self) -> None:
        if self._bus is None:
            return
        for health in self.health():
            publish_health(self._bus, health)

    def _report_loop(self) -> None:
        wait = min(FIRST_REPORT_AFTER_SECONDS, self._report_every)
        while not self._stop.wait(wait):
            try:
                self.report_health()
            except Exception:  # a bad report must not end reporting for every camera
                log.exception("could not publish camera health")
            wait = self._report_every
