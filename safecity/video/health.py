"""Camera health on the bus, and the recorder that keeps the registry in step with it.

Whatever watches a stream (the demo's simulator today, ingest workers tomorrow, on this node or
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

from sqlalchemy import bindparam, func, update

from safecity.bus import Bus, Message, Subscription
from safecity.city.models import Camera, CameraHealth
from safecity.store.base import UTCDateTime
from safecity.store.engine import Database

log = logging.getLogger(__name__)

HEALTH_PATTERN = "cameras/+/health"


def health_topic(camera_code: str) -> str:
    return f"cameras/{camera_code}/health"


@dataclass(frozen=True)
class StreamHealth:
    camera_code: str
    online: bool
    fps: float
    bitrate_kbps: float
    last_packet_at: datetime | None
    packets: int
    loops: int
    """How many times a looping source has played to its end (0 for a live camera)."""

    def to_payload(self) -> dict[str, Any]:
        return {
            "camera": self.camera_code,
            "online": self.online,
            "fps": round(self.fps, 2),
            "bitrate_kbps": round(self.bitrate_kbps, 1),
            "last_packet_at": self.last_packet_at.isoformat() if self.last_packet_at else None,
            "packets": self.packets,
            "loops": self.loops,
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> StreamHealth:
        """Raises KeyError/ValueError/TypeError on a malformed payload."""
        last = payload["last_packet_at"]
        last_packet_at = datetime.fromisoformat(last) if last is not None else None
        if last_packet_at is not None and last_packet_at.tzinfo is None:
            raise ValueError("last_packet_at has no time zone")
        return cls(
            camera_code=str(payload["camera"]),
            online=bool(payload["online"]),
            fps=float(payload["fps"]),
            bitrate_kbps=float(payload["bitrate_kbps"]),
            last_packet_at=last_packet_at,
            packets=int(payload["packets"]),
            loops=int(payload["loops"]),
        )


def publish_health(bus: Bus, health: StreamHealth) -> None:
    bus.publish(health_topic(health.camera_code), health.to_payload())


class CameraHealthRecorder:
    """Writes each camera's latest reported health and last-seen time to the registry every
    ``flush_every`` seconds. A camera's ``updated_at`` is left alone: a measurement is not an
    edit of the registry."""

    def __init__(self, bus: Bus, database: Database, *, flush_every: float = 2.0) -> None:
        self._bus = bus
        self._database = database
        self._flush_every = flush_every
        self._pending: dict[str, StreamHealth] = {}
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._stop = threading.Event()
        self._subscription: Subscription | None = None
        self._flusher = threading.Thread(
            target=self._flush_loop, name="health-recorder", daemon=True
        )

    def start(self) -> None:
        self._subscription = self._bus.subscribe(HEALTH_PATTERN, self._on_report)
        self._flusher.start()

    def stop(self) -> None:
        """Take in every report already published, write them, and stop."""
        if self._subscription is not None:
            self._subscription.close()
        self._stop.set()
        if self._flusher.ident is not None:
            self._flusher.join(timeout=5.0)
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
        except Exception:
            with self._lock:  # keep them for the next try, unless newer ones came meanwhile
                for report in reports:
                    self._pending.setdefault(report.camera_code, report)
            raise
        return len(rows)

    def _flush_loop(self) -> None:
        while not self._stop.wait(self._flush_every):
            try:
                self.flush()
            except Exception:
                log.exception(
                    "could not write camera health; trying again in %.0f s", self._flush_every
                )
