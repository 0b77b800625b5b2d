"""GET /api/insights/hotspots and /api/insights/near-repeat, on the caller's districts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from safecity.api.deps import CurrentScope, DbSession
from safecity.insights.hotspots.grid import GridTooLarge
from safecity.insights.hotspots.near_repeat import TooManyPairs
from safecity.insights.hotspots.schemas import HotspotMap, HotspotQuery, NearRepeat, NearRepeatQuery
from safecity.insights.hotspots.service import (
    UnknownDistricts,
    hotspot_analysis,
    near_repeat_analysis,
)

router = APIRouter(prefix="/api/insights", tags=["insights"])


@router.get("/hotspots", response_model=HotspotMap, response_model_by_alias=True)
def hotspots(
    session: DbSession, scope: CurrentScope, query: Annotated[HotspotQuery, Query()]
) -> HotspotMap:
    """Where crimes concentrate in your districts: a GeoJSON FeatureCollection of grid cells
    with each cell's crimes, kernel density (per km²), Getis-Ord Gi* z and p, p adjusted for
    the false discovery rate, and class (hot/cold at 99/95/90% or not significant). Crimes
    with only a district are counted in the summary, not mapped. 422 when the cell size would
    make more than 60,000 cells."""
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
    space and time observed against those expected, with a seeded permutation p-value."""
    try:
        return near_repeat_analysis(session, scope, query)
    except UnknownDistricts as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error)) from error
    except TooManyPairs as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from error
