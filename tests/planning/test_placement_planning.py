"""A placement plan for a small city in code: existing coverage, the requests' queue, the
figures before and after, and the queries that are refused. Pure: no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from safecity.city.crime_register import CrimeKind
from safecity.planning.placement.candidates import area_in_metres, grid_points, grid_size
from safecity.planning.placement.demand import DEFAULT_KIND_WEIGHTS, gather_demand, kind_weights
from safecity.planning.placement.planning import (
    MAX_GRID_POINTS,
    CrimeSample,
    DistrictShape,
    PlacementInputs,
    PlacementRefused,
    PlacementSettings,
    RequestedSite,
    plan_placement,
    queue_order,
)
from safecity.planning.placement.projection import LocalProjection
from safecity.planning.requests.models import Urgency
from tests.factories import square

# One district of about 2.2 × 2.2 km near Astana; positions below are offsets in metres from
# its centre.
BOUNDS = (71.40, 51.14, 71.432, 51.16)
CENTRE = LocalProjection((51.14 + 51.16) / 2, (71.40 + 71.432) / 2)
DISTRICT = DistrictShape(1, "Central", square(BOUNDS))
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _at(east_m: float, north_m: float) -> tuple[float, float]:
    latitudes, longitudes = CENTRE.to_degrees([[east_m, north_m]])
    return float(latitudes[0]), float(longitudes[0])


def _crimes(*clusters: tuple[float, float, int, CrimeKind]) -> CrimeSample:
    """``count`` records of ``kind`` within a few metres of each (east, north) spot."""
    rng = np.random.default_rng(7)
    latitudes, longitudes, kinds = [], [], []
    for east, north, count, kind in clusters:
        for _ in range(count):
            lat, lon = _at(east + rng.uniform(-5, 5), north + rng.uniform(-5, 5))
            latitudes.append(lat)
            longitudes.append(lon)
            kinds.append(kind)
    return CrimeSample(np.array(latitudes), np.array(longitudes), kinds)


def _request(
    request_id: int, east: float, north: float, urgency: Urgency, days: int
) -> RequestedSite:
    lat, lon = _at(east, north)
    return RequestedSite(
        request_id, f"REQ-2026-{request_id:04d}", 1, lat, lon, urgency, T0 + timedelta(days=days)
    )


def _cameras(*spots: tuple[float, float]) -> np.ndarray:
    return np.array([_at(east, north) for east, north in spots]).reshape(-1, 2)


def test_demand_under_an_existing_camera_is_not_counted_again() -> None:
    # A big cluster that a camera already watches, and a smaller one that nobody watches.
    inputs = PlacementInputs(
        districts=[DISTRICT],
        cameras=_cameras((-500, 0)),
        requests=[],
        crimes=_crimes((-500, 0, 30, CrimeKind.ROBBERY), (600, 300, 10, CrimeKind.THEFT)),
    )
    assert len(inputs.crimes) == 40

    plan = plan_placement(inputs, PlacementSettings(budget=1, grid_m=50))

    assert plan.total.weight == pytest.approx(30 * 3.0 + 10 * 1.5)
    assert plan.before.weight == pytest.approx(90.0) and plan.before.records == 30
    # The one new site goes to the cluster nobody watches, and adds only that cluster.
    (site,) = plan.sites
    assert CENTRE.to_metres(site.latitude, site.longitude)[0] == pytest.approx([600, 300], abs=100)
    assert site.new_weight == pytest.approx(15.0) and site.new_records == 10
    assert plan.plan.weight == pytest.approx(105.0) and plan.plan.records == 40
    assert plan.solution.covered_weight == pytest.approx(15.0)


def test_a_site_over_covered_demand_earns_nothing_for_it() -> None:
    # Only the watched cluster has records: a new camera there adds nothing, and the "after"
    # figure stays the "before" figure instead of counting the cluster twice.
    inputs = PlacementInputs(
        districts=[DISTRICT],
        cameras=_cameras((0, 0)),
        requests=[_request(1, 10, 0, Urgency.URGENT, 0)],
        crimes=_crimes((0, 0, 20, CrimeKind.ASSAULT)),
    )

    plan = plan_placement(inputs, PlacementSettings(budget=1, grid_m=200))

    assert plan.before.weight == pytest.approx(60.0)
    assert plan.plan.weight == pytest.approx(60.0)
    assert plan.requests_plan.weight == pytest.approx(60.0)
    assert plan.requests[0].new_weight == 0.0 and plan.requests[0].new_records == 0
    assert plan.sites == ()


def test_the_requests_plan_follows_urgency_then_submission() -> None:
    requests = [
        _request(1, -800, -800, Urgency.LOW, 0),
        _request(2, 0, 0, Urgency.NORMAL, 5),
        _request(3, 500, 500, Urgency.URGENT, 9),
        _request(4, -500, 500, Urgency.NORMAL, 2),
        _request(5, 800, -600, Urgency.HIGH, 30),
    ]

    assert [r.id for r in queue_order(requests)] == [3, 5, 4, 2, 1]


def test_the_optimiser_and_the_requests_plan_are_compared_on_the_same_demand() -> None:
    # The most urgent request sits where little happens; a low-urgency one and an open spot
    # are where most crime is. With a budget of 2 the queue takes the two most urgent.
    inputs = PlacementInputs(
        districts=[DISTRICT],
        cameras=_cameras(),
        requests=[
            _request(1, -700, -700, Urgency.URGENT, 0),
            _request(2, 300, 300, Urgency.HIGH, 1),
            _request(3, 0, 0, Urgency.LOW, 2),
        ],
        crimes=_crimes(
            (-700, -700, 2, CrimeKind.THEFT),
            (300, 300, 4, CrimeKind.THEFT),
            (0, 0, 20, CrimeKind.ROBBERY),
            (700, -400, 12, CrimeKind.ASSAULT),
        ),
    )

    plan = plan_placement(inputs, PlacementSettings(budget=2, grid_m=100))

    assert plan.before.weight == 0.0
    ranked = {r.request.id: r for r in plan.requests}
    assert [r.request.id for r in plan.requests if r.in_requests_plan] == [1, 2]
    assert plan.requests_plan.weight == pytest.approx((2 + 4) * 1.5)
    assert plan.plan.weight == pytest.approx(20 * 3.0 + 12 * 3.0)
    # The optimiser takes the low-urgency request's own point (a requested point is named
    # over an equal grid point) and says so.
    assert any(site.request_id == 3 for site in plan.sites)
    assert ranked[3].answered and not ranked[1].answered
    assert ranked[3].rank == 3 and not ranked[3].in_requests_plan


def test_a_budget_above_the_candidates_is_refused() -> None:
    inputs = PlacementInputs(
        districts=[DISTRICT],
        cameras=_cameras(),
        requests=[_request(1, 0, 0, Urgency.HIGH, 0)],
        crimes=_crimes((0, 0, 3, CrimeKind.THEFT)),
    )

    with pytest.raises(PlacementRefused, match=r"budget of 2 is more than the 1 candidate"):
        plan_placement(inputs, PlacementSettings(budget=2, use_grid=False))


def test_a_grid_finer_than_the_limit_is_refused_with_the_spacing_to_use() -> None:
    areas = [area_in_metres(1, DISTRICT.geometry, CENTRE)]
    fine = 2.0
    assert grid_size(areas, fine) > MAX_GRID_POINTS
    inputs = PlacementInputs([DISTRICT], _cameras(), [], _crimes((0, 0, 1, CrimeKind.THEFT)))

    with pytest.raises(PlacementRefused, match=r"use a spacing of at least \d+ m"):
        plan_placement(inputs, PlacementSettings(budget=1, grid_m=fine))


def test_a_plan_with_more_coverage_pairs_than_the_cap_is_refused_before_its_model() -> None:
    inputs = PlacementInputs(
        [DISTRICT],
        _cameras(),
        [],
        _crimes((0, 0, 3, CrimeKind.THEFT), (400, 0, 2, CrimeKind.ASSAULT)),
    )
    wide = PlacementSettings(budget=1, radius_m=300, grid_m=100)
    pairs = plan_placement(inputs, wide).solution
    assert pairs.model_sites > 1  # the reduced model still holds several pairs

    with pytest.raises(PlacementRefused, match=r"pairs .* more than the 1 that plan in seconds"):
        plan_placement(inputs, replace(wide, max_pairs=1))
    with pytest.raises(PlacementRefused, match=r"coarser grid, a smaller camera range, or one"):
        plan_placement(inputs, replace(wide, max_pairs=1))


def test_grid_points_lie_inside_the_district_at_the_spacing() -> None:
    area = area_in_metres(1, DISTRICT.geometry, CENTRE)

    grid = grid_points([area], 100.0)

    assert len(grid) == pytest.approx(area.square_metres / 100.0**2, rel=0.05)
    assert len(grid) == pytest.approx(grid_size([area], 100.0), rel=0.05)
    assert set(grid.district_id.tolist()) == {1}
    xs = np.unique(grid.xy[:, 0])
    assert np.allclose(np.diff(xs), 100.0)


def test_projection_keeps_distances_within_a_tenth_of_a_percent() -> None:
    north = CENTRE.to_metres([CENTRE.latitude + 0.01], [CENTRE.longitude])[0]
    east = CENTRE.to_metres([CENTRE.latitude], [CENTRE.longitude + 0.01])[0]
    # At 51.15° N, 0.01° of latitude is 1,112.5 m and of longitude 699.7 m (WGS 84
    # geodesics, pyproj's Geod.inv).
    assert north[1] == pytest.approx(1112.5, rel=0.001)
    assert east[0] == pytest.approx(699.7, rel=0.001)
    lat, lon = CENTRE.to_degrees([[123.0, -456.0]])
    assert CENTRE.to_metres(lat, lon)[0] == pytest.approx([123.0, -456.0])


def test_demand_cells_sum_weights_at_their_weighted_centroid() -> None:
    demand = gather_demand([[1.0, 1.0], [3.0, 1.0], [30.0, 30.0]], [1.0, 3.0, 2.0], 10.0)

    assert len(demand) == 2
    assert demand.weight.tolist() == [4.0, 2.0]
    assert demand.records.tolist() == [2, 1]
    assert demand.xy[0].tolist() == [2.5, 1.0]


def test_every_kind_has_a_default_weight_and_a_query_may_replace_it() -> None:
    assert set(DEFAULT_KIND_WEIGHTS) == set(CrimeKind)
    weights = kind_weights({CrimeKind.FRAUD: 2.0})
    assert weights[CrimeKind.FRAUD] == 2.0
    assert weights[CrimeKind.ROBBERY] == DEFAULT_KIND_WEIGHTS[CrimeKind.ROBBERY]
    with pytest.raises(ValueError, match="0 or more"):
        kind_weights({CrimeKind.THEFT: -1.0})
