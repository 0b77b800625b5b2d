"""What the video side stores: recorded segments, stream state, legal holds, purges, evidence.

Segment files live on disk under the media folder; a ``RecordedSegment`` row is their index
(camera, time range, size, SHA-256, keyframe offsets). Rows and files are kept in step by the
recorder and by start-up recovery (``safecity.video.recording.recovery``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from safecity.city.models import Camera
from safecity.core.clock import utcnow
from safecity.store.base import Base, UTCDateTime, str_enum


class StreamStatus(enum.StrEnum):
    """What ingest last knew about a camera's stream, in words an operator can act on."""

    CONNECTING = "connecting"
    ONLINE = "online"
    STALLED = "stalled"
    """Connected, but no packet came for longer than the stall timeout."""
    UNREACHABLE = "unreachable"
    """Refused, timed out or unknown host: the camera or the network is down."""
    UNAUTHORIZED = "unauthorized"
    """The camera refused the credentials in the stream URL."""
    NOT_FOUND = "not_found"
    """The camera answered, but has no stream at that path."""
    CORRUPT = "corrupt"
    """The stream sends data that does not decode as video."""
    UNSUPPORTED = "unsupported"
    """A stream without H.264/H.265 video: SafeCity records without transcoding."""
    OFFLINE = "offline"
    """The stream ended or broke; reconnecting."""
    STOPPED = "stopped"
    """Not being ingested (the worker was stopped)."""


class HoldKind(enum.StrEnum):
    INCIDENT = "incident"
    EVIDENCE = "evidence"
    MANUAL = "manual"


class PurgeReason(enum.StrEnum):
    AGE = "age"
    """Older than the camera's (or its site's, or the global) retention in days."""
    CAMERA_QUOTA = "camera_quota"
    """The camera's recordings were over their byte quota; the oldest went first."""
    DISK_FLOOR = "disk_floor"
    """The disk was under the free-space floor; the oldest recordings city-wide went first."""
    MISSING_FILE = "missing_file"
    """The index named a file that was no longer on disk (found by recovery)."""


class RecordedSegment(Base):
    """One segment file: a few seconds of one camera's stream, stored as received."""

    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_camera_id_started_at", "camera_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="RESTRICT"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    path: Mapped[str] = mapped_column(
        String(500), unique=True, doc="Relative to the media folder, '/'-separated."
    )
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    codec: Mapped[str] = mapped_column(String(64), doc="RFC 6381 codec string, e.g. avc1.64001f")
    time_scale: Mapped[int] = mapped_column(Integer)
    init_bytes: Mapped[int] = mapped_column(Integer, doc="Size of ftyp+moov at the file's start.")
    packets: Mapped[int] = mapped_column(Integer)
    keyframes: Mapped[list[list[int]]] = mapped_column(
        JSON, doc="[milliseconds from start, byte offset of its fragment] per keyframe"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    camera: Mapped[Camera] = relationship()

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


class CameraStream(Base):
    """The latest measured state of a camera's stream (one row per camera)."""

    __tablename__ = "camera_streams"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[StreamStatus] = mapped_column(str_enum(StreamStatus, "stream_status"))
    detail: Mapped[str | None] = mapped_column(Text, doc="The last error, in plain words.")
    fps: Mapped[float] = mapped_column(Float, default=0.0)
    bitrate_kbps: Mapped[float] = mapped_column(Float, default=0.0)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    codec: Mapped[str | None] = mapped_column(String(64))
    last_packet_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reconnects: Mapped[int] = mapped_column(Integer, default=0)
    gaps: Mapped[int] = mapped_column(Integer, default=0, doc="Breaks in the recording.")
    recording: Mapped[bool] = mapped_column(default=False)
    analytics: Mapped[dict[str, float] | None] = mapped_column(
        JSON, doc="What the camera's analytics last measured; null: not analysed."
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LegalHold(Base):
    """A stretch of a camera's recordings that retention must not delete until released."""

    __tablename__ = "legal_holds"
    __table_args__ = (Index("ix_legal_holds_camera_id_starts_at", "camera_id", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[HoldKind] = mapped_column(str_enum(HoldKind, "hold_kind"))
    reason: Mapped[str] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(
        String(100), doc="The incident number or evidence export that asked for it."
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    release_reason: Mapped[str | None] = mapped_column(
        Text, doc="Why the recordings may go (empty only for holds released before 0011)."
    )


class RecordingPurge(Base):
    """One retention decision carried out: which camera lost how much, of when, and why."""

    __tablename__ = "recording_purges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"), index=True)
    reason: Mapped[PurgeReason] = mapped_column(str_enum(PurgeReason, "purge_reason"))
    segments: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(BigInteger)
    oldest_at: Mapped[datetime] = mapped_column(UTCDateTime)
    newest_at: Mapped[datetime] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class EvidenceExport(Base):
    """Every evidence package made: who took which video, why and when."""

    __tablename__ = "evidence_exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    package_id: Mapped[str] = mapped_column(String(64), unique=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    exported_by: Mapped[str] = mapped_column(String(200), doc="User name, or 'cli:<os user>'.")
    exported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    exported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    path: Mapped[str] = mapped_column(Text)
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(BigInteger)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("legal_holds.id", ondelete="SET NULL"))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
