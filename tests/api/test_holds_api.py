"""Legal holds over HTTP: who may list, place and release them, and only in their scope."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.api.conftest import City
from tests.audit.entries import audit_entries

INCIDENT = {
    "start": "2026-11-26T21:40:00+05:00",
    "end": "2026-11-26T22:10:00+05:00",
    "reason": "Robbery reported at the pump station gate",
    "reference": "INC-2026-0142",
}

RELEASE = {"reason": "Case 2026/77 closed by the court"}


@pytest.fixture
def client(database: Database, city: City, tmp_path: Path) -> Iterator[TestClient]:
    """The real app, as the API serves it."""
    with database.session() as session:
        f.add_user(session, "analyst", Role.ANALYST)
    app = create_app(Settings(data_dir=tmp_path), database)
    with TestClient(app) as test_client:
        yield test_client


def place(client: TestClient, camera_id: int, **changes: Any) -> Any:
    return client.post(f"/api/cameras/{camera_id}/holds", json={**INCIDENT, **changes})


def test_an_operator_places_lists_and_releases_a_hold(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("operator")

    placed = place(client, city.water_camera_id)

    assert placed.status_code == 201, placed.text
    hold = placed.json()
    assert hold["camera_code"] == "W-PUMP" and hold["kind"] == "manual"
    assert hold["start"].startswith("2026-11-26T16:40:00")  # stored and returned in UTC
    assert hold["reference"] == "INC-2026-0142"
    assert hold["placed_by"] == "operator" and hold["active"] is True
    listed = client.get(f"/api/cameras/{city.water_camera_id}/holds").json()
    assert [item["id"] for item in listed] == [hold["id"]]

    released = client.post(f"/api/holds/{hold['id']}/release", json=RELEASE)

    assert released.status_code == 200, released.text
    body = released.json()
    assert body["active"] is False and body["released_by"] == "operator"
    assert body["released_at"] is not None
    assert client.get(f"/api/cameras/{city.water_camera_id}/holds?active=true").json() == []
    assert len(client.get(f"/api/cameras/{city.water_camera_id}/holds").json()) == 1


def test_releasing_twice_is_refused_and_the_first_release_stands(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("admin")
    hold_id = place(client, city.street_east_id).json()["id"]
    assert client.post(f"/api/holds/{hold_id}/release", json=RELEASE).status_code == 200

    again = client.post(f"/api/holds/{hold_id}/release", json=RELEASE)

    assert again.status_code == 409
    assert f"hold {hold_id} was already released at" in again.json()["detail"]
    assert "by admin" in again.json()["detail"]


def test_a_duty_officer_places_holds_in_their_districts_only(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("officer-east")

    assert place(client, city.street_east_id).status_code == 201
    foreign = place(client, city.street_west_id)
    missing = place(client, 999_999)

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    assert client.get(f"/api/cameras/{city.street_west_id}/holds").status_code == 404
    assert len(client.get(f"/api/cameras/{city.street_east_id}/holds").json()) == 1


def test_a_duty_officer_may_not_release_an_operator_may(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    officer = signed_in("officer-east")
    hold_id = place(officer, city.street_east_id).json()["id"]

    assert officer.post(f"/api/holds/{hold_id}/release", json=RELEASE).status_code == 403
    operator = signed_in("operator")
    assert (
        operator.post(f"/api/holds/{hold_id}/release", json=RELEASE).json()["released_by"]
        == "operator"
    )


def test_an_officer_without_a_unit_sees_no_camera(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("orphan-officer")
    assert place(client, city.street_east_id).status_code == 404
    assert client.get(f"/api/cameras/{city.street_east_id}/holds").status_code == 404


@pytest.mark.parametrize("username", ["water", "akimat-west", "analyst"])
def test_other_roles_neither_read_nor_place_holds(
    signed_in: Callable[[str], TestClient], city: City, username: str
) -> None:
    client = signed_in(username)
    assert client.get(f"/api/cameras/{city.water_camera_id}/holds").status_code == 403
    assert place(client, city.water_camera_id).status_code == 403
    assert client.post("/api/holds/1/release", json=RELEASE).status_code == 403


@pytest.mark.parametrize("body", [None, {}, {"reason": ""}, {"reason": "   "}])
def test_a_hold_is_released_only_with_a_reason(
    signed_in: Callable[[str], TestClient], city: City, database: Database, body: Any
) -> None:
    client = signed_in("admin")
    hold = place(client, city.street_east_id).json()

    refused = client.post(f"/api/holds/{hold['id']}/release", json=body)

    assert refused.status_code == 422, refused.text
    listed = client.get(f"/api/cameras/{city.street_east_id}/holds").json()
    assert [(item["id"], item["active"]) for item in listed] == [(hold["id"], True)]
    assert audit_entries(database, "hold.release") == []


def test_the_release_reason_is_kept_with_the_hold(
    signed_in: Callable[[str], TestClient], city: City, database: Database
) -> None:
    client = signed_in("admin")
    hold = place(client, city.street_east_id).json()

    released = client.post(f"/api/holds/{hold['id']}/release", json=RELEASE)

    assert released.status_code == 200, released.text
    assert released.json()["release_reason"] == RELEASE["reason"]
    (listed,) = client.get(f"/api/cameras/{city.street_east_id}/holds").json()
    assert listed["release_reason"] == RELEASE["reason"]
    (entry,) = audit_entries(database, "hold.release")
    assert entry.details["reason"] == RELEASE["reason"]


def test_releasing_an_unknown_hold_answers_404(signed_in: Callable[[str], TestClient]) -> None:
    response = signed_in("operator").post("/api/holds/424242/release", json=RELEASE)
    assert response.status_code == 404
    assert response.json()["detail"] == "no such hold, or not yours to see"


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"end": "2026-11-26T21:40:00+05:00"}, "the end of a hold must come after its start"),
        ({"reason": "   "}, "the reason is required"),
        ({"start": "2026-11-26T21:40:00"}, "timezone"),
        ({"reference": "x" * 101}, "at most 100 characters"),
        ({"kind": "evidence"}, "extra"),
    ],
)
def test_a_bad_hold_is_refused_with_the_reason(
    signed_in: Callable[[str], TestClient], city: City, changes: dict[str, str], says: str
) -> None:
    response = place(signed_in("operator"), city.street_east_id, **changes)
    assert response.status_code == 422
    assert says in response.text


def test_signing_in_is_required(client: TestClient, city: City) -> None:
    assert client.get(f"/api/cameras/{city.street_east_id}/holds").status_code == 401


def test_placing_and_releasing_a_hold_are_audited(
    signed_in: Callable[[str], TestClient], city: City, database: Database
) -> None:
    client = signed_in("operator")
    hold = place(client, city.water_camera_id).json()
    assert client.post(f"/api/holds/{hold['id']}/release", json=RELEASE).status_code == 200
    assert (
        client.post(f"/api/holds/{hold['id']}/release", json=RELEASE).status_code == 409
    )  # not logged
    placed, released = audit_entries(database)[1:]  # after the sign-in
    assert (placed.action, placed.actor, placed.target) == (
        "hold.place",
        "operator",
        f"hold:{hold['id']}",
    )
    assert placed.details["reference"] == "INC-2026-0142"
    assert placed.details["camera_id"] == city.water_camera_id
    assert (released.action, released.target) == ("hold.release", f"hold:{hold['id']}")
