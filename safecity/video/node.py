"""The video node: ingest, recording, live view and snapshots for a set of cameras.

One node runs in ``safecity serve``/``safecity demo`` (embedded mode: every active camera).
For each camera it runs an ingest worker whose packets go to the recorder, the live feed and
the snapshot buffer; it publishes each camera's health on the bus every few seconds, indexes
finished segments, applies retention, and follows the registry: cameras added, removed or
pointed at a new URL are picked up within ``reconcile_seconds``. At start it runs recovery, so
a crash costs at most the segment each camera was writing.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Protocol, TextIO

from prometheus_client import Gauge
from sqlalchemy import select

from safecity.bus import Bus
from safecity.city.models import Camera, CameraStatus
from safecity.city.stream_credentials import (
    CredentialKeyring,
    SealedUrlError,
    StoredStream,
    stream_url,
)
from safecity.core.media import LOCK_FILE, MEDIA_MARKER, Sign, mark, unmounted
from safecity.core.periodic import PeriodicWork
from safecity.private_files import make_folders
from safecity.settings import Settings, VideoSettings
from safecity.store.engine import Database
from safecity.video.ingest.health import StreamHealth, publish_health
from safecity.video.ingest.packets import PacketSink
from safecity.video.ingest.worker import IngestOptions, IngestWorker
from safecity.video.live.feed import LiveFeed
from safecity.video.live.snapshots import GopBuffer
from safecity.video.models import RecordedSegment
from safecity.video.recording.recorder import SegmentRecorder, open_segment_file
from safecity.video.recording.recovery import recover_recordings
from safecity.video.recording.retention_keeper import RetentionKeeper
from safecity.video.recording.segment_index import SegmentIndexWriter

log = logging.getLogger(__name__)

HEALTH_EVERY_SECONDS = 2.0
RECONCILE_SECONDS = 30.0

CAMERAS_NOT_RECORDING = Gauge(
    "safecity_cameras_not_recording",
    "Online cameras of this node whose video cannot be written (full or failing media disk)",
)


class VideoNodeError(Exception):
    """The node cannot record into its media folder; the message says why and what to do."""


class NodeBusy(VideoNodeError):
    """Another process holds the media folder."""


class MediaAbsent(VideoNodeError):
    """The media folder is not the one the index describes (an unmounted disk, say)."""


@dataclass(frozen=True)
class CameraSource:
    camera_id: int
    code: str
    url: str
    sub_url: str | None = None
    """The camera's sub-stream (a small picture for analytics), when it has one."""


class StreamWatcher(Protocol):
    """Something above the video layer that watches the cameras' pictures (the analytics).

    For each camera the node ingests it asks for a sink; the sink gets the camera's sub-stream
    when the camera has one (a second connection, nothing else reads it), else the main
    stream's packets alongside the recorder. ``unwatch`` follows the camera's ingest stopping.
    """

    def watch(self, camera: CameraSource) -> PacketSink | None: ...

    def unwatch(self, camera_code: str) -> None: ...

    def figures(self, camera_code: str) -> dict[str, float] | None:
        """What the watcher measured of the camera, for its health (None: not watched)."""
        ...


@dataclass
class CameraPipeline:
    source: CameraSource
    worker: IngestWorker
    snapshots: GopBuffer
    live: LiveFeed
    recorder: SegmentRecorder | None
    sinks: list[PacketSink] = field(default_factory=list)
    sub_worker: IngestWorker | None = None
    """The sub-stream's connection, for a watcher (analytics)."""

    @property
    def workers(self) -> list[IngestWorker]:
        return [self.worker] + ([self.sub_worker] if self.sub_worker is not None else [])

    def health(self) -> StreamHealth:
        ingest = self.worker.health()
        detail = ingest.detail
        recording = False
        recording_error = None
        if self.recorder is not None:
            state = self.recorder.state()
            recording = state.recording
            if state.detail and ingest.online:
                recording_error = state.detail
                detail = f"recording stopped: {state.detail}"
        return StreamHealth(
            camera_code=ingest.camera_code,
            status=ingest.status,
            detail=detail,
            fps=ingest.fps,
            bitrate_kbps=ingest.bitrate_kbps,
            last_packet_at=ingest.last_packet_at,
            connected_since=ingest.connected_since,
            reconnects=ingest.reconnects,
            gaps=ingest.gaps,
            packets=ingest.packets,
            loops=ingest.loops,
            width=ingest.width,
            height=ingest.height,
            codec=ingest.codec,
            recording=recording,
            recording_error=recording_error,
        )


def ingest_options(video: VideoSettings) -> IngestOptions:
    return IngestOptions(
        rtsp_transport=video.rtsp_transport,
        connect_timeout=video.connect_timeout_seconds,
        stall_seconds=video.stall_seconds,
        backoff_initial=video.backoff_initial_seconds,
        backoff_max=video.backoff_max_seconds,
    )


def cameras_to_ingest(
    database: Database, video: VideoSettings, keyring: CredentialKeyring
) -> list[CameraSource]:
    """The cameras to ingest, each with its whole stream URL (its password decrypted). A camera
    whose sealed URL cannot be opened is left out and logged; a missing key stops them all
    (``CredentialKeyError``), said once rather than once per camera."""
    if video.cameras == "none":
        return []
    query = select(
        Camera.id,
        Camera.code,
        Camera.main_stream_url,
        Camera.main_stream_sealed,
        Camera.sub_stream_url,
        Camera.sub_stream_sealed,
    ).order_by(Camera.code)
    if video.cameras == "active":
        query = query.where(Camera.status == CameraStatus.ACTIVE)
    else:
        query = query.where(Camera.code.in_(video.cameras))
    with database.session() as session:
        rows = session.execute(query).all()
    sources: list[CameraSource] = []
    for camera_id, code, shown, sealed, sub_shown, sub_sealed in rows:
        try:
            url = stream_url(StoredStream(shown, sealed), keyring)
            sub_url = (
                stream_url(StoredStream(sub_shown, sub_sealed), keyring) if sub_shown else None
            )
        except SealedUrlError as exc:
            log.error("camera %s: not ingested: %s", code, exc)
            continue
        sources.append(CameraSource(camera_id, code, url, sub_url))
    return sources


class VideoNode:
    """Implements ``SnapshotProvider`` and ``LiveFeeds`` for the API."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        bus: Bus,
        *,
        reconcile_seconds: float = RECONCILE_SECONDS,
        health_every: float = HEALTH_EVERY_SECONDS,
        open_segment_file: Callable[[Path], IO[bytes]] = open_segment_file,
        watchers: Sequence[StreamWatcher] = (),
    ) -> None:
        """``open_segment_file`` is the recorders' way to create a file, the operating
        system's unless a test needs a disk that fills up. ``watchers`` get each camera's
        picture (the analytics)."""
        self._settings = settings
        self._database = database
        self._bus = bus
        self._media_root = settings.media_path
        self._keyring = CredentialKeyring(settings.stream_credentials_key_path)
        self._reconcile_seconds = reconcile_seconds
        self._health_every = health_every
        self._open_segment_file = open_segment_file
        self._watchers = list(watchers)
        self._pipelines: dict[str, CameraPipeline] = {}
        self._lock = threading.Lock()
        self._index = SegmentIndexWriter(database)
        self._retention = RetentionKeeper(database, self._media_root, settings.video)
        self._since_reconcile = 0.0
        self._housekeeping = PeriodicWork(
            "video-node",
            self._keep_house,
            every=health_every,
            log=log,
            failed="video node housekeeping failed",
        )
        self._media_lock: TextIO | None = None

    # -- life ------------------------------------------------------------------------------

    def start(self) -> None:
        """Raises ``NodeBusy`` when another process already records into the media folder."""
        make_folders(self._media_root)
        self._check_media()
        self._lock_media()
        report = recover_recordings(self._database, self._media_root)
        if report.changed:
            log.warning(
                "recovery: %d salvaged, %d discarded, %d indexed, %d missing",
                len(report.salvaged),
                len(report.discarded),
                len(report.indexed),
                len(report.missing),
            )
        self._index.start()
        if self._settings.video.record:
            self._retention.start()
        self.reconcile()
        self._housekeeping.start()

    def stop(self) -> None:
        """Stop every camera (each finishes its segment), then index what was finished."""
        self._housekeeping.stop(timeout=5.0)
        with self._lock:
            pipelines, self._pipelines = list(self._pipelines.values()), {}
        self._stop_pipelines(pipelines)
        self.publish_health(pipelines)
        self._retention.stop()
        self._index.stop()
        if self._media_lock is not None:
            self._media_lock.close()  # releases the flock
            self._media_lock = None

    def _check_media(self) -> None:
        """A media folder is marked when first used. An unmarked one while the index holds
        segments is a mount point without its disk: recording there would hide the archive
        (and retention would forget it), so refuse."""
        problem = unmounted(self._media_root, Sign.MARKER)
        if problem is None:
            return
        with self._database.session() as session:
            indexed = session.scalar(select(RecordedSegment.id).limit(1)) is not None
        if indexed:
            raise MediaAbsent(
                f"{self._media_root} is not the media folder the index describes ({problem}, "
                "while recordings are indexed): is the media disk mounted? If the archive is "
                f"really gone, create {MEDIA_MARKER} in it to start afresh."
            )
        mark(self._media_root)

    def _lock_media(self) -> None:
        """One recording process per media folder: a second one's recovery would take the
        first one's half-written segments for crash leftovers."""
        lock = (self._media_root / LOCK_FILE).open("a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            lock.close()
            raise NodeBusy(
                f"another SafeCity process is recording into {self._media_root}; stop it first "
                "or give this one its own media folder (media.path)"
            ) from exc
        self._media_lock = lock

    # -- what the API uses -------------------------------------------------------------------

    def snapshot_jpeg(self, camera_code: str) -> bytes | None:
        pipeline = self._pipelines.get(camera_code)
        return pipeline.snapshots.snapshot_jpeg() if pipeline is not None else None

    def live_feed(self, camera_code: str) -> LiveFeed | None:
        pipeline = self._pipelines.get(camera_code)
        return pipeline.live if pipeline is not None else None

    def health(self) -> list[StreamHealth]:
        return [pipeline.health() for pipeline in list(self._pipelines.values())]

    @property
    def camera_codes(self) -> list[str]:
        return sorted(self._pipelines)

    # -- keeping in step with the registry ---------------------------------------------------

    def reconcile(self) -> None:
        sources = cameras_to_ingest(self._database, self._settings.video, self._keyring)
        wanted = {source.code: source for source in sources}
        with self._lock:
            gone = [p for code, p in self._pipelines.items() if wanted.get(code) != p.source]
            for pipeline in gone:
                del self._pipelines[pipeline.source.code]
        for pipeline in gone:
            log.info("camera %s: no longer ingested here, or its URL changed", pipeline.source.code)
        self._stop_pipelines(gone)
        for pipeline in gone:
            pipeline.live.end("the camera was reconfigured; reconnect")
        for code, source in wanted.items():
            if code not in self._pipelines:
                self._start_camera(source)

    def _start_camera(self, source: CameraSource) -> None:
        snapshots = GopBuffer()
        live = LiveFeed(source.code)
        recorder = None
        sinks: list[PacketSink] = [snapshots, live]
        if self._settings.video.record:
            recorder = SegmentRecorder(
                source.camera_id,
                source.code,
                self._media_root,
                self._index.add,
                segment_seconds=self._settings.video.segment_seconds,
                open_file=self._open_segment_file,
                guard_media=True,
            )
            sinks.insert(0, recorder)
        options = ingest_options(self._settings.video)
        sub_worker = None
        for watcher in self._watchers:
            try:
                sink = watcher.watch(source)
            except Exception:  # a watcher's failure never costs the camera its recording
                log.exception(
                    "camera %s: its picture cannot be watched; it is recorded", source.code
                )
                continue
            if sink is None:
                continue
            if source.sub_url is None:
                sinks.append(sink)
            else:
                sub_worker = IngestWorker(
                    f"{source.code} (sub-stream)", source.sub_url, [sink], options
                )
        worker = IngestWorker(source.code, source.url, sinks, options)
        pipeline = CameraPipeline(source, worker, snapshots, live, recorder, sinks, sub_worker)
        with self._lock:
            self._pipelines[source.code] = pipeline
        for started in pipeline.workers:
            started.start()

    def _stop_pipelines(self, pipelines: Sequence[CameraPipeline]) -> None:
        """Stop the cameras' connections together (each may wait for its read timeout), then
        tell the watchers."""
        for pipeline in pipelines:
            for worker in pipeline.workers:
                worker.request_stop()
        for pipeline in pipelines:
            for worker in pipeline.workers:
                worker.stop()
            for watcher in self._watchers:
                watcher.unwatch(pipeline.source.code)

    def publish_health(self, pipelines: Sequence[CameraPipeline] | None = None) -> None:
        failing = 0
        for pipeline in pipelines if pipelines is not None else list(self._pipelines.values()):
            health = pipeline.health()
            for watcher in self._watchers:
                figures = watcher.figures(pipeline.source.code)
                if figures is not None:
                    health = replace(health, analytics=figures)
            failing += health.recording_error is not None
            publish_health(self._bus, health)
        CAMERAS_NOT_RECORDING.set(failing)

    def health_problems(self) -> list[str]:
        """What keeps this node from keeping the city's video, in a few words without paths or
        camera names (``/api/health`` shows them to anybody; the log and the cameras' health
        say which and why): cameras whose recording fails, retention that refuses to run."""
        with self._lock:
            pipelines = list(self._pipelines.values())
        failing = sum(pipeline.health().recording_error is not None for pipeline in pipelines)
        problems = []
        if failing:
            problems.append(f"recording fails on {failing} of {len(pipelines)} camera(s)")
        refusal = self._retention.refusal
        if refusal is not None:
            problems.append(f"retention refused: {refusal.summary}")
        return problems

    def _keep_house(self) -> None:
        """Every ``health_every`` seconds: publish each camera's health, and now and then
        bring the cameras in line with the registry."""
        self.publish_health()
        self._since_reconcile += self._health_every
        if self._since_reconcile >= self._reconcile_seconds:
            self._since_reconcile = 0.0
            self.reconcile()
