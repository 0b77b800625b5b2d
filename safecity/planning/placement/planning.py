"""One placement plan for a city: the optimised sites, the requests' own plan, and coverage
before and after each. Pure: the city's districts, cameras, open requests and crime records
in, a ``PlacementPlan`` out.

Demand already in an existing camera's range is covered and stays covered: it weighs nothing
for the new sites (so no site earns credit for it), and it counts once in every "after"
figure. The requests' plan is what the queue would install by itself: the open requests'
points in order of urgency, then of submission, the first ``budget`` of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csc_matrix
from scipy.spatial import cKDTree

from safecity.city.crime_register import CrimeKind
from safecity.planning.placement.candidates import area_in_metres, grid_points, grid_size
from safecity.planning.placement.coverage import coverage_matrix, covered, covered_by_sites
from safecity.planning.placement.demand import DemandPoints, gather_demand, kind_weights
from safecity.planning.placement.mclp import CoveringSolution, ModelTooLarge, solve_mclp
from safecity.planning.placement.projection import LocalProjection
from safecity.planning.requests.models import Urgency

MAX_GRID_POINTS = 500_000
"""A grid finer than this over the districts is refused: 500,000 points (a 33 m grid over a
550 km² city) plan in a few seconds; a million more would be memory spent on precision a
camera's range does not have."""

MAX_COVERAGE_PAIRS = 500_000
"""A plan whose coverage matrix, after the exact reduction (``mclp``), holds more
site-covers-demand pairs than this is refused before its model is written: CBC's time limit
does not bound writing the model and its file, which grow with the pairs. Measured on the
demo city (a year of records, 2 shared cores): its defaults (100 m range and grid) hold
10,926 pairs (14,408 with no existing camera) and plan in about a second; a 300 m range
149,172 pairs, 4 s; a 1,000 m range over a 100 m grid with no existing camera 1,955,426
pairs, 12 s (30 s and more on a busy machine)."""

URGENCY_ORDER: Mapping[Urgency, int] = {
    Urgency.URGENT: 0,
    Urgency.HIGH: 1,
    Urgency.NORMAL: 2,
    Urgency.LOW: 3,
}


class PlacementRefused(ValueError):
    """A query that cannot be planned as asked (a budget above the candidates, a grid too
    fine, a model too large); the message says what to change."""


@dataclass(frozen=True)
class DistrictShape:
    id: int
    name: str
    geometry: Mapping[str, Any]
    """GeoJSON (Multi)Polygon, lon/lat."""


@dataclass(frozen=True)
class RequestedSite:
    """An open installation request with a map point."""

    id: int
    number: str
    district_id: int
    latitude: float
    longitude: float
    urgency: Urgency
    submitted_at: datetime


@dataclass(frozen=True)
class CrimeSample:
    """The records to cover, as parallel sequences."""

    latitudes: NDArray[np.float64]
    longitudes: NDArray[np.float64]
    kinds: Sequence[CrimeKind]

    def __post_init__(self) -> None:
        if not (len(self.latitudes) == len(self.longitudes) == len(self.kinds)):
            raise ValueError("one latitude, longitude and kind per record")

    def __len__(self) -> int:
        return len(self.kinds)


@dataclass(frozen=True)
class PlacementInputs:
    districts: Sequence[DistrictShape]
    """The districts to plan in: the grid lies inside them."""
    cameras: NDArray[np.float64]
    """(n, 2) latitude, longitude of the cameras that already watch."""
    requests: Sequence[RequestedSite]
    crimes: CrimeSample


@dataclass(frozen=True)
class PlacementSettings:
    budget: int
    radius_m: float = 100.0
    grid_m: float = 100.0
    demand_cell_m: float = 25.0
    weights: Mapping[CrimeKind, float] = field(default_factory=dict)
    """Overrides of ``demand.DEFAULT_KIND_WEIGHTS``."""
    use_grid: bool = True
    use_requests: bool = True
    time_limit_s: float = 20.0
    max_pairs: int | None = None
    """None: ``MAX_COVERAGE_PAIRS``."""


@dataclass(frozen=True)
class Coverage:
    weight: float
    records: int


@dataclass(frozen=True)
class RequestAnswer:
    request_id: int
    distance_m: float


@dataclass(frozen=True)
class PlannedSite:
    latitude: float
    longitude: float
    district_id: int
    request_id: int | None
    """Set where the site is a request's own point."""
    new_weight: float
    """Weight in its range that no existing camera covers (neighbouring new sites may share
    some of it; the plan's figures count each point once)."""
    new_records: int
    answers: tuple[RequestAnswer, ...]
    """Open requests whose point lies in its range, nearest first."""


@dataclass(frozen=True)
class RankedRequest:
    request: RequestedSite
    rank: int
    """1 = first in the queue (most urgent, then earliest)."""
    in_requests_plan: bool
    answered: bool
    """A site of the optimised plan has its point in range."""
    new_weight: float
    new_records: int


@dataclass(frozen=True)
class PlacementPlan:
    projection: LocalProjection
    weights: Mapping[CrimeKind, float]
    demand: DemandPoints
    covered_before: NDArray[np.bool_]
    covered_plan: NDArray[np.bool_]
    """By existing cameras or the optimised sites."""
    covered_requests: NDArray[np.bool_]
    """By existing cameras or the requests' plan."""
    before: Coverage
    plan: Coverage
    requests_plan: Coverage
    sites: tuple[PlannedSite, ...]
    requests: tuple[RankedRequest, ...]
    grid_candidates: int
    request_candidates: int
    solution: CoveringSolution

    @property
    def total(self) -> Coverage:
        return Coverage(self.demand.total_weight, int(self.demand.records.sum()))


def queue_order(requests: Sequence[RequestedSite]) -> list[RequestedSite]:
    """The requests' own ranking: most urgent first, then earliest submitted, then number."""
    return sorted(
        requests, key=lambda r: (URGENCY_ORDER[r.urgency], r.submitted_at, r.number, r.id)
    )


def plan_placement(inputs: PlacementInputs, settings: PlacementSettings) -> PlacementPlan:
    """The plan for ``inputs``; raises PlacementRefused with what to change."""
    weights = kind_weights(settings.weights)
    projection = _projection(inputs)
    areas = [area_in_metres(d.id, d.geometry, projection) for d in inputs.districts]
    expected = grid_size(areas, settings.grid_m) if settings.use_grid else 0
    if expected > MAX_GRID_POINTS:
        area = sum(a.square_metres for a in areas)
        finest = math.ceil(math.sqrt(area / MAX_GRID_POINTS))
        raise PlacementRefused(
            f"a {settings.grid_m:g} m grid over {area / 1e6:,.0f} km² is about {expected:,} "
            f"candidate points, more than the {MAX_GRID_POINTS:,} allowed: use a spacing of "
            f"at least {finest} m"
        )
    grid = grid_points(areas if settings.use_grid else [], settings.grid_m)
    requests = list(inputs.requests) if settings.use_requests else []
    candidates = len(grid) + len(requests)
    if settings.budget > candidates:
        raise PlacementRefused(
            f"a budget of {settings.budget} is more than the {candidates:,} candidate sites "
            f"({len(grid):,} grid points, {len(requests)} requested points): lower the "
            "budget, use a finer grid or include the requests"
        )

    crimes = inputs.crimes
    demand = gather_demand(
        projection.to_metres(crimes.latitudes, crimes.longitudes),
        np.array([weights[CrimeKind(kind)] for kind in crimes.kinds], dtype=float),
        settings.demand_cell_m,
    )
    cameras = projection.to_metres(inputs.cameras[:, 0], inputs.cameras[:, 1])
    before = covered(demand.xy, cameras, settings.radius_m)
    reach = _Reach(demand, before)

    sites = _Candidates(
        np.vstack([grid.xy, _xy_of(projection, requests)]),
        np.concatenate([grid.district_id, [r.district_id for r in requests]]).astype(np.int64),
        [*([None] * len(grid)), *requests],
    )
    matrix = coverage_matrix(demand.xy, sites.xy, settings.radius_m)
    # Of interchangeable sites the model names a requested point rather than a grid point.
    preference = np.array([r is not None for r in sites.request], dtype=float)
    try:
        solution = solve_mclp(
            matrix,
            reach.open_weight,
            settings.budget,
            time_limit_s=settings.time_limit_s,
            preference=preference,
            max_pairs=MAX_COVERAGE_PAIRS if settings.max_pairs is None else settings.max_pairs,
        )
    except ModelTooLarge as large:
        raise PlacementRefused(
            f"too large a plan: a {settings.radius_m:g} m range over a {settings.grid_m:g} m "
            f"grid gives {large.pairs:,} site-covers-record pairs ({large.sites:,} sites, "
            f"{large.demand:,} demand points), more than the {large.limit:,} that plan in "
            "seconds: use a coarser grid, a smaller camera range, or one district"
        ) from None
    after_plan = before | covered_by_sites(matrix, solution.chosen)

    queue = queue_order(inputs.requests)
    queue_matrix = coverage_matrix(demand.xy, _xy_of(projection, queue), settings.radius_m)
    in_plan = np.arange(min(settings.budget, len(queue)))
    after_requests = before | covered_by_sites(queue_matrix, in_plan)

    planned = _planned_sites(
        solution, sites, matrix.tocsc(), reach, queue, _xy_of(projection, queue), projection,
        settings.radius_m,
    )  # fmt: skip
    answered = {answer.request_id for site in planned for answer in site.answers}
    by_request = queue_matrix.tocsc()
    ranked = []
    for rank, request in enumerate(queue, start=1):
        weight, records = reach.new(by_request[:, rank - 1].nonzero()[0])
        ranked.append(
            RankedRequest(
                request=request,
                rank=rank,
                in_requests_plan=rank <= settings.budget,
                answered=request.id in answered,
                new_weight=weight,
                new_records=records,
            )
        )
    return PlacementPlan(
        projection=projection,
        weights=weights,
        demand=demand,
        covered_before=before,
        covered_plan=after_plan,
        covered_requests=after_requests,
        before=_coverage(demand, before),
        plan=_coverage(demand, after_plan),
        requests_plan=_coverage(demand, after_requests),
        sites=planned,
        requests=tuple(ranked),
        grid_candidates=len(grid),
        request_candidates=len(requests),
        solution=solution,
    )


@dataclass(frozen=True)
class _Candidates:
    """Every candidate site: the grid's points, then the requested points."""

    xy: NDArray[np.float64]
    district_id: NDArray[np.int64]
    request: Sequence[RequestedSite | None]


@dataclass(frozen=True)
class _Reach:
    """What a site would add: the weight and records in its range not covered already."""

    demand: DemandPoints
    before: NDArray[np.bool_]

    @property
    def open_weight(self) -> NDArray[np.float64]:
        return np.where(self.before, 0.0, self.demand.weight)

    def new(self, rows: NDArray[np.int64]) -> tuple[float, int]:
        fresh = rows[~self.before[rows]]
        return float(self.demand.weight[fresh].sum()), int(self.demand.records[fresh].sum())


def _projection(inputs: PlacementInputs) -> LocalProjection:
    latitudes: list[float] = []
    longitudes: list[float] = []
    for district in inputs.districts:
        for lon, lat in geometry_coordinates(district.geometry):
            latitudes.append(lat)
            longitudes.append(lon)
    if not latitudes:
        latitudes, longitudes = list(inputs.crimes.latitudes), list(inputs.crimes.longitudes)
    if not latitudes:
        raise PlacementRefused("there are no districts to plan in")
    return LocalProjection.around(latitudes, longitudes)


def geometry_coordinates(geometry: Mapping[str, Any]) -> list[tuple[float, float]]:
    """Every (lon, lat) of a GeoJSON (Multi)Polygon's rings."""
    polygons = geometry.get("coordinates", [])
    if geometry.get("type") == "Polygon":
        polygons = [polygons]
    return [(float(p[0]), float(p[1])) for polygon in polygons for ring in polygon for p in ring]


def _xy_of(projection: LocalProjection, requests: Sequence[RequestedSite]) -> NDArray[np.float64]:
    return projection.to_metres([r.latitude for r in requests], [r.longitude for r in requests])


def _coverage(demand: DemandPoints, mask: NDArray[np.bool_]) -> Coverage:
    return Coverage(float(demand.weight[mask].sum()), int(demand.records[mask].sum()))


def _planned_sites(
    solution: CoveringSolution,
    candidates: _Candidates,
    matrix: csc_matrix,
    reach: _Reach,
    requests: Sequence[RequestedSite],
    request_xy: NDArray[np.float64],
    projection: LocalProjection,
    radius_m: float,
) -> tuple[PlannedSite, ...]:
    tree = cKDTree(request_xy) if requests else None
    chosen_xy = candidates.xy[solution.chosen]
    latitudes, longitudes = projection.to_degrees(chosen_xy)
    sites: list[PlannedSite] = []
    for index, column in enumerate(solution.chosen.tolist()):
        weight, records = reach.new(matrix[:, column].nonzero()[0])
        answers: list[RequestAnswer] = []
        if tree is not None:
            for near in tree.query_ball_point(chosen_xy[index], radius_m * (1 + 1e-9)):
                distance = float(np.hypot(*(request_xy[near] - chosen_xy[index])))
                answers.append(RequestAnswer(requests[near].id, round(distance, 1)))
        own = candidates.request[column]
        sites.append(
            PlannedSite(
                latitude=float(latitudes[index]),
                longitude=float(longitudes[index]),
                district_id=int(candidates.district_id[column]),
                request_id=own.id if own is not None else None,
                new_weight=weight,
                new_records=records,
                answers=tuple(sorted(answers, key=lambda a: (a.distance_m, a.request_id))),
            )
        )
    sites.sort(key=lambda s: (-s.new_weight, s.latitude, s.longitude))
    return tuple(sites)
