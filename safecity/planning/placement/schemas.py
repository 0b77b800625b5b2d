"""What POST /api/planning/placement accepts and answers (and ``service.plan_placement``
returns to any caller in the package)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from safecity.bounds import Id, Moment
from safecity.city.crime_register import CrimeKind
from safecity.planning.placement.demand import DEFAULT_KIND_WEIGHTS
from safecity.planning.placement.mclp import SolverStatus
from safecity.planning.requests.models import Urgency

MAX_BUDGET = 500
Weight = Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)]


class PlacementQuery(BaseModel):
    """A budget of new cameras and how to judge where they go."""

    model_config = ConfigDict(extra="forbid")

    budget: int = Field(
        10, ge=1, le=MAX_BUDGET, title="New cameras", description="How many sites to choose."
    )
    radius_m: float = Field(
        100.0,
        ge=10,
        le=1000,
        allow_inf_nan=False,
        title="Camera range (m)",
        description="A camera, existing or new, covers what lies within this distance. The "
        "registry has no field of view per camera, so one range stands for all of them; 100 m "
        "is what a street camera identifies people at by day.",
    )
    grid_m: float = Field(
        100.0,
        ge=10,
        le=5000,
        allow_inf_nan=False,
        title="Grid spacing (m)",
        description="Candidate sites on a regular grid this far apart inside the districts. "
        "At the camera range (the default) the ranges of the grid's points cover every spot; "
        "half of it finds a few per cent more in a city (bench/placement.py) at twice the time.",
    )
    demand_cell_m: float = Field(
        25.0,
        ge=5,
        le=500,
        allow_inf_nan=False,
        title="Demand cell (m)",
        description="Records within one square cell this wide count as one point (at their "
        "weighted centroid).",
    )
    since: Moment | None = Field(None, description="Records from this moment on.")
    until: Moment | None = Field(None, description="Records before this moment.")
    kinds: list[CrimeKind] | None = Field(
        None, min_length=1, max_length=len(CrimeKind), description="Only these kinds; null: all."
    )
    public_only: bool = Field(
        True,
        description="Only crimes in public places (streets included), the ones a street camera "
        "can see and the programme reports.",
    )
    weights: dict[CrimeKind, Weight] = Field(
        default_factory=dict,
        description="Weights of kinds, replacing the defaults: "
        + ", ".join(f"{kind.value} {weight:g}" for kind, weight in DEFAULT_KIND_WEIGHTS.items())
        + ".",
    )
    district_id: Id | None = Field(None, description="Plan in this district only.")
    use_grid: bool = Field(True, description="Candidate sites on the grid.")
    use_requests: bool = Field(True, description="The open requests' points as candidate sites.")
    time_limit_s: float = Field(
        20.0,
        ge=1,
        le=60,
        allow_inf_nan=False,
        description="The solver stops here with its best choice so far (at least greedy's).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> PlacementQuery:
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise ValueError("until must be after since")
        if not (self.use_grid or self.use_requests):
            raise ValueError("use the grid, the requests, or both as candidate sites")
        return self


class CoverageFigure(BaseModel):
    weight: float = Field(description="Weighted demand covered.")
    share: float = Field(description="Of all weighted demand, 0 to 1.")
    records: int = Field(description="Crime records covered.")
    added_weight: float = Field(description="Covered here but not by existing cameras.")
    added_records: int


class CoverageFigures(BaseModel):
    total_weight: float
    total_records: int
    before: CoverageFigure = Field(description="By the cameras that already watch.")
    optimised: CoverageFigure = Field(description="Existing cameras plus the chosen sites.")
    requests: CoverageFigure = Field(description="Existing cameras plus the requests' plan.")
    ratio: float | None = Field(
        description="Weight the chosen sites add over what the requests' plan adds; null "
        "when the requests' plan adds nothing."
    )


class RequestRef(BaseModel):
    id: int
    number: str
    distance_m: float = Field(description="From the chosen site to the requested point.")


class ChosenSite(BaseModel):
    lat: float
    lon: float
    district_id: int
    district: str
    request_id: int | None = Field(description="Set where the site is a request's own point.")
    new_weight: float = Field(description="Weight in its range no existing camera covers.")
    new_records: int
    answers: list[RequestRef] = Field(description="Open requests whose point is in its range.")


class QueuedRequest(BaseModel):
    id: int
    number: str
    lat: float
    lon: float
    district_id: int
    district: str
    urgency: Urgency
    submitted_at: datetime
    rank: int = Field(description="Place in the queue: urgency, then submission.")
    in_requests_plan: bool = Field(description="Among the first `budget` of the queue.")
    answered: bool = Field(description="A chosen site has its point in range.")
    new_weight: float
    new_records: int


class DemandState(enum.StrEnum):
    EXISTING = "existing"
    """Covered by a camera that already watches."""
    BOTH = "both"
    """Newly covered by both plans."""
    OPTIMISED = "optimised"
    """Newly covered by the chosen sites only."""
    REQUESTS = "requests"
    """Newly covered by the requests' plan only."""
    OPEN = "open"
    """Covered by neither."""


class DemandPoint(BaseModel):
    lat: float
    lon: float
    weight: float
    records: int
    state: DemandState


class CameraSpot(BaseModel):
    lat: float
    lon: float


class SolverReport(BaseModel):
    status: SolverStatus
    candidates: int = Field(description="Grid points plus requested points.")
    grid_candidates: int
    request_candidates: int
    model_sites: int = Field(description="Sites left in the model after the exact reduction.")
    demand_points: int = Field(description="Demand cells with records.")
    model_demand: int = Field(description="Demand points in the model after the reduction.")
    build_s: float
    solve_s: float
    total_s: float = Field(description="The whole plan, reading the tables included.")


class PlacementAnswer(BaseModel):
    query: PlacementQuery
    weights: dict[CrimeKind, float] = Field(description="The weights used.")
    unplaced_records: int = Field(
        description="Records that pass the filters but have only a district, no position: "
        "no figure counts them."
    )
    coverage: CoverageFigures
    sites: list[ChosenSite] = Field(description="The chosen sites, most new weight first.")
    requests: list[QueuedRequest] = Field(description="The open requests in queue order.")
    cameras: list[CameraSpot] = Field(description="The cameras that already watch (in scope).")
    demand: list[DemandPoint]
    solver: SolverReport
