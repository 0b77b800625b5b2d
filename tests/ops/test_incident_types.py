"""Incident types as the city's data, over HTTP: admins edit them, a checklist edit is a new
version, and an incident keeps the checklist it was opened with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from safecity.store.engine import Database
from tests.api import conftest as api_fixtures
from tests.api.conftest import City
from tests.audit.entries import audit_entries

SignIn = Callable[[str], TestClient]

city = api_fixtures.city
client = api_fixtures.client
signed_in = api_fixtures.signed_in


def _types(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/api/incident-types")
    assert response.status_code == 200, response.text
    return {kind["code"]: kind for kind in response.json()}


def _open(client: TestClient, city: City, type_code: str) -> Any:
    return client.post(
        "/api/incidents", json={"type_code": type_code, "camera_ids": [city.street_east_id]}
    )


def test_an_open_incident_keeps_its_checklist_when_the_type_is_edited(
    signed_in: SignIn, city: City, database: Database
) -> None:
    old_steps = _types(signed_in("operator"))["theft"]["sop"]
    assert len(old_steps) == 4
    opened = _open(signed_in("operator"), city, "theft")
    assert opened.status_code == 201, opened.text
    before = opened.json()
    assert [step["text"] for step in before["sop"]] == old_steps
    assert before["sop_version"] == 1

    new_steps = ["Call the shop owner", "Dispatch the police unit"]
    edited = signed_in("admin").patch("/api/incident-types/theft", json={"sop": new_steps})
    assert edited.status_code == 200, edited.text
    assert edited.json()["sop"] == new_steps
    assert edited.json()["sop_version"] == 2

    client = signed_in("operator")
    still = client.get(f"/api/incidents/{before['id']}").json()
    assert [step["text"] for step in still["sop"]] == old_steps
    assert still["sop_version"] == 1
    # Its fourth step exists only in the old checklist, and is still its to mark.
    marked = client.post(f"/api/incidents/{before['id']}/sop/3", json={"state": "done"})
    assert marked.status_code == 201, marked.text

    fresh = _open(client, city, "theft").json()
    assert [step["text"] for step in fresh["sop"]] == new_steps
    assert fresh["sop_version"] == 2
    assert (
        client.post(f"/api/incidents/{fresh['id']}/sop/3", json={"state": "done"}).status_code
        == 422
    )

    versions = signed_in("admin").get("/api/incident-types/theft/checklists").json()
    assert [(v["version"], v["steps"], v["created_by"]) for v in versions] == [
        (1, old_steps, "built-in catalogue"),
        (2, new_steps, "admin"),
    ]
    [entry] = audit_entries(database, "incident_type.update")
    assert entry.actor == "admin"
    assert entry.details["before"]["sop"] == old_steps
    assert entry.details["after"]["sop_version"] == 2


def test_an_edit_changes_the_default_priority_and_crime_kind_of_new_incidents(
    signed_in: SignIn, city: City
) -> None:
    admin = signed_in("admin")
    edited = admin.patch(
        "/api/incident-types/vandalism",
        json={"default_priority": 1, "crime_kind": None, "name": "Vandalism (graffiti)"},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["sop_version"] == 1  # the checklist did not change
    kind = _types(signed_in("operator"))["vandalism"]
    assert (kind["name"], kind["default_priority"], kind["crime_kind"]) == (
        "Vandalism (graffiti)",
        1,
        None,
    )
    assert _open(signed_in("operator"), city, "vandalism").json()["priority"] == 1


def test_an_admin_creates_a_type_that_opens_incidents(signed_in: SignIn, city: City) -> None:
    admin = signed_in("admin")
    body = {
        "code": "flooding",
        "name": "Flooding",
        "default_priority": 2,
        "crime_kind": None,
        "sop": ["Notify the water company", "Keep the street on camera"],
    }
    created = admin.post("/api/incident-types", json=body)
    assert created.status_code == 201, created.text
    assert created.json() == {**body, "sop_version": 1, "active": True}
    assert admin.post("/api/incident-types", json=body).status_code == 409
    opened = _open(signed_in("operator"), city, "flooding")
    assert opened.status_code == 201, opened.text
    assert opened.json()["priority"] == 2


def test_bad_types_are_refused_naming_the_field(signed_in: SignIn) -> None:
    admin = signed_in("admin")
    base = {"code": "flooding", "name": "Flooding", "default_priority": 2, "sop": ["Act"]}
    for change, field in [
        ({"default_priority": 7}, "default_priority"),
        ({"sop": []}, "sop"),
        ({"crime_kind": "alien"}, "crime_kind"),
        ({"code": "Bad Code"}, "code"),
        ({"name": "a\u202eb"}, "name"),
    ]:
        response = admin.post("/api/incident-types", json={**base, **change})
        assert response.status_code == 422, (change, response.text)
        assert field in response.text, (change, response.text)
    assert "flooding" not in _types(admin)
    assert admin.patch("/api/incident-types/theft", json={"sop": [""]}).status_code == 422
    assert admin.patch("/api/incident-types/nosuch", json={"name": "X"}).status_code == 404
    assert _types(admin)["theft"]["sop_version"] == 1


def test_only_admins_change_incident_types(signed_in: SignIn) -> None:
    operator = signed_in("operator")
    assert operator.patch("/api/incident-types/theft", json={"name": "X"}).status_code == 403
    body = {"code": "flooding", "name": "Flooding", "default_priority": 2, "sop": ["Act"]}
    assert operator.post("/api/incident-types", json=body).status_code == 403
    assert operator.get("/api/incident-types/theft/checklists").status_code == 403
    assert _types(operator)["theft"]["name"] == "Theft"


def test_a_deactivated_type_opens_no_incidents_but_old_ones_still_render(
    signed_in: SignIn, city: City, database: Database
) -> None:
    old = _open(signed_in("operator"), city, "fire").json()
    retired = signed_in("admin").patch("/api/incident-types/fire", json={"active": False})
    assert retired.status_code == 200, retired.text

    client = signed_in("operator")
    refused = _open(client, city, "fire")
    assert refused.status_code == 422
    assert "deactivated" in refused.text
    shown = client.get(f"/api/incidents/{old['id']}")
    assert shown.status_code == 200
    assert shown.json()["sop"] == old["sop"]
    assert _types(client)["fire"]["active"] is False

    assert (
        signed_in("admin").patch("/api/incident-types/fire", json={"active": True}).json()["active"]
    )
    assert _open(signed_in("operator"), city, "fire").status_code == 201
    assert len(audit_entries(database, "incident_type.update")) == 2
