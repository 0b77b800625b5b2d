"""Video analytics over HTTP: rules and privacy masks per camera and site, forensic search of
the events they raised with their snapshots, and the counts of people and vehicles.

Everything is scoped like the camera (or site) it belongs to: outside the caller's scope it
answers 404 exactly like one that does not exist, and filters never widen the scope. Reading
is for every role within its scope; changing rules is for administrators (others 403), each
change audited; snapshots are pictures, so they go to the roles that may watch live video.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import FileResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.analytics import counts as counting
from safecity.analytics.event_store import EventFilters, search_events, snapshot_file
from safecity.analytics.models import AnalyticsEvent
from safecity.analytics.objects import ObjectClass
from safecity.analytics.rule_store import (
    camera_document,
    replace_camera_rules,
    replace_site_rules,
    site_rules,
)
from safecity.analytics.rules.definitions import RuleKind
from safecity.analytics.schemas import (
    CameraRulesIn,
    CameraRulesOut,
    CountSeriesOut,
    CountsOut,
    EventOut,
    SiteRulesIn,
    SiteRulesOut,
    event_out,
)
from safecity.analytics.scoped import ScopedEvent
from safecity.api import paging
from safecity.api.deps import CurrentScope, CurrentUser, DbSession, require_role
from safecity.api.scoped import ScopedCamera, ScopedSite
from safecity.auth.roles import LIVE_VIEWERS, REGISTRY_EDITORS, Scope
from safecity.bounds import Id, Line, Moment
from safecity.city.models import Camera, Site
from safecity.settings import Settings

router = APIRouter(prefix="/api", tags=["analytics"])

_EDITORS = [Depends(require_role(*REGISTRY_EDITORS))]
_NO_SNAPSHOT = "no snapshot for this event"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _camera_rules_out(session: Session, camera: Camera, scope: Scope) -> CameraRulesOut:
    document = camera_document(session, camera.id)
    site = camera.site
    shown_site = site is not None and scope.sees_site(site.district_id, site.owner_organization_id)
    # A site the caller may not see is not named, nor are its rules shown.
    inherited = (
        site_rules(session, site.id) if site is not None and site.active and shown_site else []
    )
    return CameraRulesOut(
        camera_id=camera.id,
        rules=document.rules,
        masks=document.masks,
        site_id=camera.site_id if shown_site else None,
        site_rules=inherited,
    )


@router.get("/cameras/{camera_id}/analytics/rules", response_model=CameraRulesOut)
def get_camera_rules(
    camera: ScopedCamera, session: DbSession, scope: CurrentScope
) -> CameraRulesOut:
    """The camera's own rules and privacy masks, and its site's rules (read-only here)."""
    return _camera_rules_out(session, camera, scope)


@router.put(
    "/cameras/{camera_id}/analytics/rules",
    response_model=CameraRulesOut,
    dependencies=_EDITORS,
)
def put_camera_rules(
    body: CameraRulesIn,
    camera: ScopedCamera,
    request: Request,
    session: DbSession,
    scope: CurrentScope,
    user: CurrentUser,
) -> CameraRulesOut:
    """Replace the camera's own rules and masks with this document (a rule left out is
    deleted). Administrators only; audited. A document that does not hold together (a zone
    whose edges cross, a line of one point, an unknown kind, two rules of one name) is a 422
    naming each problem, and nothing is changed."""
    replace_camera_rules(session, camera, body, user, address=_address(request))
    session.commit()  # frees the audit log's lock now (see DbSession)
    return _camera_rules_out(session, camera, scope)


@router.get("/sites/{site_id}/analytics/rules", response_model=SiteRulesOut)
def get_site_rules(site: ScopedSite, session: DbSession) -> SiteRulesOut:
    """The site's rules: each applies to every camera of the site while the site is active."""
    return SiteRulesOut(site_id=site.id, rules=site_rules(session, site.id))


@router.put("/sites/{site_id}/analytics/rules", response_model=SiteRulesOut, dependencies=_EDITORS)
def put_site_rules(
    body: SiteRulesIn, site: ScopedSite, request: Request, session: DbSession, user: CurrentUser
) -> SiteRulesOut:
    """Replace the site's rules with this document. Administrators only; audited; a 422 as
    for a camera's rules."""
    rules = replace_site_rules(session, site, body.rules, user, address=_address(request))
    session.commit()  # frees the audit log's lock now (see DbSession)
    return SiteRulesOut(site_id=site.id, rules=rules)


def _visible_sites(session: Session, scope: Scope, site_ids: list[int]) -> list[int]:
    """The sites of ``site_ids`` the caller may see: a filter on another's site would say
    which visible cameras belong to it."""
    if not site_ids:
        return []
    sites = session.scalars(select(Site).where(Site.id.in_(site_ids)))
    return [
        site.id for site in sites if scope.sees_site(site.district_id, site.owner_organization_id)
    ]


@router.get("/analytics/events", response_model=list[EventOut])
def list_events(
    response: Response,
    session: DbSession,
    scope: CurrentScope,
    user: CurrentUser,
    since: Annotated[Moment | None, Query(description="Events at or after this time.")] = None,
    until: Annotated[Moment | None, Query(description="Events before this time.")] = None,
    camera_id: Annotated[list[Id] | None, Query(max_length=100)] = None,
    site_id: Annotated[list[Id] | None, Query(max_length=100)] = None,
    district_id: Annotated[list[Id] | None, Query(max_length=100)] = None,
    kind: Annotated[list[RuleKind] | None, Query(max_length=10)] = None,
    object_class: Annotated[list[ObjectClass] | None, Query(max_length=10)] = None,
    rule_id: Annotated[list[Id] | None, Query(max_length=100)] = None,
    rule: Annotated[
        list[Annotated[Line, Query(min_length=1, max_length=100)]] | None,
        Query(max_length=20, description="Rule names."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: paging.Cursor = None,
) -> list[EventOut]:
    """Forensic search: the events of the cameras you may see, newest first, narrowed by
    each filter given (several values of one filter: any of them). When more remain, the
    X-Next-Cursor header holds the cursor of the next page."""
    if since is not None and until is not None and until <= since:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="until: after since")
    filters = EventFilters(
        since=since,
        until=until,
        camera_ids=camera_id or (),
        site_ids=_visible_sites(session, scope, site_id or []),
        district_ids=district_id or (),
        kinds=kind or (),
        object_classes=[value.value for value in object_class or ()],
        rule_ids=rule_id or (),
        rule_names=rule or (),
    )
    if site_id and not filters.site_ids:
        return []  # only sites the caller may not see: asking does not tell what is there
    after = paging.decode_newest(before) if before is not None else None
    page = search_events(session, filters, scope, limit=limit, after=after)
    if page.more:
        last = page.events[-1]
        paging.announce_next(response, paging.encode_newest(last.at, last.id))
    pictures = user.role in LIVE_VIEWERS
    return [event_out(event, scope, pictures=pictures) for event in page.events]


@router.get("/analytics/events/{event_id}", response_model=EventOut)
def get_event(event: ScopedEvent, scope: CurrentScope, user: CurrentUser) -> EventOut:
    return event_out(event, scope, pictures=user.role in LIVE_VIEWERS)


@router.get(
    "/analytics/events/{event_id}/snapshot",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}}}, 404: {}},
    dependencies=[Depends(require_role(*LIVE_VIEWERS))],
)
def get_event_snapshot(event: ScopedEvent, request: Request) -> FileResponse:
    """The event's best snapshot (JPEG, privacy masks already applied); 404 when none was
    kept or it is gone."""
    path = _snapshot_path(event, request)
    return FileResponse(
        path,
        media_type="image/jpeg",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def _snapshot_path(event: AnalyticsEvent, request: Request) -> str:
    if event.snapshot is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=_NO_SNAPSHOT)
    path = snapshot_file(_settings(request).media_path, event.snapshot)
    if path is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=_NO_SNAPSHOT)
    return str(path)


@router.get("/cameras/{camera_id}/analytics/counts", response_model=CountsOut)
def get_counts(
    camera: ScopedCamera,
    request: Request,
    session: DbSession,
    since: Annotated[Moment, Query()],
    until: Annotated[Moment, Query()],
    bin: Annotated[counting.Bin, Query(description="15m, 1h or 1d (the city's days).")] = (
        counting.Bin.HOUR
    ),
    by: Annotated[
        list[counting.CountScope] | None,
        Query(
            max_length=3,
            description="What to count: the whole picture (the default), "
            "each zone, each line (per direction).",
        ),
    ] = None,
) -> CountsOut:
    """People and vehicles the camera counted, per class, in bins from ``since`` to
    ``until``, zeros included."""
    try:
        found = counting.counts(
            session,
            camera.id,
            since,
            until,
            bin,
            zone=_settings(request).zone,
            scopes=by or ["camera"],
        )
    except counting.CountError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from exc
    return CountsOut(
        camera_id=camera.id,
        bin=bin.value,
        bins=found.bins,
        end=found.end,
        series=[
            CountSeriesOut(
                scope=series.scope,
                scope_name=series.scope_name,
                object_class=series.object_class,
                direction=series.direction,
                counts=series.counts,
            )
            for series in found.series
        ],
    )
