"""Camera requests over HTTP: who submits where, who sees what, the workflow's moves, and the
audit rows each change leaves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safecity.audit.models import AuditEntry
from safecity.planning.requests.models import CameraRequest
from safecity.store.engine import Database
from tests.api.conftest import City

URL = "/api/planning/requests"
WEST_POINT = {"latitude": 51.15, "longitude": 71.35}
EAST_POINT = {"latitude": 51.15, "longitude": 71.45}
SignIn = Callable[[str], TestClient]


def submit(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"justification": "Unlit underpass, three robberies this autumn", **fields}
    response = client.post(URL, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def audit_actions(database: Database, target: str) -> list[str]:
    with database.session() as s:
        return list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.target == target)
                .order_by(AuditEntry.seq)
            )
        )


def test_akimat_submits_a_map_point_in_its_district_numbered_and_audited(
    as_user: SignIn, database: Database, city: City
) -> None:
    client = as_user("akimat-west")
    first = submit(client, **WEST_POINT, urgency="high")
    second = submit(client, **WEST_POINT, justification="Bus stop by the school")

    assert first["status"] == "submitted"
    assert first["organization_code"] == "akimat-west"
    assert first["district_id"] == city.west_id
    assert first["urgency"] == "high"
    assert first["allowed"] == ["review"]
    year = first["submitted_at"][:4]
    assert first["number"] == f"REQ-{year}-00001"
    assert second["number"] == f"REQ-{year}-00002"
    assert audit_actions(database, f"camera_request:{first['number']}") == ["camera_request.submit"]


def test_address_and_district_place_a_request_without_a_point(as_user: SignIn, city: City) -> None:
    client = as_user("akimat-west")
    made = submit(client, address="Kenesary 12, courtyard", district_id=city.west_id)
    assert made["latitude"] is None and made["address"] == "Kenesary 12, courtyard"

    no_district = client.post(URL, json={"justification": "x", "address": "Kenesary 12"})
    assert no_district.status_code == 422
    assert "address and district_id" in no_district.json()["detail"]


def test_a_blank_justification_is_refused(as_user: SignIn) -> None:
    response = as_user("akimat-west").post(URL, json={"justification": " \n ", **WEST_POINT})
    assert response.status_code == 422
    assert "say why" in response.json()["detail"]


def test_a_point_outside_every_district_is_refused(as_user: SignIn) -> None:
    response = as_user("akimat-west").post(
        URL, json={"justification": "x", "latitude": 40.0, "longitude": 71.35}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "that point is outside every district"


def test_submitters_stay_inside_their_own_area(as_user: SignIn, city: City) -> None:
    akimat = as_user("akimat-west").post(URL, json={"justification": "x", **EAST_POINT})
    assert akimat.status_code == 403
    assert "East is outside your area" in akimat.json()["detail"]

    officer = as_user("officer-east")
    assert officer.post(URL, json={"justification": "x", **WEST_POINT}).status_code == 403
    made = submit(officer, **EAST_POINT)
    assert made["organization_code"] == "police-dept"
    assert made["district_id"] == city.east_id

    as_user("akimat-west")
    forged_org = as_user("akimat-west").post(
        URL, json={"justification": "x", **WEST_POINT, "organization_id": made["organization_id"]}
    )
    assert forged_org.status_code == 422
    assert "your own organization" in forged_org.json()["detail"]


@pytest.mark.parametrize("username", ["analyst", "operator", "water"])
def test_roles_that_do_not_ask_for_cameras_cannot_submit(as_user: SignIn, username: str) -> None:
    response = as_user(username).post(URL, json={"justification": "x", **WEST_POINT})
    assert response.status_code == 403


def test_admin_registers_a_request_for_an_asking_organization_only(
    as_user: SignIn, city: City
) -> None:
    admin = as_user("admin")
    missing = admin.post(URL, json={"justification": "x", **WEST_POINT})
    assert missing.status_code == 422 and "organization: required" in missing.json()["detail"]

    west_request = submit(as_user("akimat-west"), **WEST_POINT)
    akimat_west_id = west_request["organization_id"]
    admin = as_user("admin")
    outside = admin.post(
        URL, json={"justification": "x", **EAST_POINT, "organization_id": akimat_west_id}
    )
    assert outside.status_code == 422
    assert "East is outside the area of Akimat West" in outside.json()["detail"]
    made = submit(admin, **WEST_POINT, organization_id=akimat_west_id, justification="By letter")
    assert made["organization_code"] == "akimat-west"
    assert made["submitted_by"] == "admin"


def test_each_organization_sees_its_own_and_the_city_sees_all(as_user: SignIn, city: City) -> None:
    west = submit(as_user("akimat-west"), **WEST_POINT)["number"]
    police_east = submit(as_user("officer-east"), **EAST_POINT)["number"]
    police_west = submit(as_user("officer-west"), **WEST_POINT)["number"]

    def seen(username: str) -> set[str]:
        response = as_user(username).get(URL)
        assert response.status_code == 200, response.text
        return {item["number"] for item in response.json()["items"]}

    assert seen("akimat-west") == {west}
    assert seen("officer-east") == {police_east}
    assert seen("officer-west") == {police_west}
    assert seen("orphan-officer") == set()
    everything = {west, police_east, police_west}
    for city_wide in ("admin", "analyst", "operator", "akimat-city"):
        assert seen(city_wide) == everything, city_wide
    assert as_user("water").get(URL).status_code == 403


def test_a_request_outside_the_callers_view_answers_like_a_missing_one(
    as_user: SignIn,
) -> None:
    police = submit(as_user("officer-east"), **EAST_POINT)
    client = as_user("akimat-west")
    forged = client.get(f"{URL}/{police['id']}")
    missing = client.get(f"{URL}/999999")
    assert forged.status_code == missing.status_code == 404
    assert forged.json() == missing.json()
    assert client.get(f"{URL}/{2**40}").status_code == 422


def test_filters_and_board_counts(as_user: SignIn, city: City) -> None:
    submit(as_user("akimat-west"), **WEST_POINT, urgency="low")
    urgent = submit(as_user("officer-east"), **EAST_POINT, urgency="urgent")
    admin = as_user("admin")
    admin.post(f"{URL}/{urgent['id']}/review")

    page = admin.get(URL).json()
    assert [item["urgency"] for item in page["items"]] == ["urgent", "low"]
    assert page["by_status"]["submitted"] == 1 and page["by_status"]["under_review"] == 1
    east = admin.get(URL, params={"district_id": city.east_id}).json()
    assert [item["number"] for item in east["items"]] == [urgent["number"]]
    reviewing = admin.get(URL, params={"status": "under_review"}).json()
    assert reviewing["total"] == 1 and reviewing["by_status"]["submitted"] == 1
    by_org = admin.get(URL, params={"organization_id": urgent["organization_id"]}).json()
    assert by_org["total"] == 1
    paged = admin.get(URL, params={"limit": 1, "offset": 1}).json()
    assert paged["total"] == 2 and len(paged["items"]) == 1


def test_the_programme_office_reviews_approves_and_links_the_installed_camera(
    as_user: SignIn, database: Database, city: City
) -> None:
    made = submit(as_user("akimat-west"), **WEST_POINT)
    admin = as_user("admin")
    path = f"{URL}/{made['id']}"

    early = admin.post(f"{path}/approve")
    assert early.status_code == 409
    assert early.json()["detail"]["allowed"] == ["review"]
    assert "cannot approve" in early.json()["detail"]["message"]

    assert admin.post(f"{path}/review").json()["status"] == "under_review"
    approved = admin.post(f"{path}/approve", json={"reason": "Fits the 2027 plan"}).json()
    assert approved["status"] == "approved"
    assert approved["decision_reason"] == "Fits the 2027 plan"
    assert approved["decided_by"] == "admin" and approved["decided_at"]

    other_district = admin.post(f"{path}/install", json={"camera_code": "E-STREET"})
    assert other_district.status_code == 422
    assert "another district" in other_district.json()["detail"]
    unknown = admin.post(f"{path}/install", json={"camera_code": "NOPE"})
    assert unknown.status_code == 422 and "no camera 'NOPE'" in unknown.json()["detail"]

    installed = admin.post(f"{path}/install", json={"camera_code": "W-STREET"}).json()
    assert installed["status"] == "installed"
    assert installed["camera_id"] == city.street_west_id
    assert installed["installed_at"] and installed["allowed"] == []
    again = admin.post(f"{path}/install", json={"camera_id": city.street_west_id})
    assert again.status_code == 409

    assert audit_actions(database, f"camera_request:{made['number']}") == [
        "camera_request.submit",
        "camera_request.review",
        "camera_request.approve",
        "camera_request.install",
    ]
    with database.session() as s:
        stored = s.scalars(select(CameraRequest)).one()
        assert stored.camera_id == city.street_west_id


def test_a_rejection_needs_a_reason(as_user: SignIn, database: Database) -> None:
    made = submit(as_user("officer-east"), **EAST_POINT)
    admin = as_user("admin")
    path = f"{URL}/{made['id']}"
    admin.post(f"{path}/review")

    assert admin.post(f"{path}/reject", json={}).status_code == 422
    assert admin.post(f"{path}/reject", json={"reason": "   "}).status_code == 422
    rejected = admin.post(f"{path}/reject", json={"reason": "A camera covers it: E-STREET"})
    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert admin.post(f"{path}/approve").status_code == 409
    assert audit_actions(database, f"camera_request:{made['number']}")[-1] == (
        "camera_request.reject"
    )
    seen = as_user("officer-east").get(path).json()
    assert seen["decision_reason"] == "A camera covers it: E-STREET"


@pytest.mark.parametrize("username", ["analyst", "operator", "akimat-west", "akimat-city"])
def test_only_the_programme_office_moves_requests(as_user: SignIn, username: str) -> None:
    made = submit(as_user("akimat-west"), **WEST_POINT)
    client = as_user(username)
    for move in ("review", "approve", "reject", "install"):
        response = client.post(f"{URL}/{made['id']}/{move}", json={"reason": "r"})
        assert response.status_code == 403, (move, response.text)
    assert as_user("admin").get(f"{URL}/{made['id']}").json()["status"] == "submitted"


def test_site_must_be_visible_and_in_the_district(as_user: SignIn) -> None:
    admin = as_user("admin")
    sites = {s["code"]: s["id"] for s in admin.get("/api/sites").json()["items"]}
    client = as_user("akimat-west")
    made = submit(client, **WEST_POINT, site_id=sites["pump-station"])
    assert made["site_code"] == "pump-station"
    hidden = client.post(
        URL, json={"justification": "x", **WEST_POINT, "site_id": sites["substation"]}
    )
    assert hidden.status_code == 404
    elsewhere = as_user("admin").post(
        URL,
        json={
            "justification": "x",
            **WEST_POINT,
            "site_id": sites["substation"],
            "organization_id": made["organization_id"],
        },
    )
    assert elsewhere.status_code == 422 and "another district" in elsewhere.json()["detail"]


def test_export_gives_the_visible_requests_as_csv(as_user: SignIn) -> None:
    submit(as_user("akimat-west"), **WEST_POINT, justification='Says "hello", twice')
    submit(as_user("officer-east"), **EAST_POINT)
    response = as_user("akimat-west").get(f"{URL}/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0].startswith("number,status,urgency,organization,district,latitude")
    assert len(lines) == 2 and '"Says ""hello"", twice"' in lines[1]
