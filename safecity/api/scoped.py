"""The camera (or site) a request's path names, cut to the caller's scope.

Every camera-scoped endpoint, video ones included, takes ``camera: ScopedCamera`` (or calls
``visible_camera`` for a camera named in a body): a camera outside the caller's scope answers
404 with the same words as one that does not exist, so a caller cannot learn which cameras
exist outside their part of the city. A role check declared before the camera (on the route,
or as an earlier parameter) runs first, so a role that may not act gets 403 either way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from safecity.api.deps import CurrentScope, DbSession
from safecity.auth.roles import Scope
from safecity.auth.scope import camera_condition, site_condition
from safecity.bounds import Id
from safecity.city.models import Camera, Site

NOT_FOUND = "no such camera, or not yours to see"
SITE_NOT_FOUND = "no such site, or not yours to see"


def visible_camera(session: Session, scope: Scope, camera_id: int) -> Camera:
    """The camera, its district and site loaded, if the scope sees it; otherwise 404."""
    camera = session.scalar(
        select(Camera)
        .options(joinedload(Camera.district), joinedload(Camera.site))
        .where(Camera.id == camera_id, camera_condition(scope))
    )
    if camera is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
    return camera


def scoped_camera(camera_id: Id, session: DbSession, scope: CurrentScope) -> Camera:
    return visible_camera(session, scope, camera_id)


ScopedCamera = Annotated[Camera, Depends(scoped_camera)]
"""The camera of the path's ``{camera_id}``, if the caller may see it (404 otherwise)."""


def visible_site(session: Session, scope: Scope, site_id: int) -> Site:
    """The site if the scope sees it; otherwise 404, as for a camera."""
    site = session.scalar(select(Site).where(Site.id == site_id, site_condition(scope)))
    if site is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=SITE_NOT_FOUND)
    return site


def scoped_site(site_id: Id, session: DbSession, scope: CurrentScope) -> Site:
    return visible_site(session, scope, site_id)


ScopedSite = Annotated[Site, Depends(scoped_site)]
"""The site of the path's ``{site_id}``, if the caller may see it (404 otherwise)."""
