"""Camera health on the bus, and the recorder that keeps the registry in step with it.

Whatever watches a stream (the video node's ingest workers, on this node or
over MQTT) publishes a ``StreamHealth`` on ``cameras/<code>/health``. ``CameraHealthRecorder``
listens and writes the latest state of each camera to the registry, many cameras per
transaction, so 1,000+ cameras reporting every few seconds cost a handful of commits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from safecity.bus import Bus, Message, Subscription
from safecity.city.models import Camera, CameraHealth
from safecity.core.clock import utcnow
from safecity.core.periodic import PeriodicWork
from safecity.store.base import UTCDateTime
from safecity.store.engine import Database
from safecity.video.models import CameraStream, StreamStatus

log = logging.getLogger(__name__)

HEALTH_PATTERN = "cameras/+/health"


def health_topic(camera_code: str) -> str:
    return f"cameras/{camera_code}/health"


@dataclass(frozen=True)
class StreamHealth:
    """A camera's stream as its ingest worker and recorder see it right now."""

    camera_code: str
    status: StreamStatus
    detail: str | None
    fps: float
    bitrate_kbps: float
    last_packet_at: datetime | None
    connected_since: datetime | None = None
    reconnects: int = 0
    gaps: int = 0
    packets: int = 0
    loops: int = 0
    """How many times a looping source has played to its end (0 for a live camera)."""
    width: int | None = None
    height: int | None = None
    codec: str | None = None
    recording: bool = False
    recording_error: str | None = None
    """Why the recorder cannot write this online camera's video (a full or failing media
    disk), or None: recording works, is off, or the camera is not online."""
    analytics: dict[str, float] | None = None
    """What the camera's analytics measured (decode_fps, analysed_fps, skipped_fps,
    detector_ms, motion_share…); None where it is not analysed."""

    @property
    def online(self) -> bool:
        return self.status is StreamStatus.ONLINE

    def to_payload(self) -> dict[str, Any]:
        return {
            "camera": self.camera_code,
            "status": self.status.value,
            "detail": self.detail,
            "fps": round(self.fps, 2),
            "bitrate_kbps": round(self.bitrate_kbps, 1),
            "last_packet_at": _iso(self.last_packet_at),
            "connected_since": _iso(self.connected_since),
            "reconnects": self.reconnects,
            "gaps": self.gaps,
            "packets": self.packets,
            "loops": self.loops,
            "width": self.width,
            "height": self.height,
            "codec": self.codec,
            "recording": self.recording,
            "recording_error": self.recording_error,
            "analytics": self.analytics,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> StreamHealth:
        """Raises KeyError/ValueError/TypeError on a malformed payload."""
        detail = payload.get("detail")
        return cls(
            camera_code=str(payload["camera"]),
            status=StreamStatus(payload["status"]),
            detail=str(detail)[:500] if detail is not None else None,
            fps=float(payload["fps"]),
            bitrate_kbps=float(payload["bitrate_kbps"]),
            last_packet_at=_aware(payload.get("last_packet_at")),
            connected_since=_aware(payload.get("connected_since")),
            reconnects=int(payload.get("reconnects", 0)),
            gaps=int(payload.get("gaps", 0)),
            packets=int(payload.get("packets", 0)),
            loops=int(payload.get("loops", 0)),
            width=_optional_int(payload.get("width")),
            height=_optional_int(payload.get("height")),
            codec=str(payload["codec"])[:64] if payload.get("codec") else None,
            recording=bool(payload.get("recording", False)),
            recording_error=_optional_text(payload.get("recording_error")),
            analytics=_figures(payload.get("analytics")),
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _aware(text: Any) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        raise ValueError("timestamp has no time zone")
    return moment


def _optional_text(value: Any) -> str | None:
    return str(value)[:500] if value is not None else None


def _figures(value: Any) -> dict[str, float] | None:
    """A mapping of a few named figures, or None; anything else is malformed."""
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > 32:
        raise ValueError("analytics figures are a mapping of at most 32 numbers")
    return {str(name)[:64]: float(number) for name, number in value.items()}


def _optional_int(value: Any) -> int | None:
    return int(value) if value is not None else None


def publish_health(bus: Bus, health: StreamHealth) -> None:
    bus.publish(health_topic(health.camera_code), health.to_payload())


class CameraHealthRecorder:
    """Writes each camera's latest reported health and last-seen time to the registry every
    ``flush_every`` seconds. A camera's ``updated_at`` is left alone: a measurement is not an
    edit of the registry."""

    def __init__(self, bus: Bus, database: Database, *, flush_every: float = 2.0) -> None:
        self._bus = bus
        self._database = database
        self._pending: dict[str, StreamHealth] = {}
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._subscription: Subscription | None = None
        self._flusher = PeriodicWork(
            "health-recorder",
            self.flush,
            every=flush_every,
            log=log,
            failed="could not write camera health",
        )

    def start(self) -> None:
        self._subscription = self._bus.subscribe(HEALTH_PATTERN, self._on_report)
        self._flusher.start()

    def stop(self) -> None:
        """Take in every report already published, write them, and stop."""
        if self._subscription is not None:
            self._subscription.close()
        self._flusher.stop(timeout=5.0)
        self.flush()

    def _on_report(self, message: Message) -> None:
        try:
            health = StreamHealth.from_payload(message.payload)
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("ignoring malformed health report on %s: %r", message.topic, exc)
            return
        with self._lock:
            self._pending[health.camera_code] = health

    def flush(self) -> int:
        """Write what was reported since the last flush; returns how many cameras."""
        with self._flushing:  # one batch at a time, so an older one never lands after a newer
            return self._flush()

    def _flush(self) -> int:
        with self._lock:
            reports, self._pending = list(self._pending.values()), {}
        if not reports:
            return 0
        rows = [
            {
                "camera_code": report.camera_code,
                "new_health": CameraHealth.ONLINE if report.online else CameraHealth.OFFLINE,
                "seen": report.last_packet_at,
            }
            for report in reports
        ]
        statement = (
            update(Camera)
            .where(Camera.code == bindparam("camera_code"))
            .values(
                health=bindparam("new_health", type_=Camera.__table__.c.health.type),
                last_seen_at=func.coalesce(
                    bindparam("seen", type_=UTCDateTime()), Camera.last_seen_at
                ),
                updated_at=Camera.updated_at,
            )
        )
        try:
            with self._database.engine.begin() as connection:
                connection.execute(statement, rows)
                _store_stream_states(connection, reports)
        except Exception:
            with self._lock:  # keep them for the next try, unless newer ones came meanwhile
                for report in reports:
                    self._pending.setdefault(report.camera_code, report)
            raise
        return len(rows)


def _store_stream_states(connection: Connection, reports: list[StreamHealth]) -> None:
    """Upsert each camera's ``camera_streams`` row (one row per camera, latest state)."""
    codes = [report.camera_code for report in reports]
    ids = {
        code: camera_id
        for code, camera_id in connection.execute(
            select(Camera.code, Camera.id).where(Camera.code.in_(codes))
        )
    }
    now = utcnow()
    rows = [
        {
            "camera_id": ids[report.camera_code],
            "status": report.status,
            "detail": report.detail,
            "fps": report.fps,
            "bitrate_kbps": report.bitrate_kbps,
            "width": report.width,
            "height": report.height,
            "codec": report.codec,
            "last_packet_at": report.last_packet_at,
            "connected_since": report.connected_since,
            "reconnects": report.reconnects,
            "gaps": report.gaps,
            "recording": report.recording,
            "analytics": report.analytics,
            "updated_at": now,
        }
        for report in reports
        if report.camera_code in ids
    ]
    if not rows:
        return
    upsert = sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert
    statement = upsert(CameraStream)
    columns = [name for name in rows[0] if name != "camera_id"]
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["camera_id"],
            set_={name: statement.excluded[name] for name in columns},
        ),
        rows,
    )
