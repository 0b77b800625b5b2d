"""The city a placement plan needs, read from the tables and cut to the caller's scope.

Districts and crime records follow the scope's districts; the open requests are those the
caller may see on the requests board (``requests.service.request_condition``: a district
akimat or the police their own organization's, in their districts), so a plan never reveals
another organization's request, its number, point or urgency. The cameras that
already watch are those the caller may see (``camera_condition``): a district akimat plans
with its own district's cameras, so a plan never reveals a camera it may not see (demand
right at its border that a neighbour's camera watches then counts as open).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import ColumnElement, and_, func, select, true
from sqlalchemy.orm import Session

from safecity.auth.roles import Role, Scope
from safecity.auth.scope import camera_condition, district_condition
from safecity.city.crime_register import PUBLIC_PLACE_KINDS, CrimeKind
from safecity.city.models import Camera, CameraStatus, District
from safecity.insights.models import CrimeRecord
from safecity.planning.placement.planning import (
    CrimeSample,
    DistrictShape,
    PlacementInputs,
    RequestedSite,
)
from safecity.planning.requests.models import CameraRequest, RequestStatus
from safecity.planning.requests.service import request_condition

OPEN_REQUEST_STATUSES = (
    RequestStatus.SUBMITTED,
    RequestStatus.UNDER_REVIEW,
    RequestStatus.APPROVED,
)
"""Requests still waiting for a camera: each is a candidate site and in the queue's plan."""
WATCHING_STATUSES = (CameraStatus.ACTIVE, CameraStatus.MAINTENANCE, CameraStatus.PLANNED)
"""Cameras whose range is spoken for: up, being repaired, or already decided on."""


class DistrictOutOfReach(LookupError):
    """The district asked for does not exist, is inactive, or is outside the scope."""


@dataclass(frozen=True)
class CrimeFilter:
    since: datetime | None = None
    until: datetime | None = None
    kinds: Collection[CrimeKind] | None = None
    """None: every kind."""
    public_only: bool = True


@dataclass(frozen=True)
class StoredCity:
    inputs: PlacementInputs
    district_names: dict[int, str]
    unplaced_records: int
    """Records that pass the filter but have no position (the register gave a district only):
    no camera can be placed for them, and no figure counts them."""


@dataclass(frozen=True)
class Planner:
    """Who asks for the plan: the requests it holds are those this user may see."""

    role: Role
    organization_id: int | None


def placement_city(
    session: Session,
    planner: Planner,
    scope: Scope,
    crimes: CrimeFilter,
    district_id: int | None = None,
) -> StoredCity:
    """What a plan for ``planner`` within ``scope`` (narrowed to ``district_id`` when given)
    reads."""
    district_rows = session.execute(
        select(District.id, District.name, District.geometry)
        .where(District.active, district_condition(scope, District.id))
        .where(District.id == district_id if district_id is not None else true())
        .order_by(District.id)
    ).all()
    if district_id is not None and not district_rows:
        raise DistrictOutOfReach(f"no district {district_id} within your access")
    districts = [DistrictShape(row.id, row.name, row.geometry) for row in district_rows]
    ids = [d.id for d in districts]

    cameras = np.array(
        session.execute(
            select(Camera.latitude, Camera.longitude).where(
                Camera.status.in_(WATCHING_STATUSES), camera_condition(scope)
            )
        ).all(),
        dtype=float,
    ).reshape(-1, 2)

    requests = [
        RequestedSite(
            id=row.id,
            number=row.number,
            district_id=row.district_id,
            latitude=row.latitude,
            longitude=row.longitude,
            urgency=row.urgency,
            submitted_at=row.submitted_at,
        )
        for row in session.execute(
            select(
                CameraRequest.id,
                CameraRequest.number,
                CameraRequest.district_id,
                CameraRequest.latitude,
                CameraRequest.longitude,
                CameraRequest.urgency,
                CameraRequest.submitted_at,
            ).where(
                CameraRequest.status.in_(OPEN_REQUEST_STATUSES),
                CameraRequest.latitude.is_not(None),
                CameraRequest.longitude.is_not(None),
                CameraRequest.district_id.in_(ids),
                district_condition(scope, CameraRequest.district_id),
                request_condition(planner.role, planner.organization_id, scope),
            )
        )
    ]

    condition = _crime_condition(scope, crimes, ids)
    placed = CrimeRecord.latitude.is_not(None) & CrimeRecord.longitude.is_not(None)
    rows = session.execute(
        select(CrimeRecord.latitude, CrimeRecord.longitude, CrimeRecord.kind).where(
            condition, placed
        )
    ).all()
    unplaced = session.scalar(
        select(func.count()).select_from(CrimeRecord).where(condition, ~placed)
    )
    sample = CrimeSample(
        latitudes=np.array([row.latitude for row in rows], dtype=float),
        longitudes=np.array([row.longitude for row in rows], dtype=float),
        kinds=[row.kind for row in rows],
    )
    return StoredCity(
        inputs=PlacementInputs(districts, cameras, requests, sample),
        district_names={d.id: d.name for d in districts},
        unplaced_records=int(unplaced or 0),
    )


def _crime_condition(scope: Scope, crimes: CrimeFilter, ids: list[int]) -> ColumnElement[bool]:
    parts = [CrimeRecord.district_id.in_(ids), district_condition(scope, CrimeRecord.district_id)]
    if crimes.public_only:
        parts.append(CrimeRecord.place_kind.in_(sorted(PUBLIC_PLACE_KINDS)))
    if crimes.kinds is not None:
        parts.append(CrimeRecord.kind.in_(sorted(crimes.kinds)))
    if crimes.since is not None:
        parts.append(CrimeRecord.occurred_at >= crimes.since)
    if crimes.until is not None:
        parts.append(CrimeRecord.occurred_at < crimes.until)
    return and_(*parts)
