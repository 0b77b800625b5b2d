"""City endpoints: districts, cameras, sites, police units. Every query is cut to the caller's
scope; a camera or site outside it answers 404, exactly like one that does not exist.

Administrators add, change and decommission cameras here, each change audited; stream
passwords are sealed on the way in (``safecity.city.stream_credentials``) and never sent out."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.encoders import jsonable_encoder
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from safecity.api.deps import CurrentScope, CurrentUser, DbSession, require_role
from safecity.api.scoped import ScopedCamera
from safecity.audit.log import record
from safecity.auth.roles import LIVE_VIEWERS, REGISTRY_EDITORS, Role, Scope
from safecity.auth.scope import camera_condition, district_condition, site_condition
from safecity.bounds import Id, Line, Offset
from safecity.city.districts import stored_district_locator
from safecity.city.models import (
    Camera,
    CameraHealth,
    CameraStatus,
    District,
    PoliceUnit,
    Site,
    SiteKind,
    police_unit_districts,
)
from safecity.city.schemas import (
    CameraCreate,
    CameraDetail,
    CameraOut,
    CameraPage,
    CameraPoint,
    CameraUpdate,
    DistrictOut,
    PoliceUnitOut,
    SiteOut,
    SitePage,
    SiteSummary,
    StreamHealth,
)
from safecity.city.stream_credentials import (
    CredentialKeyring,
    HiddenPasswordError,
    StoredStream,
    StreamCredentialsError,
    seal,
)
from safecity.city.stream_urls import without_password
from safecity.settings import Settings
from safecity.video.live.snapshots import SnapshotProvider
from safecity.video.models import CameraStream

router = APIRouter(prefix="/api", tags=["city"])

URL_IN_TEXT = re.compile(r"[a-z][a-z0-9+.-]*://[^\s'\"]+", re.IGNORECASE)


def _camera_out(camera: Camera, scope: Scope) -> CameraOut:
    """A camera as the caller may see it: its site is named only if they may see the site."""
    site = camera.site
    if site is not None and not scope.sees_site(site.district_id, site.owner_organization_id):
        site = None
    return CameraOut(
        id=camera.id,
        code=camera.code,
        name=camera.name,
        address=camera.address,
        latitude=camera.latitude,
        longitude=camera.longitude,
        district_id=camera.district_id,
        district_name=camera.district.name,
        site=SiteSummary.model_validate(site) if site else None,
        status=camera.status,
        health=camera.health,
        last_seen_at=camera.last_seen_at,
        vendor=camera.vendor,
        model=camera.model,
        firmware=camera.firmware,
        installed_at=camera.installed_at,
    )


def _snapshots(request: Request) -> SnapshotProvider | None:
    provider: SnapshotProvider | None = request.app.state.snapshots
    return provider


@router.get("/districts", response_model=list[DistrictOut])
def list_districts(session: DbSession, scope: CurrentScope) -> list[DistrictOut]:
    """All district outlines (the map needs them); counts only what you may see."""
    counts: dict[int, int] = {
        district_id: count
        for district_id, count in session.execute(
            select(Camera.district_id, func.count())
            .where(camera_condition(scope))
            .group_by(Camera.district_id)
        )
    }
    return [
        DistrictOut(
            id=district.id,
            code=district.code,
            name=district.name,
            population=district.population,
            geometry=district.geometry,
            camera_count=counts.get(district.id, 0),
            in_scope=scope.sees_district(district.id),
        )
        for district in session.scalars(
            select(District).where(District.active).order_by(District.name)
        )
    ]


def visible_cameras(
    scope: CurrentScope,
    district_id: Id | None = None,
    site_id: Id | None = None,
    site_kind: SiteKind | None = None,
    camera_status: Annotated[CameraStatus | None, Query(alias="status")] = None,
    health: CameraHealth | None = None,
    q: Annotated[Line | None, Query(max_length=100, description="Code, name or address")] = None,
) -> Select[Camera]:
    """The cameras you may see, narrowed by the filters the list and the map share."""
    query = select(Camera).where(camera_condition(scope))
    if district_id is not None:
        query = query.where(Camera.district_id == district_id)
    if site_id is not None:
        query = query.where(Camera.site_id == site_id)
    if site_kind is not None:
        query = query.where(Camera.site_id.in_(select(Site.id).where(Site.kind == site_kind)))
    if camera_status is not None:
        query = query.where(Camera.status == camera_status)
    if health is not None:
        query = query.where(Camera.health == health)
    if q:
        text = q.strip().lower()
        query = query.where(
            or_(
                func.lower(Camera.code).contains(text, autoescape=True),
                func.lower(Camera.name).contains(text, autoescape=True),
                func.lower(func.coalesce(Camera.address, "")).contains(text, autoescape=True),
            )
        )
    return query


VisibleCameras = Annotated[Select[Camera], Depends(visible_cameras)]


@router.get("/cameras", response_model=CameraPage)
def list_cameras(
    session: DbSession,
    scope: CurrentScope,
    cameras: VisibleCameras,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> CameraPage:
    total = session.scalar(select(func.count()).select_from(cameras.subquery())) or 0
    page = session.scalars(
        cameras.options(joinedload(Camera.district), joinedload(Camera.site))
        .order_by(Camera.code)
        .limit(limit)
        .offset(offset)
    )
    return CameraPage(
        items=[_camera_out(camera, scope) for camera in page],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/map/cameras", response_model=list[CameraPoint])
def camera_points(session: DbSession, cameras: VisibleCameras) -> list[CameraPoint]:
    """Every camera you may see, as map points, with the same filters as the list."""
    query = cameras
    rows = session.execute(
        query.with_only_columns(
            Camera.id,
            Camera.code,
            Camera.name,
            Camera.latitude,
            Camera.longitude,
            Camera.status,
            Camera.health,
            Camera.district_id,
        )
    )
    return [
        CameraPoint(
            id=row.id,
            code=row.code,
            name=row.name,
            lat=row.latitude,
            lon=row.longitude,
            status=row.status,
            health=row.health,
            district_id=row.district_id,
        )
        for row in rows
    ]


@router.get("/cameras/{camera_id}", response_model=CameraDetail, summary="One camera")
def camera_detail(camera: ScopedCamera, session: DbSession, scope: CurrentScope) -> CameraDetail:
    """One camera. Stream passwords are shown to no one: they are hidden as ***."""
    return _camera_detail(session, scope, camera)


def _camera_detail(session: Session, scope: Scope, camera: Camera) -> CameraDetail:
    # without_password again: a URL stored before revision 0012 and not sealed yet is in clear.
    sub = camera.sub_stream_url
    return CameraDetail(
        **_camera_out(camera, scope).model_dump(),
        main_stream_url=without_password(camera.main_stream_url),
        sub_stream_url=without_password(sub) if sub is not None else None,
        retention_days=camera.retention_days,
        retention_bytes=camera.retention_bytes,
        stream=_stream_health(session, camera.id),
    )


def _stream_health(session: Session, camera_id: int) -> StreamHealth | None:
    """The camera's ``camera_streams`` row, if ingest ever reported on it. An error detail may
    quote the stream URL (FFmpeg names what it opened): its password is hidden like the URL's."""
    row = session.get(CameraStream, camera_id)
    if row is None:
        return None
    health = StreamHealth.model_validate(row)
    if health.detail:
        health.detail = URL_IN_TEXT.sub(lambda found: without_password(found[0]), health.detail)
    return health


@router.get(
    "/cameras/{camera_id}/snapshot.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, 404: {}, 503: {}},
    dependencies=[Depends(require_role(*LIVE_VIEWERS))],
)
def camera_snapshot(camera: ScopedCamera, request: Request) -> Response:
    provider = _snapshots(request)
    image = provider.snapshot_jpeg(camera.code) if provider is not None else None
    if image is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail="no live picture from this camera"
        )
    return Response(image, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


def stream_keyring(request: Request) -> CredentialKeyring:
    settings: Settings = request.app.state.settings
    return CredentialKeyring(settings.stream_credentials_key_path)


Keyring = Annotated[CredentialKeyring, Depends(stream_keyring)]

_STREAM_FIELDS = {"main_stream_url": "main_stream_sealed", "sub_stream_url": "sub_stream_sealed"}
"""Each stream URL field and the field its sealed whole form is kept in."""


@router.post(
    "/cameras",
    response_model=CameraDetail,
    status_code=status.HTTP_201_CREATED,
    summary="Add a camera",
    dependencies=[Depends(require_role(Role.ADMIN))],
)
def create_camera(
    body: CameraCreate,
    session: DbSession,
    user: CurrentUser,
    scope: CurrentScope,
    keyring: Keyring,
) -> CameraDetail:
    """A new camera, in the district its position lies in. Administrators only; audited, with
    stream passwords hidden."""
    if session.scalar(select(Camera.id).where(Camera.code == body.code)) is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"code: a camera {body.code!r} exists already"
        )
    site_id = _site_id(session, body.site_id, body.site_code)
    fields = body.model_dump(exclude={"site_id", "site_code", "main_stream_url", "sub_stream_url"})
    camera = Camera(
        **fields,
        site_id=site_id,
        district_id=_district_of(session, body.latitude, body.longitude),
    )
    streams = {
        field: _store_stream(session, keyring, camera, field, getattr(body, field))
        for field in _STREAM_FIELDS
    }
    session.add(camera)
    try:
        session.flush()
    except IntegrityError as exc:  # the same code added meanwhile by someone else
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"code: a camera {body.code!r} exists already"
        ) from exc
    record(
        session,
        action="camera.create",
        actor=user.username,
        actor_id=user.id,
        target=f"camera:{camera.id}",
        details={
            **jsonable_encoder(fields),
            "site_id": site_id,
            "district_id": camera.district_id,
            **{field: entry["to"] for field, entry in streams.items() if entry is not None},
        },
    )
    session.refresh(camera)
    return _camera_detail(session, scope, camera)


@router.patch(
    "/cameras/{camera_id}",
    response_model=CameraDetail,
    summary="Change a camera",
    dependencies=[Depends(require_role(*REGISTRY_EDITORS))],
)
def update_camera(
    camera: ScopedCamera,
    body: CameraUpdate,
    session: DbSession,
    user: CurrentUser,
    scope: CurrentScope,
    keyring: Keyring,
) -> CameraDetail:
    """Change the fields given (null clears an optional one); a new position moves the camera
    to the district it lies in. Audited, with stream passwords hidden."""
    changes = body.model_dump(exclude_unset=True)
    urls = {field: changes.pop(field) for field in _STREAM_FIELDS if field in changes}
    if "site_id" in changes and changes["site_id"] is not None:
        _site_id(session, changes["site_id"], None)
    district_id = camera.district_id
    if "latitude" in changes or "longitude" in changes:
        district_id = _district_of(
            session,
            changes.get("latitude", camera.latitude),
            changes.get("longitude", camera.longitude),
        )
    before = {field: getattr(camera, field) for field in changes}
    for field, value in changes.items():
        setattr(camera, field, value)
    camera.district_id = district_id
    changed = _audited_changes(before, changes)
    for field, url in urls.items():
        entry = _store_stream(session, keyring, camera, field, url)
        if entry is not None:
            changed[field] = entry
    record(
        session,
        action="camera.update",
        actor=user.username,
        actor_id=user.id,
        target=f"camera:{camera.id}",
        details={"changed": changed},
    )
    session.flush()
    session.refresh(camera)
    return _camera_detail(session, scope, camera)


@router.post(
    "/cameras/{camera_id}/decommission",
    response_model=CameraDetail,
    summary="Decommission a camera",
    responses={409: {"description": "It is decommissioned already"}},
    dependencies=[Depends(require_role(Role.ADMIN))],
)
def decommission_camera(
    camera: ScopedCamera, session: DbSession, user: CurrentUser, scope: CurrentScope
) -> CameraDetail:
    """Take a camera out of service: it is no longer ingested, and stays in the registry with
    its recordings, which retention deletes when their time is up (legal holds keep theirs).
    Administrators only; audited."""
    if camera.status is CameraStatus.DECOMMISSIONED:
        raise HTTPException(status.HTTP_409_CONFLICT, detail="status: decommissioned already")
    record(
        session,
        action="camera.decommission",
        actor=user.username,
        actor_id=user.id,
        target=f"camera:{camera.id}",
        details={"changed": {"status": {"from": camera.status.value, "to": "decommissioned"}}},
    )
    camera.status = CameraStatus.DECOMMISSIONED
    session.flush()
    session.refresh(camera)
    return _camera_detail(session, scope, camera)


def _site_id(session: Session, site_id: int | None, site_code: str | None) -> int | None:
    """The site named by id or by code, or 422 naming the one that does not exist."""
    if site_code is not None:
        found = session.scalar(select(Site.id).where(Site.code == site_code))
        if found is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"site_code: no site {site_code!r}",
            )
        return found
    if site_id is not None and session.get(Site, site_id) is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="no such site")
    return site_id


def _district_of(session: Session, latitude: float, longitude: float) -> int:
    """The district the position lies in, as an import finds it, or 422."""
    district_id = stored_district_locator(session).locate(latitude, longitude)
    if district_id is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="that position is outside every district",
        )
    return district_id


def _store_stream(
    session: Session, keyring: CredentialKeyring, camera: Camera, field: str, url: str | None
) -> dict[str, Any] | None:
    """Set one stream URL, its password sealed; what the audit log says of the change (the
    shown URLs, and whether a password was set or removed), or None if nothing changed."""
    sealed_field = _STREAM_FIELDS[field]
    shown_before: str | None = getattr(camera, field)
    sealed_before: str | None = getattr(camera, sealed_field)
    current = None if shown_before is None else StoredStream(shown_before, sealed_before)
    try:
        stored = None if url is None else seal(url, keyring, session, current)
    except HiddenPasswordError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"{field}: {exc}"
        ) from exc
    except StreamCredentialsError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from exc
    if stored == current:
        return None
    setattr(camera, field, None if stored is None else stored.shown)
    setattr(camera, sealed_field, None if stored is None else stored.sealed)
    entry: dict[str, Any] = {
        "from": None if shown_before is None else without_password(shown_before),
        "to": None if stored is None else stored.shown,
    }
    sealed_after = None if stored is None else stored.sealed
    if sealed_after != sealed_before:
        entry["password"] = "set" if sealed_after is not None else "removed"
    return entry


def _audited_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Each field whose value changed, as {"from": …, "to": …} in JSON terms."""
    return {
        field: {"from": jsonable_encoder(before[field]), "to": jsonable_encoder(value)}
        for field, value in after.items()
        if before[field] != value
    }


@router.get("/sites", response_model=SitePage)
def list_sites(
    session: DbSession,
    scope: CurrentScope,
    district_id: Id | None = None,
    kind: SiteKind | None = None,
    q: Annotated[Line | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Offset = 0,
) -> SitePage:
    query = select(Site).where(site_condition(scope), Site.active)
    if district_id is not None:
        query = query.where(Site.district_id == district_id)
    if kind is not None:
        query = query.where(Site.kind == kind)
    if q:
        query = query.where(func.lower(Site.name).contains(q.strip().lower(), autoescape=True))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    sites = list(
        session.scalars(
            query.options(joinedload(Site.district), joinedload(Site.owner))
            .order_by(Site.name)
            .limit(limit)
            .offset(offset)
        )
    )
    counts: dict[int | None, int] = {
        site_id: count
        for site_id, count in session.execute(
            select(Camera.site_id, func.count())
            .where(Camera.site_id.in_([site.id for site in sites]), camera_condition(scope))
            .group_by(Camera.site_id)
        )
    }
    return SitePage(items=[_site_out(site, counts.get(site.id, 0)) for site in sites], total=total)


@router.get("/sites/{site_id}", response_model=SiteOut)
def site_detail(site_id: Id, session: DbSession, scope: CurrentScope) -> SiteOut:
    site = session.scalar(select(Site).where(Site.id == site_id, site_condition(scope)))
    if site is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such site, or not yours to see")
    count = session.scalar(
        select(func.count()).where(Camera.site_id == site.id, camera_condition(scope))
    )
    return _site_out(site, count or 0)


def _site_out(site: Site, camera_count: int) -> SiteOut:
    return SiteOut(
        id=site.id,
        code=site.code,
        name=site.name,
        kind=site.kind,
        address=site.address,
        latitude=site.latitude,
        longitude=site.longitude,
        district_id=site.district_id,
        district_name=site.district.name,
        owner=site.owner.name if site.owner else None,
        schedule=site.schedule,
        tasks=site.tasks,
        camera_count=camera_count,
    )


@router.get("/police-units", response_model=list[PoliceUnitOut])
def list_police_units(session: DbSession, scope: CurrentScope) -> list[PoliceUnitOut]:
    """The units that cover the districts you see (all of them for city-wide roles)."""
    covering = select(police_unit_districts.c.police_unit_id).where(
        district_condition(scope, police_unit_districts.c.district_id)
    )
    query = (
        select(PoliceUnit)
        .options(joinedload(PoliceUnit.districts))
        .where(PoliceUnit.active)
        .order_by(PoliceUnit.name)
    )
    if not scope.city_wide:
        query = query.where(PoliceUnit.id.in_(covering))
    return [
        PoliceUnitOut(
            id=unit.id,
            code=unit.code,
            name=unit.name,
            phone=unit.phone,
            is_fallback=unit.is_fallback,
            district_ids=sorted(d.id for d in unit.districts),
        )
        for unit in session.scalars(query).unique()
    ]
