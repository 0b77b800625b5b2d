"""POST /api/planning/placement: where a budget of new cameras covers the most weighted crime.

A computation, not a change: nothing is stored and nothing audited. Administrators and
analysts plan for the city, an akimat for its district; the figures and sites are cut to the
caller's scope, and the requests to those the caller sees on the requests board (an akimat
its own organization's, never the police's).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status

from safecity.api.deps import CurrentScope, CurrentUser, DbSession, require_role
from safecity.planning.placement.planning import PlacementRefused
from safecity.planning.placement.schemas import PlacementAnswer, PlacementQuery
from safecity.planning.placement.service import PLACEMENT_PLANNERS, plan_placement
from safecity.planning.placement.store import DistrictOutOfReach, Planner

router = APIRouter(
    prefix="/api/planning",
    tags=["planning"],
    dependencies=[Depends(require_role(*PLACEMENT_PLANNERS))],
)


@router.post(
    "/placement",
    response_model=PlacementAnswer,
    responses={422: {"description": "A bad query, or one that cannot be planned as asked."}},
)
def placement(
    query: PlacementQuery, session: DbSession, user: CurrentUser, scope: CurrentScope
) -> PlacementAnswer:
    """Choose `budget` sites among a grid over your districts and the open requests' points
    that cover the most weighted crime not yet in an existing camera's range (the maximal
    covering location problem, solved by CBC), and compare with the requests' own plan (the
    first `budget` requests by urgency, then submission). Takes seconds over a whole city."""
    try:
        planner = Planner(user.role, user.organization_id)
        return plan_placement(session, planner, scope, query)
    except (PlacementRefused, DistrictOutOfReach) as refused:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(refused)) from None
