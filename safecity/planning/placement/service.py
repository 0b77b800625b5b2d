"""A placement plan for a query, as the API answers it: the one call a screen, a report or a
command makes (``plan_placement``)."""

from __future__ import annotations

import time

import numpy as np
from sqlalchemy.orm import Session

from safecity.auth.roles import Role, Scope
from safecity.planning.placement.planning import (
    Coverage,
    PlacementPlan,
    PlacementSettings,
    geometry_coordinates,
)
from safecity.planning.placement.planning import (
    plan_placement as plan_city,
)
from safecity.planning.placement.projection import metres_per_degree
from safecity.planning.placement.schemas import (
    CameraSpot,
    ChosenSite,
    CoverageFigure,
    CoverageFigures,
    DemandPoint,
    DemandState,
    PlacementAnswer,
    PlacementQuery,
    QueuedRequest,
    RequestRef,
    SolverReport,
)
from safecity.planning.placement.store import CrimeFilter, Planner, StoredCity, placement_city

PLACEMENT_PLANNERS = frozenset({Role.ADMIN, Role.ANALYST, Role.AKIMAT})
"""Who plans placements: the city's administrators and analysts, and an akimat for the
districts it administers (its scope)."""


def plan_placement(
    session: Session, planner: Planner, scope: Scope, query: PlacementQuery
) -> PlacementAnswer:
    """The plan for ``query`` by ``planner`` within ``scope`` (the open requests are those
    ``planner`` may see on the requests board). Raises ``store.DistrictOutOfReach`` for a
    district the scope does not hold and ``planning.PlacementRefused`` for a query that cannot
    be met as asked (a budget above the candidates, a grid too fine)."""
    started = time.perf_counter()
    city = placement_city(
        session,
        planner,
        scope,
        CrimeFilter(query.since, query.until, query.kinds, query.public_only),
        query.district_id,
    )
    plan = plan_city(
        city.inputs,
        PlacementSettings(
            budget=query.budget,
            radius_m=query.radius_m,
            grid_m=query.grid_m,
            demand_cell_m=query.demand_cell_m,
            weights=query.weights,
            use_grid=query.use_grid,
            use_requests=query.use_requests,
            time_limit_s=query.time_limit_s,
        ),
    )
    return _answer(query, city, plan, time.perf_counter() - started)


def _answer(
    query: PlacementQuery, city: StoredCity, plan: PlacementPlan, seconds: float
) -> PlacementAnswer:
    names = city.district_names
    numbers = {ranked.request.id: ranked.request.number for ranked in plan.requests}
    total = plan.total

    def figure(coverage: Coverage) -> CoverageFigure:
        return CoverageFigure(
            weight=round(coverage.weight, 3),
            share=coverage.weight / total.weight if total.weight else 0.0,
            records=coverage.records,
            added_weight=round(coverage.weight - plan.before.weight, 3),
            added_records=coverage.records - plan.before.records,
        )

    added_plan = plan.plan.weight - plan.before.weight
    added_requests = plan.requests_plan.weight - plan.before.weight
    latitudes, longitudes = plan.projection.to_degrees(plan.demand.xy)
    return PlacementAnswer(
        query=query,
        weights=dict(plan.weights),
        unplaced_records=city.unplaced_records,
        coverage=CoverageFigures(
            total_weight=round(total.weight, 3),
            total_records=total.records,
            before=figure(plan.before),
            optimised=figure(plan.plan),
            requests=figure(plan.requests_plan),
            ratio=added_plan / added_requests if added_requests > 0 else None,
        ),
        sites=[
            ChosenSite(
                lat=round(site.latitude, 6),
                lon=round(site.longitude, 6),
                district_id=site.district_id,
                district=names.get(site.district_id, ""),
                request_id=site.request_id,
                new_weight=round(site.new_weight, 3),
                new_records=site.new_records,
                answers=[
                    RequestRef(
                        id=answer.request_id,
                        number=numbers[answer.request_id],
                        distance_m=answer.distance_m,
                    )
                    for answer in site.answers
                ],
            )
            for site in plan.sites
        ],
        requests=[
            QueuedRequest(
                id=ranked.request.id,
                number=ranked.request.number,
                lat=ranked.request.latitude,
                lon=ranked.request.longitude,
                district_id=ranked.request.district_id,
                district=names.get(ranked.request.district_id, ""),
                urgency=ranked.request.urgency,
                submitted_at=ranked.request.submitted_at,
                rank=ranked.rank,
                in_requests_plan=ranked.in_requests_plan,
                answered=ranked.answered,
                new_weight=round(ranked.new_weight, 3),
                new_records=ranked.new_records,
            )
            for ranked in plan.requests
        ],
        cameras=_cameras_near(city, query.radius_m),
        demand=[
            DemandPoint(
                lat=round(float(lat), 6),
                lon=round(float(lon), 6),
                weight=round(float(weight), 3),
                records=int(records),
                state=_state(before, optimised, requests),
            )
            for lat, lon, weight, records, before, optimised, requests in zip(
                latitudes,
                longitudes,
                plan.demand.weight,
                plan.demand.records,
                plan.covered_before,
                plan.covered_plan,
                plan.covered_requests,
                strict=True,
            )
        ],
        solver=SolverReport(
            status=plan.solution.status,
            candidates=plan.grid_candidates + plan.request_candidates,
            grid_candidates=plan.grid_candidates,
            request_candidates=plan.request_candidates,
            model_sites=plan.solution.model_sites,
            demand_points=len(plan.demand),
            model_demand=plan.solution.model_demand,
            build_s=round(plan.solution.build_seconds, 3),
            solve_s=round(plan.solution.solve_seconds, 3),
            total_s=round(seconds, 3),
        ),
    )


def _state(before: bool, optimised: bool, requests: bool) -> DemandState:
    if before:
        return DemandState.EXISTING
    if optimised and requests:
        return DemandState.BOTH
    if optimised:
        return DemandState.OPTIMISED
    return DemandState.REQUESTS if requests else DemandState.OPEN


def _cameras_near(city: StoredCity, radius_m: float) -> list[CameraSpot]:
    """The watching cameras on or near the planned districts (their ranges are drawn)."""
    cameras = city.inputs.cameras
    coordinates = [
        point
        for district in city.inputs.districts
        for point in geometry_coordinates(district.geometry)
    ]
    if not coordinates or cameras.size == 0:
        return []
    lons, lats = np.array(coordinates).T
    along_meridian, along_parallel = metres_per_degree(float(lats.mean()))
    margin_lat, margin_lon = radius_m / along_meridian, radius_m / along_parallel
    near = (
        (cameras[:, 0] >= lats.min() - margin_lat)
        & (cameras[:, 0] <= lats.max() + margin_lat)
        & (cameras[:, 1] >= lons.min() - margin_lon)
        & (cameras[:, 1] <= lons.max() + margin_lon)
    )
    return [CameraSpot(lat=float(lat), lon=float(lon)) for lat, lon in cameras[near]]
