"""An incident's attachments over HTTP: photos, statements, documents and videos uploaded to
it, downloaded checked against their SHA-256, and withdrawn with a reason (see ``materials``
for the access rules and the live feed).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from safecity.api.deps import (
    CurrentUser,
    DbSession,
    get_current_user,
    get_database,
    get_scope,
    require_role,
)
from safecity.auth.models import User
from safecity.bounds import Id
from safecity.core.files import file_sha256
from safecity.ops.incidents import attachment_upload
from safecity.ops.incidents import attachments as service
from safecity.ops.incidents.attachment_models import IncidentAttachment
from safecity.ops.incidents.materials_http import (
    MaterialsIncident,
    Reason,
    announce,
    commit,
    http_error,
)
from safecity.ops.incidents.scoped import visible_incident
from safecity.ops.models import Incident
from safecity.settings import LARGEST_ATTACHMENT_MB, Settings

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["operations"])

ATTACHMENT_NOT_FOUND = "no such attachment on this incident"
MIB = 1024 * 1024


class AttachmentOut(BaseModel):
    id: int
    incident_id: int
    name: str = Field(description="The uploader's file name (cleaned), offered on download.")
    media_type: str = Field(description="Found from the content, not from what was claimed.")
    bytes: int
    sha256: str
    description: str | None
    uploaded_by: str
    uploaded_at: datetime
    deleted: bool
    deleted_by: str | None
    deleted_at: datetime | None
    deletion_reason: str | None
    download_url: str


def _attachment_out(attachment: IncidentAttachment) -> AttachmentOut:
    return AttachmentOut(
        id=attachment.id,
        incident_id=attachment.incident_id,
        name=attachment.name,
        media_type=attachment.media_type,
        bytes=attachment.bytes,
        sha256=attachment.sha256,
        description=attachment.description,
        uploaded_by=attachment.uploaded_by,
        uploaded_at=attachment.uploaded_at,
        deleted=attachment.deleted_at is not None,
        deleted_by=attachment.deleted_by,
        deleted_at=attachment.deleted_at,
        deletion_reason=attachment.deletion_reason,
        download_url=f"/api/incidents/{attachment.incident_id}/attachments/{attachment.id}",
    )


def _disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact one RFC 5987-encoded."""
    fallback = "".join(ch if ch.isascii() and ch not in '"\\;' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _materials_access(
    session: Session, request: Request, incident_id: int
) -> tuple[User, Incident]:
    """The caller and the incident, checked as ``MaterialsIncident`` checks them (401, 403,
    then 404), in a session the caller opened."""
    user = require_role(*service.ATTACHMENT_USERS)(get_current_user(request, session))
    return user, visible_incident(session, get_scope(user, session), user, incident_id)


def _check_materials_access(request: Request, incident_id: int) -> None:
    """The access check before an upload streams in, in its own short session: it is closed
    (its connection back in the pool) before the first byte of the body is read."""
    with get_database(request).session() as session:
        _materials_access(session, request, incident_id)


@dataclass(frozen=True)
class _Upload:
    incident_id: int
    writer: service.AttachmentWriter
    stored: service.StoredFile
    form: attachment_upload.ReceivedForm


async def _received(request: Request, incident_id: Id) -> AsyncIterator[_Upload]:
    """The upload, written to a .partial file as it streamed in; whatever happens after,
    the partial file does not outlive the request.

    No database session is open while the body streams in (up to ops.attachments_max_mb, as
    slowly as the client sends it): the caller's access is checked in a short session closed
    before, and the endpoint writes the row in a new one after."""
    await run_in_threadpool(_check_materials_access, request, incident_id)
    limit = _settings(request).ops.attachments_max_mb * MIB
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + attachment_upload.FORM_ALLOWANCE:
        raise http_error(service.TooLarge(limit))
    writer = service.AttachmentWriter(
        service.incident_folder(_settings(request).media_path, incident_id), limit
    )
    try:
        try:
            form = await attachment_upload.receive(
                request.headers.get("content-type"), request.stream(), writer
            )
            stored = writer.finish()
        except attachment_upload.NotMultipart as exc:
            raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, detail=str(exc)) from exc
        except attachment_upload.BadForm as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
        except service.AttachmentError as exc:
            raise http_error(exc) from exc
        yield _Upload(incident_id, writer, stored, form)
    finally:
        writer.discard()


_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [attachment_upload.FILE_FIELD],
                    "properties": {
                        attachment_upload.FILE_FIELD: {"type": "string", "format": "binary"},
                        attachment_upload.DESCRIPTION_FIELD: {
                            "type": "string",
                            "maxLength": service.MAX_DESCRIPTION_LENGTH,
                        },
                    },
                }
            }
        },
    }
}


@router.post(
    "/incidents/{incident_id}/attachments",
    response_model=AttachmentOut,
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_UPLOAD_BODY,
    # The configured limit (ops.attachments_max_mb) is checked as the file streams in; this
    # only lifts the API's small default for bodies (api.max_request_kib) to the most it may be.
    max_body_size=LARGEST_ATTACHMENT_MB * MIB + attachment_upload.FORM_ALLOWANCE,
    responses={
        413: {"description": "Larger than ops.attachments_max_mb."},
        415: {"description": "Not a JPEG, PNG, PDF, plain text or MP4 (by content)."},
        507: {"description": "The attachment store is full; nothing was saved."},
    },
)
def add_attachment(
    request: Request, upload: Annotated[_Upload, Depends(_received, scope="function")]
) -> AttachmentOut:
    """Attach a photo (JPEG, PNG), a statement or document (PDF, plain text) or a video (MP4)
    as multipart/form-data: ``file`` and optionally ``description``. The type is read from
    the content; the file name is kept only as a label."""
    # A new session, opened only now that the file is on disk. The caller and the incident
    # are checked again: if either changed during the upload (signed out, reassigned out of
    # scope), the answer is what it would have been up front, and the file is discarded.
    with get_database(request).session() as session:
        user, incident = _materials_access(session, request, upload.incident_id)
        try:
            attachment = service.add_attachment(
                session,
                incident,
                user,
                upload.stored,
                name=upload.form.file_name,
                description=upload.form.description,
            )
        except service.AttachmentError as exc:
            raise http_error(exc) from exc
        path = upload.writer.publish()
        commit(session, undo=lambda: path.unlink(missing_ok=True))
    out = _attachment_out(attachment)
    announce(request, "incident_attachment", incident, out)
    return out


@router.get("/incidents/{incident_id}/attachments", response_model=list[AttachmentOut])
def list_attachments(incident: MaterialsIncident, session: DbSession) -> list[AttachmentOut]:
    """Everything ever attached, oldest first; deleted ones stay listed, marked and stamped."""
    return [_attachment_out(a) for a in service.attachments_of(session, incident)]


def _attachment(session: Session, incident: Incident, attachment_id: int) -> IncidentAttachment:
    attachment = service.find_attachment(session, incident, attachment_id)
    if attachment is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=ATTACHMENT_NOT_FOUND)
    return attachment


@router.get(
    "/incidents/{incident_id}/attachments/{attachment_id}",
    response_class=FileResponse,
    responses={
        200: {"content": {media_type: {} for media_type in service.ACCEPTED_TYPES}},
        409: {"description": "The stored file no longer matches its SHA-256."},
        410: {"description": "Deleted (administrators still get it), or gone from the disk."},
    },
)
def download_attachment(
    attachment_id: Id,
    incident: MaterialsIncident,
    request: Request,
    session: DbSession,
    user: CurrentUser,
) -> FileResponse:
    """The file as it was uploaded, checked against its SHA-256 first (also sent as
    ``Repr-Digest``). Always a download, never shown inline."""
    attachment = _attachment(session, incident, attachment_id)
    try:
        service.check_download(attachment, user)
    except service.Conflict as exc:
        raise HTTPException(status.HTTP_410_GONE, detail=str(exc)) from exc
    path = service.incident_folder(_settings(request).media_path, incident.id)
    path /= attachment.file_name
    _check_stored(path, attachment)
    service.record_download(session, incident, attachment, user)
    digest = base64.b64encode(bytes.fromhex(attachment.sha256)).decode("ascii")
    return FileResponse(
        path,
        media_type=attachment.media_type,
        headers={
            "Content-Disposition": _disposition(attachment.name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Repr-Digest": f"sha-256=:{digest}:",
        },
    )


def _check_stored(path: Path, attachment: IncidentAttachment) -> None:
    try:
        found = file_sha256(path)
    except FileNotFoundError as exc:
        log.error("attachment %d: %s is missing from the media folder", attachment.id, path)
        raise HTTPException(
            status.HTTP_410_GONE, detail="the file is gone from the media folder"
        ) from exc
    if found != attachment.sha256:
        log.error("attachment %d: %s no longer matches its SHA-256", attachment.id, path)
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="the stored file no longer matches the SHA-256 taken on upload: it was altered",
        )


@router.delete("/incidents/{incident_id}/attachments/{attachment_id}", response_model=AttachmentOut)
def delete_attachment(
    attachment_id: Id,
    reason: Reason,
    incident: MaterialsIncident,
    request: Request,
    session: DbSession,
    user: CurrentUser,
) -> AttachmentOut:
    """Withdraw an attachment (its uploader or an administrator, while the incident is not
    closed). The file and its row are kept, stamped with who, when and why."""
    attachment = _attachment(session, incident, attachment_id)
    try:
        service.delete_attachment(session, incident, attachment, user, reason)
    except service.AttachmentError as exc:
        raise http_error(exc) from exc
    commit(session)
    out = _attachment_out(attachment)
    announce(request, "incident_attachment", incident, out)
    return out
