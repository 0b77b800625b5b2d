"""A camera's findings made durable and sent on: snapshot file, event row, bus message.

For each finding, in this order: the snapshot is written under the media folder
(``snapshots/<camera>/<YYYY-MM-DD>/<HHMMSS-mmm>-<kind>.jpg``, the object's box drawn on it),
the event is stored (searchable, with its clip range over the recordings), and then published
on ``analytics/events/<camera>`` — the contract the OCC's alert intake reads
(``safecity.ops.alerts.analytics``), with the stored event's id in its details so the alert
links back to its snapshot and clip. A cleared tamper check is stored but not published: the
picture recovering does not page anyone, as a camera coming back online does not.

A snapshot that cannot be written (a full disk) costs the snapshot, not the event; an event
that cannot be stored is still published, so the OCC hears of it, and the failure is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
from prometheus_client import Counter

from safecity.analytics.event_store import EventError, record_event
from safecity.analytics.findings import Finding
from safecity.analytics.frames import Image
from safecity.analytics.rule_store import rule_id_for
from safecity.bus import Bus
from safecity.core.media import SNAPSHOTS_FOLDER
from safecity.private_files import make_folders, write_replacing
from safecity.store.engine import Database

log = logging.getLogger(__name__)

EVENTS_TOPIC_PREFIX = "analytics/events/"
"""The OCC's intake reads ``analytics/events/<camera code>`` (ops/alerts/analytics.py)."""

FINDINGS = Counter(
    "safecity_analytics_findings_total",
    "Rules fired and tamper checks raised or cleared, by kind",
    ["kind"],
)
SNAPSHOT_QUALITY = 85


@dataclass(frozen=True)
class CameraRef:
    camera_id: int
    code: str


@dataclass(frozen=True)
class ClipMargins:
    before: float = 5.0
    after: float = 10.0


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def snapshot_name(code: str, finding: Finding) -> str:
    """The snapshot's path relative to the media folder."""
    at = _utc(finding.at)
    track = f"-{finding.track_id}" if finding.track_id is not None else ""
    return (
        f"{SNAPSHOTS_FOLDER}/{code}/{at:%Y-%m-%d}/"
        f"{at:%H%M%S}-{at.microsecond // 1000:03d}-{finding.alert_kind}{track}.jpg"
    )


def snapshot_jpeg(image: Image, finding: Finding) -> bytes:
    """The picture with the finding's boxes drawn, as JPEG."""
    picture = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    thickness = max(2, picture.shape[1] // 320)
    boxes = finding.snapshot_boxes if finding.snapshot_boxes is not None else finding.boxes
    for box in boxes:
        cv2.rectangle(
            picture,
            (int(box.x1), int(box.y1)),
            (int(box.x2), int(box.y2)),
            (0, 200, 255),
            thickness,
        )
    ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY])
    if not ok:
        raise ValueError("the snapshot could not be encoded as JPEG")
    return bytes(encoded)


class Publisher:
    """Stores and sends one camera's findings (called on the camera's watch thread)."""

    def __init__(
        self,
        camera: CameraRef,
        database: Database,
        bus: Bus,
        media_root: Path,
        margins: ClipMargins = ClipMargins(),
    ) -> None:
        self._camera = camera
        self._database = database
        self._bus = bus
        self._media_root = media_root
        self._margins = margins

    def publish(self, finding: Finding) -> int | None:
        """Store and send ``finding``; the stored event's id (None when it could not be
        stored)."""
        FINDINGS.labels(finding.alert_kind + ("_cleared" if finding.cleared else "")).inc()
        snapshot = self._write_snapshot(finding)
        event_id = self._store(finding, snapshot)
        if not finding.cleared:
            self._bus.publish(
                EVENTS_TOPIC_PREFIX + self._camera.code, self._message(finding, snapshot, event_id)
            )
        return event_id

    def _write_snapshot(self, finding: Finding) -> str | None:
        if finding.snapshot is None:
            return None
        relative = snapshot_name(self._camera.code, finding)
        path = self._media_root / relative
        try:
            data = snapshot_jpeg(finding.snapshot, finding)
            make_folders(path.parent)
            write_replacing(path, data, private=True)  # pictures of people: the owner's only
        except (OSError, ValueError) as exc:
            log.warning(
                "camera %s: the %s snapshot could not be written (%s); the event goes on "
                "without it",
                self._camera.code,
                finding.alert_kind,
                exc,
            )
            return None
        return relative

    def _clip(self, finding: Finding) -> tuple[datetime, datetime]:
        start = _utc(finding.started_at) - timedelta(seconds=self._margins.before)
        end = _utc(finding.at) + timedelta(seconds=self._margins.after)
        return start, end

    def _store(self, finding: Finding, snapshot: str | None) -> int | None:
        clip_start, clip_end = self._clip(finding)
        details = dict(finding.details)
        if finding.cleared:
            details["cleared"] = True
        try:
            with self._database.session() as session:
                event = record_event(
                    session,
                    camera_id=self._camera.camera_id,
                    at=_utc(finding.at),
                    started_at=_utc(finding.started_at),
                    rule_name=finding.rule_name,
                    kind=finding.rule_kind,
                    confidence=finding.confidence,
                    boxes=finding.boxes,
                    frame_size=finding.frame_size,
                    clip_start=clip_start,
                    clip_end=clip_end,
                    rule_id=rule_id_for(session, self._camera.camera_id, finding.rule_name),
                    object_class=finding.object_class,
                    track_id=finding.track_id,
                    snapshot=snapshot,
                    details=details,
                )
                return event.id
        except EventError as exc:
            log.error(
                "camera %s: the %s event is not stored: %s",
                self._camera.code,
                finding.alert_kind,
                exc,
            )
        except Exception:
            log.exception(
                "camera %s: the %s event could not be stored; the OCC is told all the same",
                self._camera.code,
                finding.alert_kind,
            )
        return None

    def _message(
        self, finding: Finding, snapshot: str | None, event_id: int | None
    ) -> dict[str, object]:
        clip_start, clip_end = self._clip(finding)
        details: dict[str, object] = {
            **finding.details,
            "event_id": event_id,
            "rule": finding.rule_name,
            "object_class": None if finding.object_class is None else finding.object_class.value,
            "track": finding.track_id,
            "boxes": [box.as_list() for box in finding.boxes],
            "frame_size": list(finding.frame_size),
            "clip": {"start": clip_start.isoformat(), "end": clip_end.isoformat()},
        }
        message: dict[str, object] = {
            "kind": finding.alert_kind,
            "confidence": round(min(1.0, max(0.0, finding.confidence)), 3),
            "at": _utc(finding.at).isoformat(),
            "zone": finding.rule_name,
            "details": details,
        }
        if snapshot is not None:
            message["snapshot"] = snapshot
        return message
