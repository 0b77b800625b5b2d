"""Files attached to incidents: what is accepted, how it is stored, and who may remove it.

An upload is written as it arrives to ``<media>/attachments/<incident id>/<uuid>.partial``,
its SHA-256 and size taken on the way, and renamed to ``<uuid>`` only once it is complete and
its row is written: a file under its final name is always whole. The uploader's file name is
kept only as a label (cleaned), never used in a path.

The type comes from the content, never from what the client claims: JPEG, PNG, PDF and MP4 by
their signatures, plain text by being UTF-8 without control characters and not starting with
markup (an HTML page renamed photo.jpg is refused).

Deleting is a withdrawal: the row stays with who, when and why, and so does the file. An
incident's record is evidence; a withdrawn photo may already have been seen, forwarded or cited,
and an administrator must be able to show what it was. Nothing attached ever silently vanishes.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import hashlib
import os
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from safecity.audit.log import record as audit
from safecity.auth.models import User
from safecity.auth.roles import Role
from safecity.core.clock import utcnow
from safecity.core.media import attachments_folder
from safecity.ops.incidents.attachment_models import IncidentAttachment
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import Incident, IncidentEvent, IncidentEventKind
from safecity.private_files import make_folders
from safecity.video.recording.holds import MAX_REASON_LENGTH

PARTIAL_SUFFIX = ".partial"
SNIFF_BYTES = 16
"""Enough for every signature below; plain text is checked over the whole file."""
WRITE_BYTES = 64 * 1024
MAX_NAME_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 2000
FALLBACK_NAME = "attachment"

JPEG, PNG, PDF, TEXT, MP4 = "image/jpeg", "image/png", "application/pdf", "text/plain", "video/mp4"
ACCEPTED_TYPES = (JPEG, PNG, PDF, TEXT, MP4)
_MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V "}
    | {b"dash", b"mmp4", b"msnv"}
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


class AttachmentError(Exception):
    """An attachment request that cannot be met; the message says why in the user's words."""


class TooLarge(AttachmentError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than {limit // (1024 * 1024)} MiB")
        self.limit = limit


class UnsupportedType(AttachmentError):
    def __init__(self, why: str) -> None:
        super().__init__(
            f"{why}; attach a JPEG or PNG photo, a PDF, a plain text file or an MP4 video"
        )


class EmptyFile(AttachmentError):
    def __init__(self) -> None:
        super().__init__("the file is empty")


class StoreFull(AttachmentError):
    def __init__(self) -> None:
        super().__init__(
            "the attachment store is full; nothing was saved — ask an administrator to free space"
        )


class NotAllowed(AttachmentError):
    """The user may see the incident but not do this (answered 403)."""


class Conflict(AttachmentError):
    """The incident or the attachment is not in a state that allows this (answered 409)."""


def signature_type(head: bytes) -> str | None:
    """The media type that the first bytes prove, for the types with a signature."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if head[4:8] == b"ftyp" and head[8:12] in _MP4_BRANDS:
        return MP4
    return None


class _PlainText:
    """Checks, chunk by chunk, that a file is plain UTF-8 text and not markup."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._started = False

    def feed(self, data: bytes, *, final: bool = False) -> None:
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            raise UnsupportedType("the file is neither a known format nor UTF-8 text") from exc
        if _CONTROL.search(text):
            raise UnsupportedType("the file is binary, not text, and not a known format")
        if not self._started:
            text = text.lstrip()
            if text:
                self._started = True
                if text.startswith("<"):
                    raise UnsupportedType("markup (HTML, XML, SVG) is not accepted")


@dataclass(frozen=True)
class StoredFile:
    file_name: str
    media_type: str
    bytes: int
    sha256: str


class AttachmentWriter:
    """Writes one upload to ``<folder>/<uuid>.partial`` as it arrives.

    ``write`` may raise TooLarge, UnsupportedType or StoreFull; ``finish`` completes the file
    (fsync) and may raise EmptyFile, UnsupportedType or StoreFull. After any of these, or when
    the upload is abandoned, ``discard`` leaves nothing behind. ``publish`` gives the complete
    file its final name.
    """

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.file_name = uuid.uuid4().hex
        self.bytes = 0
        self._hash = hashlib.sha256()
        self._head = b""
        self._media_type: str | None = None
        self._text: _PlainText | None = None
        self._file: BinaryIO | None = None
        self._published = False

    @property
    def partial_path(self) -> Path:
        return self.folder / f"{self.file_name}{PARTIAL_SUFFIX}"

    @property
    def path(self) -> Path:
        return self.folder / self.file_name

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.bytes += len(data)
        if self.bytes > self.max_bytes:
            raise TooLarge(self.max_bytes)
        self._hash.update(data)
        if self._media_type is None:
            self._head += data
            if len(self._head) < SNIFF_BYTES:
                return
            self._decide(self._head)
            data, self._head = self._head, b""
        self._accept(data)

    def finish(self) -> StoredFile:
        if self.bytes == 0:
            raise EmptyFile()
        if self._media_type is None:  # shorter than the sniffing window
            self._decide(self._head)
            self._accept(self._head)
        if self._text is not None:
            self._text.feed(b"", final=True)
        file = self._open()
        try:
            file.flush()
            os.fsync(file.fileno())
        except OSError as exc:
            raise _disk_error(exc) from exc
        finally:
            self._close()
        assert self._media_type is not None
        return StoredFile(self.file_name, self._media_type, self.bytes, self._hash.hexdigest())

    def publish(self) -> Path:
        """Give the finished file its final name: an atomic rename in the same folder, made
        durable (the folder synced) before the row that names it is committed."""
        os.replace(self.partial_path, self.path)
        self._published = True
        folder = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
        return self.path

    def discard(self) -> None:
        """Remove whatever was written, unless it was published."""
        self._close()
        if not self._published:
            self.partial_path.unlink(missing_ok=True)

    def _decide(self, head: bytes) -> None:
        found = signature_type(head)
        if found is None:
            self._text = _PlainText()
            found = TEXT
        self._media_type = found

    def _accept(self, data: bytes) -> None:
        if self._text is not None:
            self._text.feed(data)
        self._store(data)

    def _store(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            for offset in range(0, len(view), WRITE_BYTES):
                self._append(self._open(), view[offset : offset + WRITE_BYTES])
        except OSError as exc:
            raise _disk_error(exc) from exc

    def _append(self, file: BinaryIO, data: memoryview) -> None:
        file.write(data)

    def _open(self) -> BinaryIO:
        if self._file is None:
            try:
                make_folders(self.folder)
                self._file = self.partial_path.open("xb")
            except OSError as exc:
                raise _disk_error(exc) from exc
        return self._file

    def _close(self) -> None:
        if self._file is not None:
            file, self._file = self._file, None
            # Closing flushes; on a full disk that fails too. The partial file is removed by
            # discard(), and the error that brought us here is already on its way.
            with contextlib.suppress(OSError):
                file.close()


def _disk_error(exc: OSError) -> OSError | StoreFull:
    return StoreFull() if exc.errno in _DISK_FULL else exc


def incident_folder(media_root: Path, incident_id: int) -> Path:
    return attachments_folder(media_root) / str(incident_id)


def display_name(raw: str | None) -> str:
    """The uploader's file name as a label: no folders, no control characters, at most
    MAX_NAME_LENGTH characters (the extension kept). ``../../etc/passwd`` becomes ``passwd``."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] not in "CZ" or ch == " ")
    name = name.strip().lstrip(".")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 10:
            name = f"{stem[: MAX_NAME_LENGTH - len(extension) - 1]}.{extension}"
        else:
            name = name[:MAX_NAME_LENGTH]
    return name or FALLBACK_NAME


# -- who may do what --------------------------------------------------------------------------

ATTACHMENT_USERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.POLICE_DUTY_OFFICER})
"""Who attaches, lists and downloads (on the incidents they see): the OCC and the duty officer
of the assigned unit. Akimats and analysts see incidents, not the evidence gathered for them."""


def _check_open(incident: Incident, doing: str) -> None:
    if incident.status is IncidentStatus.CLOSED:
        raise Conflict(f"incident {incident.number} is closed; its record can no longer {doing}")


def clean_reason(
    reason: str | None,
    *,
    missing: str = "say why (the reason is required)",
    error: type[AttachmentError] = AttachmentError,
) -> str:
    """The stripped reason for withdrawing evidence; ``error(missing)`` when there is none."""
    reason = (reason or "").strip()
    if not reason:
        raise error(missing)
    if len(reason) > MAX_REASON_LENGTH:
        raise error(f"the reason is longer than {MAX_REASON_LENGTH} characters")
    return reason


def evidence_event(
    session: Session,
    incident: Incident,
    actor: User,
    *,
    at: datetime,
    change: str,
    text: str | None,
    details: dict[str, object],
) -> IncidentEvent:
    """The incident history's line for an attachment or clip change."""
    event = IncidentEvent(
        incident_id=incident.id,
        at=at,
        actor=actor.username,
        actor_id=actor.id,
        kind=IncidentEventKind.EVIDENCE,
        text=text,
        details={"change": change, **details},
    )
    session.add(event)
    return event


def add_attachment(
    session: Session,
    incident: Incident,
    actor: User,
    stored: StoredFile,
    *,
    name: str | None,
    description: str | None,
) -> IncidentAttachment:
    """The row, the history line and the audit row for a file already written to disk."""
    description = (description or "").strip() or None
    if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
        raise AttachmentError(f"the description is longer than {MAX_DESCRIPTION_LENGTH} characters")
    now = utcnow()
    attachment = IncidentAttachment(
        incident_id=incident.id,
        file_name=stored.file_name,
        name=display_name(name),
        media_type=stored.media_type,
        bytes=stored.bytes,
        sha256=stored.sha256,
        description=description,
        uploaded_by_id=actor.id,
        uploaded_by=actor.username,
        uploaded_at=now,
    )
    session.add(attachment)
    session.flush()
    facts = _facts(attachment)
    evidence_event(
        session, incident, actor, at=now, change="attachment_added", text=description, details=facts
    )
    audit(
        session,
        action="incident.attachment.add",
        actor=actor.username,
        actor_id=actor.id,
        target=f"incident:{incident.number}",
        details=facts,
    )
    return attachment


def attachments_of(session: Session, incident: Incident) -> list[IncidentAttachment]:
    """Every attachment the incident ever had, withdrawn ones included, oldest first."""
    return list(
        session.scalars(
            select(IncidentAttachment)
            .where(IncidentAttachment.incident_id == incident.id)
            .order_by(IncidentAttachment.id)
        )
    )


def find_attachment(
    session: Session, incident: Incident, attachment_id: int
) -> IncidentAttachment | None:
    return session.scalar(
        select(IncidentAttachment).where(
            IncidentAttachment.id == attachment_id, IncidentAttachment.incident_id == incident.id
        )
    )


def check_download(attachment: IncidentAttachment, actor: User) -> None:
    """A withdrawn attachment is refused to everyone but an administrator (who must be able
    to show what it was)."""
    if attachment.deleted_at is not None and actor.role is not Role.ADMIN:
        raise Conflict(
            f"attachment {attachment.id} was deleted by {attachment.deleted_by} at "
            f"{attachment.deleted_at.isoformat()}"
        )


def record_download(
    session: Session, incident: Incident, attachment: IncidentAttachment, actor: User
) -> None:
    audit(
        session,
        action="incident.attachment.download",
        actor=actor.username,
        actor_id=actor.id,
        target=f"incident:{incident.number}",
        details={**_facts(attachment), "deleted": attachment.deleted_at is not None},
    )


def delete_attachment(
    session: Session,
    incident: Incident,
    attachment: IncidentAttachment,
    actor: User,
    reason: str | None,
) -> IncidentAttachment:
    """Withdraw the attachment: only its uploader or an administrator, only while the incident
    is not closed, with a reason. The row and the file stay (see the module's docstring).

    One conditional UPDATE, so that of two people deleting at once exactly one succeeds.
    """
    if actor.role is not Role.ADMIN and attachment.uploaded_by_id != actor.id:
        raise NotAllowed("only whoever attached the file, or an administrator, may delete it")
    _check_open(incident, "change")
    reason = clean_reason(reason)
    now = utcnow()
    done = session.scalar(
        update(IncidentAttachment)
        .where(IncidentAttachment.id == attachment.id, IncidentAttachment.deleted_at.is_(None))
        .values(
            deleted_at=now,
            deleted_by_id=actor.id,
            deleted_by=actor.username,
            deletion_reason=reason,
        )
        .returning(IncidentAttachment.id)
        .execution_options(synchronize_session=False)
    )
    session.refresh(attachment)
    if done is None:
        when = attachment.deleted_at.isoformat() if attachment.deleted_at else "an earlier time"
        raise Conflict(
            f"attachment {attachment.id} was already deleted by {attachment.deleted_by} at {when}"
        )
    facts = _facts(attachment)
    evidence_event(
        session, incident, actor, at=now, change="attachment_deleted", text=reason, details=facts
    )
    audit(
        session,
        action="incident.attachment.delete",
        actor=actor.username,
        actor_id=actor.id,
        target=f"incident:{incident.number}",
        details={**facts, "reason": reason},
    )
    return attachment


def _facts(attachment: IncidentAttachment) -> dict[str, object]:
    return {
        "attachment_id": attachment.id,
        "name": attachment.name,
        "media_type": attachment.media_type,
        "bytes": attachment.bytes,
        "sha256": attachment.sha256,
    }
