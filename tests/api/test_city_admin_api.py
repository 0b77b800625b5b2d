"""The city administration API: districts, organizations, police units and sites, admin-only,
audited, refusing what would orphan a camera, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from safecity.auth.models import User
from safecity.store.engine import Database
from tests.api.conftest import City
from tests.audit.entries import audit_entries
from tests.factories import EAST, WEST, square

SignIn = Callable[[str], TestClient]
NORTH = (71.30, 51.20, 71.50, 51.30)
BOW_TIE = {
    "type": "Polygon",
    "coordinates": [[[71.3, 51.2], [71.5, 51.3], [71.5, 51.2], [71.3, 51.3], [71.3, 51.2]]],
}


def _by_code(client: TestClient, path: str) -> dict[str, dict[str, Any]]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return {item["code"]: item for item in response.json()}


def _messages(response: Any) -> list[str]:
    return [problem["msg"] for problem in response.json()["detail"]]


@pytest.mark.parametrize("username", ["operator", "akimat-west", "officer-east", "water"])
def test_only_an_admin_changes_the_city(signed_in: SignIn, username: str) -> None:
    client = signed_in(username)
    attempts = [
        client.get("/api/admin/districts"),
        client.post(
            "/api/admin/districts",
            json={"code": "north", "name": "North", "geometry": square(NORTH)},
        ),
        client.post("/api/admin/organizations", json={"code": "x", "name": "X", "kind": "other"}),
        client.post("/api/admin/sites/1/deactivate"),
        client.patch("/api/admin/police-units/1", json={"name": "Renamed"}),
    ]
    assert [response.status_code for response in attempts] == [403] * len(attempts)


def test_a_new_district_with_its_akimat_police_unit_and_site(
    signed_in: SignIn, database: Database
) -> None:
    client = signed_in("admin")
    district = client.post(
        "/api/admin/districts",
        json={"code": "north", "name": "North", "population": 50_000, "geometry": square(NORTH)},
    )
    assert district.status_code == 201, district.text
    assert district.json()["item"]["active"] is True
    akimat = client.post(
        "/api/admin/organizations",
        json={
            "code": "akimat-north",
            "name": "North Akimat",
            "kind": "akimat",
            "district_code": "north",
        },
    )
    assert akimat.status_code == 201, akimat.text
    unit = client.post(
        "/api/admin/police-units",
        json={
            "code": "unit-north",
            "name": "North unit",
            "organization_code": "police-dept",
            "district_codes": ["north"],
        },
    )
    assert unit.status_code == 201, unit.text
    site = client.post(
        "/api/admin/sites",
        json={
            "code": "north-park",
            "name": "North park",
            "kind": "park",
            "area": square((71.40, 51.24, 71.41, 51.25)),
            "owner_code": "akimat-north",
            "schedule": [{"days": ["sat", "sun"], "start": "23:00", "end": "06:00"}],
            "tasks": [{"kind": "vandalism", "description": "Damage to benches"}],
        },
    )
    assert site.status_code == 201, site.text
    stored = site.json()["item"]
    assert stored["district_code"] == "north"
    assert 51.24 < stored["latitude"] < 51.25 and 71.40 < stored["longitude"] < 71.41
    assert stored["schedule"] == [{"days": ["sat", "sun"], "start": "23:00:00", "end": "06:00:00"}]
    actions = [entry.action for entry in audit_entries(database)]
    assert actions[-4:] == [
        "district.create",
        "organization.create",
        "police_unit.create",
        "site.create",
    ]
    assert {entry.actor for entry in audit_entries(database, "site.create")} == {"admin"}
    public = {d["code"] for d in client.get("/api/districts").json()}
    assert "north" in public


def test_redrawing_a_border_moves_cameras_for_scoping_at_once(
    signed_in: SignIn, city: City, database: Database
) -> None:
    akimat = signed_in("akimat-west")
    assert city.street_east_id not in {c["id"] for c in akimat.get("/api/cameras").json()["items"]}
    admin = signed_in("admin")
    moved = admin.post(
        "/api/admin/districts/outlines",
        json=[
            {"code": "west", "geometry": square((71.30, 51.10, 71.46, 51.20))},
            {"code": "east", "geometry": square((71.46, 51.10, 71.50, 51.20))},
        ],
    )
    assert moved.status_code == 200, moved.text
    assert {(m["what"], m["code"], m["before"], m["after"]) for m in moved.json()["moved"]} == {
        ("camera", "E-SUB", "east", "west"),
        ("camera", "E-STREET", "east", "west"),
        ("site", "substation", "east", "west"),
    }
    [entry] = audit_entries(database, "district.redraw")
    assert entry.details["moved_count"] == 3
    akimat = signed_in("akimat-west")
    assert city.street_east_id in {c["id"] for c in akimat.get("/api/cameras").json()["items"]}


def test_an_outline_that_leaves_cameras_outside_is_refused_naming_them_unless_kept(
    signed_in: SignIn, city: City
) -> None:
    admin = signed_in("admin")
    east_id = _by_code(admin, "/api/admin/districts")["east"]["id"]
    shrunk = {"geometry": square((71.46, 51.10, 71.50, 51.20))}
    refused = admin.patch(f"/api/admin/districts/{east_id}", json=shrunk)
    assert refused.status_code == 422, refused.text
    messages = " | ".join(_messages(refused))
    assert "camera E-STREET (Camera E-STREET) at 51.15" in messages
    assert "camera E-SUB" in messages and "site substation" in messages
    assert _by_code(admin, "/api/admin/districts")["east"]["geometry"] == square(EAST)

    kept = admin.patch(f"/api/admin/districts/{east_id}?keep_outside=true", json=shrunk)
    assert kept.status_code == 200, kept.text
    assert {m["code"] for m in kept.json()["kept_outside"]} == {"E-STREET", "E-SUB", "substation"}
    camera = admin.get(f"/api/cameras/{city.street_east_id}").json()
    assert camera["district_name"] == "East"


def test_a_bad_outline_names_the_field(signed_in: SignIn, city: City) -> None:
    admin = signed_in("admin")
    west_id = _by_code(admin, "/api/admin/districts")["west"]["id"]
    crossing = admin.patch(f"/api/admin/districts/{west_id}", json={"geometry": BOW_TIE})
    assert crossing.status_code == 422
    [problem] = crossing.json()["detail"]
    assert problem["loc"] == ["body", "geometry"]
    assert problem["msg"].startswith("invalid polygon: Self-intersection")
    overlapping = admin.patch(
        f"/api/admin/districts/{west_id}", json={"geometry": square((71.30, 51.10, 71.45, 51.20))}
    )
    assert overlapping.status_code == 422
    assert "overlaps district 'east'" in _messages(overlapping)[0]
    assert _by_code(admin, "/api/admin/districts")["west"]["geometry"] == square(WEST)


def test_deactivating_what_is_still_in_use_is_refused_with_the_list(
    signed_in: SignIn, city: City
) -> None:
    admin = signed_in("admin")
    districts = _by_code(admin, "/api/admin/districts")
    district = admin.post(f"/api/admin/districts/{districts['east']['id']}/deactivate")
    assert district.status_code == 422
    text = " | ".join(_messages(district))
    assert "camera E-STREET" in text and "unit 'unit-east' still covers it" in text
    units = _by_code(admin, "/api/admin/police-units")
    unit = admin.post(f"/api/admin/police-units/{units['unit-east']['id']}/deactivate")
    assert unit.status_code == 422
    assert "user 'officer-east' still belongs to it" in " ".join(_messages(unit))
    organizations = _by_code(admin, "/api/admin/organizations")
    water = admin.post(f"/api/admin/organizations/{organizations['water-co']['id']}/deactivate")
    assert water.status_code == 422
    text = " | ".join(_messages(water))
    assert "still owns active site 'pump-station'" in text and "user 'water'" in text
    assert all(item["active"] for item in _by_code(admin, "/api/admin/organizations").values())


def test_a_deactivated_site_leaves_the_lists_and_comes_back(
    signed_in: SignIn, city: City, database: Database
) -> None:
    admin = signed_in("admin")
    sites = _by_code(admin, "/api/admin/sites")
    gone = admin.post(f"/api/admin/sites/{sites['substation']['id']}/deactivate")
    assert gone.status_code == 200, gone.text
    assert gone.json()["item"]["active"] is False
    listed = {site["code"] for site in admin.get("/api/sites").json()["items"]}
    assert listed == {"pump-station"}
    back = admin.post(f"/api/admin/sites/{sites['substation']['id']}/activate")
    assert back.status_code == 200
    assert [e.action for e in audit_entries(database)][-2:] == ["site.deactivate", "site.activate"]


def test_moving_a_site_point_changes_its_district_and_an_area_replaces_the_point(
    signed_in: SignIn, city: City
) -> None:
    admin = signed_in("admin")
    site_id = _by_code(admin, "/api/admin/sites")["pump-station"]["id"]
    moved = admin.patch(f"/api/admin/sites/{site_id}", json={"latitude": 51.15, "longitude": 71.48})
    assert moved.status_code == 200, moved.text
    assert moved.json()["item"]["district_code"] == "east"
    drawn = admin.patch(
        f"/api/admin/sites/{site_id}", json={"area": square((71.31, 51.11, 71.32, 51.12))}
    )
    assert drawn.status_code == 200, drawn.text
    assert drawn.json()["item"]["district_code"] == "west"
    assert drawn.json()["item"]["area"] == square((71.31, 51.11, 71.32, 51.12))
    outside = admin.patch(f"/api/admin/sites/{site_id}", json={"latitude": 40.0, "longitude": 71.0})
    assert outside.status_code == 422
    assert outside.json()["detail"][0]["loc"] == ["body", "latitude"]
    crossing = admin.patch(f"/api/admin/sites/{site_id}", json={"area": BOW_TIE})
    assert crossing.json()["detail"][0]["loc"] == ["body", "area"]


def test_codes_are_unique_and_unknown_ids_are_404(signed_in: SignIn, city: City) -> None:
    admin = signed_in("admin")
    again = admin.post(
        "/api/admin/districts", json={"code": "west", "name": "W2", "geometry": square(NORTH)}
    )
    assert again.status_code == 409
    assert admin.patch("/api/admin/districts/999999", json={"name": "X"}).status_code == 404
    assert admin.post("/api/admin/police-units/999999/deactivate").status_code == 404
    bad_code = admin.post(
        "/api/admin/organizations", json={"code": "a/b", "name": "X", "kind": "other"}
    )
    assert bad_code.status_code == 422
    unknown = admin.post(
        "/api/admin/police-units",
        json={
            "code": "u2",
            "name": "U",
            "organization_code": "water-co",
            "district_codes": ["nowhere"],
        },
    )
    assert unknown.status_code == 422
    assert set(_messages(unknown)) == {
        "'water-co' is utility, not police",
        "unknown district 'nowhere'",
    }


def _dispatched_unit(client: TestClient) -> int:
    """The unit an incident in East (at 51.15, 71.45) is dispatched to, through the OCC API."""
    incident = client.post(
        "/api/incidents", json={"type_code": "theft", "latitude": 51.15, "longitude": 71.45}
    )
    assert incident.status_code == 201, incident.text
    moved = client.post(
        f"/api/incidents/{incident.json()['id']}/transitions", json={"to": "dispatched"}
    )
    assert moved.status_code == 200, moved.text
    unit_id: int = moved.json()["police_unit_id"]
    return unit_id


def test_a_deactivated_unit_is_dispatched_nothing(
    signed_in: SignIn, city: City, database: Database
) -> None:
    """East's incidents go to unit-east; deactivated (its officer signed off first), they go
    to the fallback unit at once."""
    admin = signed_in("admin")
    units = _by_code(admin, "/api/admin/police-units")
    fallback = admin.post(
        "/api/admin/police-units",
        json={"code": "duty", "name": "Duty", "organization_code": "police-dept", "fallback": True},
    )
    assert fallback.status_code == 201, fallback.text
    operator = signed_in("operator")
    assert _dispatched_unit(operator) == units["unit-east"]["id"]
    with database.session() as session:  # the officer leaves (users' own API is elsewhere)
        session.execute(update(User).where(User.username == "officer-east").values(is_active=False))
    admin = signed_in("admin")
    off = admin.post(f"/api/admin/police-units/{units['unit-east']['id']}/deactivate")
    assert off.status_code == 200, off.text
    operator = signed_in("operator")
    assert _dispatched_unit(operator) == fallback.json()["item"]["id"]


def test_nobody_joins_a_deactivated_organization(signed_in: SignIn, city: City) -> None:
    admin = signed_in("admin")
    created = admin.post(
        "/api/admin/organizations", json={"code": "gas-co", "name": "Gas Co", "kind": "utility"}
    )
    assert created.status_code == 201, created.text
    gone = admin.post(f"/api/admin/organizations/{created.json()['item']['id']}/deactivate")
    assert gone.status_code == 200, gone.text
    joined = admin.post(
        "/api/admin/users",
        json={
            "username": "gas.dispatcher",
            "full_name": "Gas Dispatcher",
            "role": "utility",
            "organization_code": "gas-co",
        },
    )
    assert joined.status_code == 422, joined.text
    assert "organization 'gas-co' is deactivated" in joined.text
    listed = admin.get("/api/admin/users").json()["items"]
    assert "gas.dispatcher" not in {user["username"] for user in listed}


def test_cameras_kept_outside_once_do_not_block_later_changes(
    signed_in: SignIn, city: City
) -> None:
    admin = signed_in("admin")
    districts = _by_code(admin, "/api/admin/districts")
    kept = admin.patch(
        f"/api/admin/districts/{districts['east']['id']}?keep_outside=true",
        json={"geometry": square((71.40, 51.10, 71.44, 51.20))},
    )
    assert kept.status_code == 200, kept.text
    assert {m["code"] for m in kept.json()["kept_outside"]} == {"E-SUB", "E-STREET", "substation"}
    renamed = admin.patch(f"/api/admin/districts/{districts['west']['id']}", json={"name": "W2"})
    assert renamed.status_code == 200, renamed.text
    organization = _by_code(admin, "/api/admin/organizations")["water-co"]
    edited = admin.patch(
        f"/api/admin/organizations/{organization['id']}", json={"name": "Water Company"}
    )
    assert edited.status_code == 200, edited.text


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("districts", {"name": None}),
        ("districts", {"geometry": None}),
        ("organizations", {"kind": None}),
        ("police-units", {"district_codes": None}),
        ("police-units", {"fallback": None}),
        ("sites", {"schedule": None}),
        ("sites", {"name": None}),
    ],
)
def test_null_for_a_field_that_needs_a_value_is_refused(
    signed_in: SignIn, city: City, path: str, body: dict[str, Any]
) -> None:
    admin = signed_in("admin")
    first = admin.get(f"/api/admin/{path}").json()[0]
    refused = admin.patch(f"/api/admin/{path}/{first['id']}", json=body)
    assert refused.status_code == 422, refused.text
    assert f"{next(iter(body))} may not be null" in refused.text


def test_a_site_keeps_a_point_or_an_area(signed_in: SignIn, city: City) -> None:
    admin = signed_in("admin")
    site_id = _by_code(admin, "/api/admin/sites")["pump-station"]["id"]
    drawn = admin.patch(
        f"/api/admin/sites/{site_id}", json={"area": square((71.31, 51.11, 71.32, 51.12))}
    )
    assert drawn.status_code == 200, drawn.text
    emptied = admin.patch(f"/api/admin/sites/{site_id}", json={"area": None})
    assert emptied.status_code == 422, emptied.text
    assert "a site needs a point (latitude and longitude) or an area" in emptied.text
    beyond = admin.patch(
        f"/api/admin/sites/{site_id}", json={"area": square((71.25, 51.11, 71.32, 51.12))}
    )
    assert beyond.status_code == 422
    assert "outside every district of the city" in beyond.text


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        ({"type": "LineString", "coordinates": [[71.3, 51.2], [71.5, 51.3]]}, "must be a Polygon"),
        (
            {
                "type": "Polygon",
                "coordinates": [
                    [["71.3", "51.2"], ["71.5", "51.2"], ["71.5", "51.3"], ["71.3", "51.2"]]
                ],
            },
            "nested lists of numbers",
        ),
    ],
)
def test_an_outline_must_be_a_polygon_of_numbers(
    signed_in: SignIn, city: City, geometry: dict[str, Any], reason: str
) -> None:
    admin = signed_in("admin")
    created = admin.post(
        "/api/admin/districts", json={"code": "north", "name": "North", "geometry": geometry}
    )
    assert created.status_code == 422, created.text
    assert reason in created.text
    assert "north" not in _by_code(admin, "/api/admin/districts")


def test_a_huge_number_in_an_outline_is_refused_not_a_server_error(
    signed_in: SignIn, city: City
) -> None:
    admin = signed_in("admin")
    body = (
        '{"code": "north", "name": "North", "geometry": {"type": "Polygon", "coordinates": '
        "[[[1" + "0" * 400 + ", 51.2], [71.5, 51.2], [71.5, 51.3], [71.3, 51.2]]]}}"
    )
    created = admin.post(
        "/api/admin/districts", content=body, headers={"Content-Type": "application/json"}
    )
    assert created.status_code == 422, created.text
