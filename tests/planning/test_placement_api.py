"""POST /api/planning/placement on SQLite and PostgreSQL: who may plan, what each sees, and
the queries that are refused with a reason.

The city: West and East side by side (tests/factories.py). In the west a robbery cluster
under an existing camera and an assault cluster nobody watches; in the east a theft
cluster nobody watches and a camera far from it, and one right at the border whose range
reaches a little vandalism cluster in the west (an akimat of the west may not see it, so for
the akimat that cluster is open). Three open requests (and one rejected):
west urgent where nothing happens, east low right at the theft cluster, west normal by the
assault cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.models import CameraStatus, District, Organization, OrganizationKind
from safecity.insights.models import CrimeRecord
from safecity.planning.placement import planning
from safecity.planning.requests.models import CameraRequest, RequestStatus, Urgency
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f

WATCHED = (51.15, 71.33)  # west, robberies, under camera W-1
UNWATCHED_WEST = (51.12, 71.37)  # west, assaults
UNWATCHED_EAST = (51.15, 71.45)  # east, thefts
QUIET = (51.18, 71.31)  # west, nothing happens here
BORDER_WEST = (51.16, 71.3992)  # west, vandalism, 55 m from camera E-BORDER across the border
BORDER_EAST = (51.16, 71.4)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PlanCity:
    west_id: int
    east_id: int
    requests: dict[str, int]  # number → id


def _cluster(
    session: Any, prefix: str, at: tuple[float, float], count: int, kind: CrimeKind, district: Any
) -> None:
    for index in range(count):
        session.add(
            CrimeRecord(
                code=f"{prefix}-{index}",
                occurred_at=T0 + timedelta(days=index),
                kind=kind,
                place_kind=PlaceKind.STREET,
                latitude=at[0] + (index % 3) * 0.00005,
                longitude=at[1] + (index % 5) * 0.00005,
                district=district,
            )
        )


def _request(
    session: Any,
    number: str,
    org: Any,
    district: Any,
    at: tuple[float, float],
    urgency: Urgency,
    status: RequestStatus = RequestStatus.SUBMITTED,
) -> int:
    request = CameraRequest(
        number=number,
        organization_id=org.id,
        district_id=district.id,
        latitude=at[0],
        longitude=at[1],
        justification="Residents ask for a camera here.",
        urgency=urgency,
        status=status,
        submitted_at=T0,
    )
    session.add(request)
    session.flush()
    return request.id


@pytest.fixture
def plan_city(database: Database) -> PlanCity:
    with database.session() as s:
        west = f.add_district(s, "west", f.WEST)
        east = f.add_district(s, "east", f.EAST)
        akimat_west = f.add_organization(s, "akimat-west", OrganizationKind.AKIMAT, west)
        police = f.add_organization(s, "police", OrganizationKind.POLICE)
        water = f.add_organization(s, "water", OrganizationKind.UTILITY)
        camera = f.add_camera(s, "W-1", west)
        camera.latitude, camera.longitude = WATCHED
        far = f.add_camera(s, "E-1", east)
        far.latitude, far.longitude = 51.19, 71.49
        border = f.add_camera(s, "E-BORDER", east)
        border.latitude, border.longitude = BORDER_EAST
        gone = f.add_camera(s, "W-OLD", west, status=CameraStatus.DECOMMISSIONED)
        gone.latitude, gone.longitude = UNWATCHED_WEST
        _cluster(s, "ROB", WATCHED, 12, CrimeKind.ROBBERY, west)
        _cluster(s, "ASS", UNWATCHED_WEST, 8, CrimeKind.ASSAULT, west)
        _cluster(s, "THE", UNWATCHED_EAST, 10, CrimeKind.THEFT, east)
        _cluster(s, "VAN", BORDER_WEST, 2, CrimeKind.VANDALISM, west)
        s.add(
            CrimeRecord(
                code="NOWHERE-1",
                occurred_at=T0,
                kind=CrimeKind.THEFT,
                place_kind=PlaceKind.STREET,
                district=west,
            )
        )
        requests = {
            "REQ-1": _request(s, "REQ-1", akimat_west, west, QUIET, Urgency.URGENT),
            "REQ-2": _request(s, "REQ-2", police, east, UNWATCHED_EAST, Urgency.LOW),
            "REQ-3": _request(s, "REQ-3", akimat_west, west, UNWATCHED_WEST, Urgency.NORMAL),
            "REQ-4": _request(
                s, "REQ-4", akimat_west, west, WATCHED, Urgency.URGENT, RequestStatus.REJECTED
            ),
        }
        f.add_user(s, "admin", Role.ADMIN)
        f.add_user(s, "analyst", Role.ANALYST)
        f.add_user(s, "operator", Role.OPERATOR)
        f.add_user(s, "akimat-west", Role.AKIMAT, akimat_west)
        f.add_user(s, "water", Role.UTILITY, water)
        return PlanCity(west.id, east.id, requests)


@pytest.fixture
def client(database: Database, plan_city: PlanCity, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path), database)) as test_client:
        yield test_client


def _sign_in(client: TestClient, username: str) -> TestClient:
    response = client.post("/api/auth/login", json={"username": username, "password": f.PASSWORD})
    assert response.status_code == 200, response.text
    return client


def _plan(client: TestClient, **query: Any) -> Any:
    response = client.post("/api/planning/placement", json={"grid_m": 200, **query})
    assert response.status_code == 200, response.text
    return response.json()


def _near(item: dict[str, Any], at: tuple[float, float], metres: float = 150) -> bool:
    return (
        abs(item["lat"] - at[0]) * 111_000 < metres and abs(item["lon"] - at[1]) * 70_000 < metres
    )


def test_an_analyst_plans_for_the_whole_city(client: TestClient, plan_city: PlanCity) -> None:
    body = _plan(_sign_in(client, "analyst"), budget=2)

    coverage = body["coverage"]
    assert coverage["total_records"] == 32  # the record without a position is not counted
    assert body["unplaced_records"] == 1
    assert coverage["total_weight"] == pytest.approx(12 * 3 + 8 * 3 + 10 * 1.5 + 2 * 1)
    # Robberies and vandalism are watched; the decommissioned camera watches nothing.
    assert coverage["before"]["records"] == 14
    assert coverage["before"]["share"] == pytest.approx(38 / 77)
    # Two sites: the two clusters nobody watches.
    assert coverage["optimised"]["records"] == 32
    assert coverage["optimised"]["added_weight"] == pytest.approx(39.0)
    assert sorted(site["district_id"] for site in body["sites"]) == sorted(
        [plan_city.west_id, plan_city.east_id]
    )
    assert all(site["request_id"] is not None for site in body["sites"])
    # The queue: REQ-1 (urgent, where nothing happens), then REQ-3 (normal), REQ-2 (low).
    queue = [(r["number"], r["in_requests_plan"], r["answered"]) for r in body["requests"]]
    assert queue == [("REQ-1", True, False), ("REQ-3", True, True), ("REQ-2", False, True)]
    assert coverage["requests"]["added_weight"] == pytest.approx(24.0)
    assert coverage["ratio"] == pytest.approx(39.0 / 24.0)
    assert body["solver"]["status"] == "optimal"
    assert body["solver"]["candidates"] == body["solver"]["grid_candidates"] + 3
    states = {d["state"] for d in body["demand"]}
    assert states == {"existing", "both", "optimised"}
    assert len(body["cameras"]) == 3


def test_an_akimat_plans_only_its_own_district(client: TestClient, plan_city: PlanCity) -> None:
    body = _plan(_sign_in(client, "akimat-west"), budget=1)

    assert body["coverage"]["total_records"] == 22
    # Its plan counts only the cameras it may see: the east's border camera covers nothing.
    assert body["coverage"]["before"]["records"] == 12
    assert {site["district_id"] for site in body["sites"]} == {plan_city.west_id}
    assert [r["number"] for r in body["requests"]] == ["REQ-1", "REQ-3"]
    assert all(not _near(d, UNWATCHED_EAST) for d in body["demand"])
    assert [(c["lat"], c["lon"]) for c in body["cameras"]] == [WATCHED]


def test_an_akimat_does_not_see_the_polices_requests_in_its_district(
    client: TestClient, database: Database, plan_city: PlanCity
) -> None:
    with database.session() as s:
        police = s.scalars(select(Organization).where(Organization.code == "police")).one()
        west = s.get(District, plan_city.west_id)
        assert west is not None
        _request(s, "REQ-POLICE", police, west, UNWATCHED_WEST, Urgency.URGENT)

    # The requests board shows the akimat only its own organization's requests ...
    akimat = _sign_in(client, "akimat-west")
    board = akimat.get("/api/planning/requests")
    assert board.status_code == 200, board.text
    assert "REQ-POLICE" not in board.text
    # ... and so does its placement plan: neither in the queue nor as a site's answer.
    body = _plan(akimat, budget=2)
    assert [r["number"] for r in body["requests"]] == ["REQ-1", "REQ-3"]
    assert "REQ-POLICE" not in str(body)
    # The city-wide see it.
    admin = _plan(_sign_in(client, "admin"), budget=2)
    assert "REQ-POLICE" in [r["number"] for r in admin["requests"]]


def test_an_akimat_cannot_plan_a_district_outside_its_access(
    client: TestClient, plan_city: PlanCity
) -> None:
    response = _sign_in(client, "akimat-west").post(
        "/api/planning/placement", json={"budget": 1, "district_id": plan_city.east_id}
    )

    assert response.status_code == 422
    assert response.json()["detail"] == f"no district {plan_city.east_id} within your access"


def test_an_analyst_may_plan_one_district(client: TestClient, plan_city: PlanCity) -> None:
    body = _plan(_sign_in(client, "analyst"), budget=1, district_id=plan_city.east_id)

    assert body["coverage"]["total_records"] == 10
    assert [r["number"] for r in body["requests"]] == ["REQ-2"]
    assert body["sites"][0]["request_id"] == plan_city.requests["REQ-2"]


@pytest.mark.parametrize("username", ["operator", "water"])
def test_roles_that_do_not_plan_are_refused(client: TestClient, username: str) -> None:
    response = _sign_in(client, username).post("/api/planning/placement", json={"budget": 1})

    assert response.status_code == 403


def test_signing_in_comes_first(client: TestClient) -> None:
    assert client.post("/api/planning/placement", json={"budget": 1}).status_code == 401


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ({"budget": 0}, ["body", "budget"]),
        ({"budget": 501}, ["body", "budget"]),
        ({"radius_m": 5}, ["body", "radius_m"]),
        ({"grid_m": 1}, ["body", "grid_m"]),
        ({"kinds": ["arson"]}, ["body", "kinds", 0]),
        ({"kinds": []}, ["body", "kinds"]),
        ({"weights": {"theft": -1}}, ["body", "weights", "theft"]),
        ({"budget": 1, "colour": "red"}, ["body", "colour"]),
        ({"since": "2026-05-01T00:00:00Z", "until": "2026-04-01T00:00:00Z"}, ["body"]),
        ({"since": "2026-05-01T00:00:00"}, ["body", "since"]),
        ({"use_grid": False, "use_requests": False}, ["body"]),
    ],
)
def test_a_bad_query_is_refused_with_where(
    client: TestClient, query: dict[str, Any], where: list[Any]
) -> None:
    response = _sign_in(client, "admin").post("/api/planning/placement", json=query)

    assert response.status_code == 422
    assert [problem["loc"] for problem in response.json()["detail"]] == [where]


def test_a_budget_above_the_candidates_is_refused_in_words(client: TestClient) -> None:
    response = _sign_in(client, "admin").post(
        "/api/planning/placement", json={"budget": 4, "use_grid": False}
    )

    assert response.status_code == 422
    assert response.json()["detail"].startswith("a budget of 4 is more than the 3 candidate")


def test_a_grid_too_fine_for_the_city_is_refused_with_the_spacing_to_use(
    client: TestClient,
) -> None:
    response = _sign_in(client, "admin").post(
        "/api/planning/placement", json={"budget": 1, "grid_m": 10}
    )

    assert response.status_code == 422
    assert "use a spacing of at least" in response.json()["detail"]


def test_a_plan_too_large_to_build_in_seconds_is_refused_in_words(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = _sign_in(client, "admin")
    assert _plan(admin, budget=1, radius_m=1000)["solver"]["status"] == "optimal"
    monkeypatch.setattr(planning, "MAX_COVERAGE_PAIRS", 3)

    response = admin.post(
        "/api/planning/placement", json={"budget": 1, "grid_m": 200, "radius_m": 1000}
    )

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("too large a plan: a 1000 m range over a 200 m grid gives")
    assert detail.endswith("use a coarser grid, a smaller camera range, or one district")


def test_filters_choose_the_records(client: TestClient) -> None:
    analyst = _sign_in(client, "analyst")

    thefts = _plan(analyst, budget=1, kinds=["theft"])
    early = _plan(analyst, budget=1, until=(T0 + timedelta(days=5)).isoformat())
    heavy = _plan(analyst, budget=1, weights={"theft": 10})

    assert thefts["coverage"]["total_records"] == 10
    assert early["coverage"]["total_records"] == 17
    # Weighted up, the thefts win the only new camera.
    assert heavy["sites"][0]["new_records"] == 10
    assert heavy["weights"]["theft"] == 10
