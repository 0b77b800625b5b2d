"""The analytics of a video node's cameras: a watcher the video node hands each camera to.

For each camera the node ingests (and ``analytics.cameras`` selects) it runs a
:class:`CameraWatch` on the camera's sub-stream, or its main stream scaled, with the camera's
rules as stored (its own and its site's). One detector serves all of the node's cameras
(``SharedDetector``: a bounded queue, batches where the model allows). Every
``rules_refresh_seconds`` the rules are read again — an edit in the console reaches the camera
within that time, without a restart — and the counts of finished bins are stored.

A detector whose model is not fetched yet does not stop the node: it records and watches for
motion and tamper, says so once in the log, and tries again at each refresh.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from prometheus_client import Counter, Gauge

from safecity.analytics.analysis import CameraAnalytics
from safecity.analytics.assets.errors import AssetError
from safecity.analytics.counting import CountRow
from safecity.analytics.counts import CountError, add_counts
from safecity.analytics.counts import CountRow as StoredCountRow
from safecity.analytics.detectors.base import Detector
from safecity.analytics.detectors.shared import SharedDetector
from safecity.analytics.frames import Frame
from safecity.analytics.publishing import CameraRef, ClipMargins, Publisher
from safecity.analytics.retention import Purged, purge
from safecity.analytics.rule_store import rules_for_camera
from safecity.analytics.rules.definitions import CameraRules
from safecity.analytics.setup import build_configured_detector, decode_options
from safecity.analytics.watch import CameraWatch, WatchOptions
from safecity.bus import Bus
from safecity.core.clock import utcnow
from safecity.core.periodic import PeriodicWork
from safecity.settings import Settings
from safecity.store.engine import Database
from safecity.video.ingest.packets import PacketSink
from safecity.video.node import CameraSource

log = logging.getLogger(__name__)

RETENTION_EVERY_SECONDS = 3600.0
RETENTION_BATCH = 1000

FIGURES = Gauge(
    "safecity_analytics_camera",
    "What each analysed camera's analytics measures (streaming, decode_fps, analysed_fps, "
    "skipped_fps, detector_ms, detector_share, motion_share, regions)",
    ["camera", "figure"],
)
SKIPPED = Counter(
    "safecity_analytics_skipped_frames_total",
    "Frames let go because the analysis was behind, per camera",
    ["camera"],
)


@dataclass
class _Camera:
    source: CameraSource
    watch: CameraWatch
    analytics: CameraAnalytics
    publisher: Publisher
    new_rules: CameraRules | None = None
    """Rules read since the last frame; the watch's thread takes them up (and only it touches
    ``analytics``)."""
    new_detector: bool = False
    """The detector's model arrived: the watch's thread takes it up."""
    counts: list[CountRow] = field(default_factory=list)
    """Finished count bins not stored yet: added by the watch's thread, taken by the refresh
    (both under ``lock``)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    skipped_seen: int = 0

    def add_counts(self, rows: list[CountRow]) -> None:
        if rows:
            with self.lock:
                self.counts += rows


class AnalyticsNode:
    """Implements the video node's ``StreamWatcher``."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        bus: Bus,
        *,
        detector: Detector | None = None,
    ) -> None:
        """``detector``: the one to use instead of the settings' (tests, benches)."""
        self._settings = settings
        self._analytics = settings.analytics
        self._database = database
        self._bus = bus
        self._given_detector = detector
        self._detector: SharedDetector | None = None
        self._missing_model: str | None = None
        self._cameras: dict[str, _Camera] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._retention = PeriodicWork(
            "analytics-retention",
            self.purge,
            every=RETENTION_EVERY_SECONDS,
            first=60.0,
            log=log,
            failed="could not delete old analytics events and snapshots",
        )
        self._refresh = PeriodicWork(
            "analytics-rules",
            self.refresh,
            every=self._analytics.rules_refresh_seconds,
            log=log,
            failed="could not refresh the cameras' analytics rules",
        )

    # -- life --------------------------------------------------------------------------------

    def start(self) -> None:
        self._stopping.clear()
        self._start_detector()
        self._refresh.start()
        self._retention.start()

    def stop(self) -> None:
        self._stopping.set()
        self._retention.stop(timeout=10.0)
        self._refresh.stop(timeout=10.0)
        with self._lock:
            codes = list(self._cameras)
        for code in codes:
            self.unwatch(code)
        if self._detector is not None:
            self._detector.stop()
            self._detector = None

    def _start_detector(self) -> None:
        try:
            detector = self._given_detector or build_configured_detector(self._analytics)
        except AssetError as exc:
            if self._missing_model is None:
                log.error(
                    "analytics: no object detection until the model is fetched (%s); the "
                    "cameras are watched for motion and tamper meanwhile",
                    exc,
                )
            self._missing_model = str(exc)
            return
        if detector is None:
            return
        shared = SharedDetector(detector, max_batch=self._analytics.detector.max_batch)
        shared.start()
        self._detector = shared
        if self._missing_model is not None:
            log.warning("analytics: the detector model is there now; objects are detected")
            self._missing_model = None

    # -- StreamWatcher -----------------------------------------------------------------------

    def watch(self, camera: CameraSource) -> PacketSink | None:
        chosen = self._analytics.cameras
        if chosen == "none" or (isinstance(chosen, list) and camera.code not in chosen):
            return None
        with self._database.session() as session:
            rules = rules_for_camera(session, camera.camera_id)
        publisher = Publisher(
            CameraRef(camera.camera_id, camera.code),
            self._database,
            self._bus,
            self._settings.media_path,
            ClipMargins(self._analytics.clip_before_seconds, self._analytics.clip_after_seconds),
        )
        holder: list[_Camera] = []
        watch = CameraWatch(
            camera.code,
            lambda frame: self._analyse(holder[0], frame),
            WatchOptions(
                decode=decode_options(self._analytics),
                max_lag_seconds=self._analytics.max_lag_seconds,
            ),
        )
        state = _Camera(camera, watch, self._camera_analytics(rules), publisher)
        holder.append(state)
        with self._lock:
            previous = self._cameras.pop(camera.code, None)
            self._cameras[camera.code] = state
        if previous is not None:
            self._end(previous)
            self._store_counts([previous])
        watch.start()
        return watch

    def unwatch(self, camera_code: str) -> None:
        with self._lock:
            state = self._cameras.pop(camera_code, None)
        if state is not None:
            self._end(state)
            self._store_counts([state])

    def figures(self, camera_code: str) -> dict[str, float] | None:
        state = self._cameras.get(camera_code)
        if state is None:
            return None
        watched = state.watch.figures()
        figures = {
            "streaming": 1.0 if watched.streaming else 0.0,
            "decode_fps": watched.decode_fps,
            "analysed_fps": watched.analysed_fps,
            "skipped_fps": watched.skipped_fps,
            **state.analytics.figures(),
        }
        for name, value in figures.items():
            FIGURES.labels(camera_code, name).set(value)
        SKIPPED.labels(camera_code).inc(watched.skipped - state.skipped_seen)
        state.skipped_seen = watched.skipped
        return figures

    def health_problems(self) -> list[str]:
        """For ``/api/health``: object detection off for want of its model."""
        if self._missing_model is None:
            return []
        return ["object detection off: the detector model is not fetched (safecity models fetch)"]

    # -- the watch's thread ------------------------------------------------------------------

    def _camera_analytics(self, rules: CameraRules) -> CameraAnalytics:
        return CameraAnalytics(rules, self._detector, self._settings.zone)

    def _analyse(self, state: _Camera, frame: Frame) -> None:
        if state.new_rules is not None:
            rules, state.new_rules = state.new_rules, None
            state.add_counts(state.analytics.use_rules(rules))
        if state.new_detector:
            state.new_detector = False
            state.analytics.use_detector(self._detector)
        result = state.analytics.analyse(frame)
        state.add_counts(result.counts)
        for finding in result.findings:
            state.publisher.publish(finding)

    def _end(self, state: _Camera) -> None:
        state.watch.stop()
        state.add_counts(state.analytics.finish().counts)

    # -- every rules_refresh_seconds ---------------------------------------------------------

    def refresh(self) -> None:
        """Read the watched cameras' rules again (a change reaches each camera at its next
        frame), store the counts of finished bins, and retry a missing detector model."""
        if self._missing_model is not None and self._detector is None:
            self._start_detector()
            if self._detector is not None:  # every camera takes it up at its next frame
                for state in list(self._cameras.values()):
                    state.new_detector = True
        with self._lock:
            states = list(self._cameras.values())
        for state in states:
            try:
                with self._database.session() as session:
                    rules = rules_for_camera(session, state.source.camera_id)
            except Exception:  # one camera's rules unreadable: the others go on
                log.exception("camera %s: could not read its analytics rules", state.source.code)
                continue
            changed = rules != state.analytics.rules
            if changed:
                log.info("camera %s: analytics rules changed", state.source.code)
            state.new_rules = rules if changed else None
        self._store_counts(states)

    def purge(self) -> Purged:
        """Delete the events and snapshots past their time (``snapshot_days``,
        ``events_days``), a batch per transaction until none is left (or the node stops)."""
        snapshots = events = 0
        while True:
            with self._database.session() as session:
                purged = purge(
                    session,
                    self._settings.media_path,
                    now=utcnow(),
                    snapshot_days=self._analytics.snapshot_days,
                    events_days=self._analytics.events_days,
                    batch=RETENTION_BATCH,
                )
            snapshots += purged.snapshots
            events += purged.events
            done = max(purged.snapshots, purged.events) < RETENTION_BATCH
            if done or self._stopping.is_set():
                break
        if snapshots or events:
            log.info("analytics retention: %d snapshots and %d events deleted", snapshots, events)
        return Purged(snapshots, events)

    def _store_counts(self, states: list[_Camera]) -> None:
        """Store the finished count bins of ``states``, one transaction per camera: rows that
        cannot be stored for a passing reason wait for the next refresh; rows that make no
        sense (``CountError``) are logged and let go, never retried forever."""
        for state in states:
            with state.lock:
                taken = list(state.counts)
            if not taken:
                continue
            try:
                with self._database.session() as session:
                    add_counts(session, [_stored(state.source.camera_id, row) for row in taken])
            except CountError as exc:
                log.error("camera %s: %d count rows let go: %s", state.source.code, len(taken), exc)
            except Exception:
                log.exception(
                    "camera %s: could not store %d count rows; they wait for the next try",
                    state.source.code,
                    len(taken),
                )
                continue
            with state.lock:
                del state.counts[: len(taken)]


def _stored(camera_id: int, row: CountRow) -> StoredCountRow:
    return StoredCountRow(
        camera_id=camera_id,
        bin_start=row.bin_start,
        object_class=row.object_class,
        count=row.count,
        scope=row.scope,
        scope_name=row.scope_name,
        direction=row.direction,
    )
