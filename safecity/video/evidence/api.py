"""Evidence packages over HTTP: export, list, download, and the public key that checks them.

Exporting and reading the export log are for ``EXPORTER_ROLES``, each within their scope: an
export of a camera outside it answers 404 like a missing one. The public key is public on
purpose: whoever holds a package must be able to check it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from safecity.api.deps import CurrentScope, CurrentUser, DbSession, require_role
from safecity.api.scoped import ScopedCamera
from safecity.audit.log import record as audit
from safecity.auth.roles import Scope
from safecity.auth.scope import camera_condition
from safecity.bounds import Id, Moment, Offset, Paragraph
from safecity.city.models import Camera
from safecity.settings import Settings
from safecity.video.evidence.export import (
    EXPORTER_ROLES,
    MAX_REASON_CHARS,
    Exporter,
    ExportRefused,
    ExportRequest,
    export_evidence,
    stored_package,
)
from safecity.video.evidence.keys import (
    SigningKeyError,
    SigningKeyMissing,
    key_fingerprint,
    keyring,
    load_signing_key,
    public_key_pem,
)
from safecity.video.models import EvidenceExport

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api", tags=["evidence"])

EXPORT_NOT_FOUND = "no such evidence export, or not yours to see"
KEY_UNAVAILABLE = "evidence signing is unavailable: the signing key cannot be used (see the log)"
KEY_MISSING = (
    "evidence signing is stopped: the signing key is missing although keys or packages show "
    "that one existed; an administrator must restore it from the backup (see the log)"
)
NO_KEY_YET = "there is no evidence signing key yet: it is made by the first export"

Exporters = [Depends(require_role(*EXPORTER_ROLES))]


class EvidenceRequest(BaseModel):
    start: Moment
    end: Moment
    reason: Paragraph = Field(
        min_length=1,
        max_length=MAX_REASON_CHARS,
        description="Why: case or request number and what it is for. Goes into the package.",
    )


class EvidenceOut(BaseModel):
    id: int
    package_id: str
    camera_id: int
    camera_code: str
    starts_at: datetime
    """The exported range: the request widened to whole GOPs."""
    ends_at: datetime
    reason: str
    exported_by: str
    exported_at: datetime
    bytes: int
    """Size of the zip."""
    clip_bytes: int
    manifest_sha256: str
    key_fingerprint: str
    hold_id: int | None
    download_url: str


class EvidencePage(BaseModel):
    items: list[EvidenceOut]
    total: int
    limit: int
    offset: int


class PublicKeyOut(BaseModel):
    algorithm: Literal["Ed25519"] = "Ed25519"
    fingerprint_sha256: str
    pem: str


class PublishedKeyOut(PublicKeyOut):
    created_at: datetime
    """When the key began signing."""
    retired_at: datetime | None
    """When it stopped signing (rotated, or lost); null for the key that signs now."""
    retired_because: str | None
    current: bool


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _out(record: EvidenceExport, camera_code: str) -> EvidenceOut:
    return EvidenceOut(
        id=record.id,
        package_id=record.package_id,
        camera_id=record.camera_id,
        camera_code=camera_code,
        starts_at=record.starts_at,
        ends_at=record.ends_at,
        reason=record.reason,
        exported_by=record.exported_by,
        exported_at=record.exported_at,
        bytes=record.bytes,
        clip_bytes=record.details["clip_bytes"],
        manifest_sha256=record.manifest_sha256,
        key_fingerprint=record.details["key_fingerprint"],
        hold_id=record.hold_id,
        download_url=f"/api/evidence/{record.id}/download",
    )


def _visible_exports(scope: Scope) -> Select[EvidenceExport, str]:
    return (
        select(EvidenceExport, Camera.code)
        .join(Camera, Camera.id == EvidenceExport.camera_id)
        .where(camera_condition(scope))
    )


def _visible_export(session: Session, scope: Scope, export_id: int) -> tuple[EvidenceExport, str]:
    row = session.execute(
        _visible_exports(scope).where(EvidenceExport.id == export_id)
    ).one_or_none()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=EXPORT_NOT_FOUND)
    record, camera_code = row
    return record, camera_code


@router.get(
    "/evidence/public-key",
    response_model=PublicKeyOut,
    summary="The key that signs evidence now",
    responses={
        404: {"description": NO_KEY_YET},
        503: {"description": f"{KEY_UNAVAILABLE}; or {KEY_MISSING}"},
    },
)
def evidence_public_key(request: Request) -> PublicKeyOut:
    """The key that signs evidence packages now (no sign-in needed: it is meant to be
    published). Packages signed by earlier keys are checked with ``/api/evidence/keys``."""
    settings = _settings(request)
    try:
        private = load_signing_key(settings.evidence_key_path)
        signed_before = private is None and bool(keyring(settings))
    except SigningKeyError as exc:
        log.error("evidence signing key: %s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=KEY_UNAVAILABLE) from exc
    if signed_before:
        log.error(
            "evidence signing key %s is missing; the keyring shows one existed",
            settings.evidence_key_path,
        )
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=KEY_MISSING)
    if private is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NO_KEY_YET)
    key = private.public_key()
    return PublicKeyOut(fingerprint_sha256=key_fingerprint(key), pem=public_key_pem(key).decode())


@router.get(
    "/evidence/keys",
    response_model=list[PublishedKeyOut],
    summary="Every key that ever signed evidence here",
    responses={503: {"description": KEY_UNAVAILABLE}},
)
def evidence_keys(request: Request) -> list[PublishedKeyOut]:
    """The keyring, oldest first: the key that signs now and every retired one, whose
    packages stay valid (no sign-in needed: a package is checked against any of them)."""
    try:
        keys = keyring(_settings(request))
    except SigningKeyError as exc:
        log.error("evidence keyring: %s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=KEY_UNAVAILABLE) from exc
    return [
        PublishedKeyOut(
            fingerprint_sha256=key.entry.fingerprint_sha256,
            pem=public_key_pem(key.public_key).decode(),
            created_at=key.entry.created_at,
            retired_at=key.entry.retired_at,
            retired_because=key.entry.retired_because,
            current=key.entry.retired_at is None,
        )
        for key in keys
    ]


@router.post(
    "/cameras/{camera_id}/evidence",
    response_model=EvidenceOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=Exporters,
)
def export_camera_evidence(
    camera: ScopedCamera,
    body: EvidenceRequest,
    request: Request,
    response: Response,
    session: DbSession,
    user: CurrentUser,
) -> EvidenceOut:
    """Export a signed evidence package of this camera's recording; pins it with a legal hold
    (committed before the recordings are read, so retention keeps them) and records who
    exported it and why. Answers when the package is written; 422 saying why when it cannot
    be, a source segment that is missing, unreadable or altered included (nothing is left)."""
    asked = ExportRequest(camera, body.start, body.end, body.reason, Exporter.from_user(user))
    try:
        result = export_evidence(session, asked, settings=_settings(request))
    except ExportRefused as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    except SigningKeyMissing as exc:
        log.error("evidence signing key missing: %s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=KEY_MISSING) from exc
    except SigningKeyError as exc:
        log.error("evidence signing key: %s", exc)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=KEY_UNAVAILABLE) from exc
    response.headers["Location"] = f"/api/evidence/{result.record.id}"
    return _out(result.record, camera.code)


@router.get("/evidence", response_model=EvidencePage, dependencies=Exporters)
def list_evidence(
    session: DbSession,
    scope: CurrentScope,
    camera_id: Id | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> EvidencePage:
    """Exports of the cameras you may see, newest first."""
    query = _visible_exports(scope)
    if camera_id is not None:
        query = query.where(EvidenceExport.camera_id == camera_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(
        query.order_by(EvidenceExport.exported_at.desc(), EvidenceExport.id.desc())
        .limit(limit)
        .offset(offset)
    )
    items = [_out(record, code) for record, code in rows]
    return EvidencePage(items=items, total=total, limit=limit, offset=offset)


@router.get("/evidence/{export_id}", response_model=EvidenceOut, dependencies=Exporters)
def evidence_detail(export_id: Id, session: DbSession, scope: CurrentScope) -> EvidenceOut:
    return _out(*_visible_export(session, scope, export_id))


@router.get(
    "/evidence/{export_id}/download",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}}, 404: {}, 410: {}},
    dependencies=Exporters,
)
def download_evidence(
    export_id: Id, request: Request, session: DbSession, user: CurrentUser, scope: CurrentScope
) -> FileResponse:
    """The package as a zip: the folder with the clip, the signed manifest and the key."""
    record, _code = _visible_export(session, scope, export_id)
    archive = stored_package(_settings(request), record.path)
    if not archive.is_file():
        log.error("evidence package %s: %s is not on the server", record.package_id, archive)
        raise HTTPException(
            status.HTTP_410_GONE,
            detail="the package file is no longer on the server; its audit record remains",
        )
    log.info("evidence package %s downloaded by %s", record.package_id, user.username)
    audit(
        session,
        action="evidence.download",
        actor=user.username,
        actor_id=user.id,
        target=f"evidence:{record.package_id}",
        details={"export_id": record.id, "camera_id": record.camera_id},
        address=request.client.host if request.client else None,
    )
    return FileResponse(
        archive, media_type="application/zip", filename=f"evidence-{record.package_id}.zip"
    )
