"""GET /api/insights/hotspots and /api/insights/near-repeat, on the caller's districts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from safecity.api.deps import CurrentScope, CurrentUser, DbSession
from safecity.auth.roles import Role
from safecity.insights.hotspots.grid import GridTooLarge
from safecity.insights.hotspots.near_repeat import TooManyPairs, TooMuchWork
from safecity.insights.hotspots.schemas import HotspotMap, HotspotQuery, NearRepeat, NearRepeatQuery
from safecity.insights.hotspots.service import (
    UnknownDistricts,
    hotspot_analysis,
    near_repeat_analysis,
)

HOTSPOT_READERS = frozenset({Role.ADMIN, Role.ANALYST, Role.AKIMAT, Role.POLICE_DUTY_OFFICER})
"""Who may analyse crime records, each within their districts: those who plan and judge with
figures, and the police who act on them. Not a utility company (its scope is its own sites,
not districts) nor an OCC operator (live video, not crime records)."""


def _hotspot_reader(user: CurrentUser) -> None:
    if user.role not in HOTSPOT_READERS:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="crime hotspots and near repeats are for administrators, analysts, akimats"
            " and police duty officers, each within their districts; your role"
            f" ({user.role.label}) may not analyse crime records",
        )


router = APIRouter(
    prefix="/api/insights", tags=["insights"], dependencies=[Depends(_hotspot_reader)]
)


@router.get("/hotspots", response_model=HotspotMap, response_model_by_alias=True)
def hotspots(
    session: DbSession, scope: CurrentScope, query: Annotated[HotspotQuery, Query()]
) -> HotspotMap:
    """Where crimes concentrate in your districts: a GeoJSON FeatureCollection of grid cells
    with each cell's crimes, kernel density (per km²), Getis-Ord Gi* z and p, p adjusted for
    the false discovery rate, and class (hot/cold at 99/95/90% or not significant). Crimes
    with only a district are counted in the summary, not mapped. 422 when the cell size would
    make more than 40,000 cells; 403 for roles outside ``HOTSPOT_READERS``."""
    try:
        return hotspot_analysis(session, scope, query)
    except UnknownDistricts as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error)) from error
    except GridTooLarge as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from error


@router.get("/near-repeat", response_model=NearRepeat)
def near_repeat(
    session: DbSession, scope: CurrentScope, query: Annotated[NearRepeatQuery, Query()]
) -> NearRepeat:
    """Do crimes in your districts repeat nearby soon after? The Knox test: pairs close in
    space and time observed against those expected, with a seeded permutation p-value. 422
    when permutations × (close pairs + crimes) passes ``near_repeat.MAX_PERMUTATION_WORK``."""
    try:
        return near_repeat_analysis(session, scope, query)
    except UnknownDistricts as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error)) from error
    except (TooManyPairs, TooMuchWork) as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from error
