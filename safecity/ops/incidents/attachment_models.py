"""What an incident carries besides its history: uploaded files and links to recorded video.

Neither is ever deleted: removing an attachment or unlinking a clip stamps who did it, when
and why, so the incident's record shows everything it ever held.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from safecity.core.clock import utcnow
from safecity.store.base import Base, UTCDateTime


class IncidentAttachment(Base):
    """A file attached to an incident: a photo, a written statement, a document, a video."""

    __tablename__ = "incident_attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="RESTRICT"), index=True
    )
    file_name: Mapped[str] = mapped_column(
        String(64),
        unique=True,
        doc="Name in the media folder (attachments/<incident id>/<this>): a random UUID, never "
        "anything the uploader chose.",
    )
    name: Mapped[str] = mapped_column(
        String(255), doc="The uploader's file name, cleaned; shown and offered on download."
    )
    media_type: Mapped[str] = mapped_column(String(100), doc="Found from the content itself.")
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), doc="Of the stored bytes, taken on upload.")
    description: Mapped[str | None] = mapped_column(Text)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    deleted_by: Mapped[str | None] = mapped_column(String(200))
    deletion_reason: Mapped[str | None] = mapped_column(Text)


class IncidentClip(Base):
    """A stretch of one camera's recordings that matters to an incident. Linking places a
    legal hold on it, so retention keeps the video as long as the link needs it."""

    __tablename__ = "incident_clips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="RESTRICT"), index=True
    )
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    hold_id: Mapped[int] = mapped_column(
        ForeignKey("legal_holds.id", ondelete="RESTRICT"), unique=True
    )
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    linked_by: Mapped[str] = mapped_column(String(200))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    unlinked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unlinked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    unlinked_by: Mapped[str | None] = mapped_column(String(200))
    unlink_reason: Mapped[str | None] = mapped_column(Text)
