"""Admins manage users over /api/admin/users: every rule refuses with a reason and changes
nothing, sessions end when they should, passwords never leave except generated, once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safecity.bounds import MAX_ID
from safecity.store.engine import Database
from tests import factories as f
from tests.audit.entries import audit_entries

USERS = "/api/admin/users"
Headers = dict[str, str]


def sign_in(client: TestClient, username: str, password: str = f.PASSWORD) -> Headers:
    """A bearer token for ``username``, as headers; the test client keeps no cookie, so each
    request says who sends it."""
    response = client.post(
        "/api/auth/login", json={"username": username, "password": password, "issue_token": True}
    )
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def can_sign_in(client: TestClient, username: str, password: str) -> bool:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    client.cookies.clear()
    return response.status_code == 200


def signed_in(client: TestClient, headers: Headers) -> bool:
    return client.get("/api/auth/me", headers=headers).status_code == 200


def user_id(client: TestClient, admin: Headers, username: str) -> int:
    [found] = [u for u in everyone(client, admin) if u["username"] == username]
    return int(found["id"])


def everyone(client: TestClient, admin: Headers) -> list[dict[str, Any]]:
    response = client.get(USERS, headers=admin, params={"limit": 500})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


@pytest.fixture
def admin(client: TestClient) -> Headers:
    return sign_in(client, "admin")


def test_admin_lists_users_filtered_by_role_organization_and_active(
    client: TestClient, admin: Headers
) -> None:
    page = client.get(USERS, headers=admin).json()
    assert page["total"] == 6
    assert [u["username"] for u in page["items"]] == sorted(u["username"] for u in page["items"])
    officers = client.get(USERS, headers=admin, params={"role": "police_duty_officer"}).json()
    assert {u["username"] for u in officers["items"]} == {"officer-east", "orphan-officer"}
    water = client.get(USERS, headers=admin, params={"organization": "water-co"}).json()
    assert [u["username"] for u in water["items"]] == ["water"]
    assert water["items"][0]["organization"]["code"] == "water-co"
    second = client.get(USERS, headers=admin, params={"limit": 2, "offset": 2}).json()
    assert [u["username"] for u in second["items"]] == [u["username"] for u in page["items"][2:4]]
    assert client.get(USERS, headers=admin, params={"active": "false"}).json()["total"] == 0

    client.post(f"{USERS}/{user_id(client, admin, 'water')}/deactivate", headers=admin)

    inactive = client.get(USERS, headers=admin, params={"active": "false"}).json()
    assert [u["username"] for u in inactive["items"]] == ["water"]
    assert client.get(USERS, headers=admin, params={"active": "true"}).json()["total"] == 5


def test_admin_adds_a_user_whose_generated_password_is_shown_once(
    client: TestClient, admin: Headers, database: Database
) -> None:
    response = client.post(
        USERS,
        headers=admin,
        json={"username": "aigerim", "full_name": "Aigerim S.", "role": "operator"},
    )

    assert response.status_code == 201, response.text
    created = response.json()
    password = created["generated_password"]
    assert isinstance(password, str) and len(password) >= 16
    assert can_sign_in(client, "aigerim", password)
    shown = client.get(f"{USERS}/{created['user']['id']}", headers=admin)
    assert shown.json()["username"] == "aigerim" and password not in shown.text
    [entry] = audit_entries(database, "user.add")
    assert (entry.actor, entry.target) == ("admin", f"user:{created['user']['id']}")
    assert entry.details == {
        "username": "aigerim",
        "full_name": "Aigerim S.",
        "role": "operator",
        "organization": None,
        "police_unit": None,
        "generated_password": True,
    }


def test_duty_officer_added_by_unit_id_takes_its_organization(
    client: TestClient, admin: Headers
) -> None:
    unit = client.get(f"{USERS}/{user_id(client, admin, 'officer-east')}", headers=admin).json()
    response = client.post(
        USERS,
        headers=admin,
        json={
            "username": "officer-two",
            "full_name": "Officer Two",
            "role": "police_duty_officer",
            "police_unit_id": unit["police_unit"]["id"],
            "password": "long-enough-1",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["generated_password"] is None
    assert response.json()["user"]["organization"]["code"] == "police-dept"
    assert can_sign_in(client, "officer-two", "long-enough-1")


@pytest.mark.parametrize(
    ("fields", "status", "reason"),
    [
        ({"organization_code": "nope"}, 422, "no organization with code 'nope'"),
        ({"organization_id": 99999}, 422, "no organization with id 99999"),
        ({"organization_code": "water-co", "organization_id": 1}, 422, "not both"),
        ({"police_unit_code": "unit-east"}, 422, "only a police duty officer has a police unit"),
        ({"role": "police_duty_officer"}, 422, "needs a police unit"),
        ({"role": "akimat", "organization_code": "water-co"}, 422, "akimat organization"),
        ({"password": "short"}, 422, "at least 8 characters"),
        ({"username": "Not Valid"}, 422, "a username is"),
        ({"username": "operator"}, 422, "is taken"),
        ({"role": "overlord"}, 422, "role"),
        ({"full_name": "a\u0000b"}, 422, "control characters"),
    ],
)
def test_add_refuses_bad_input_with_a_reason_and_changes_nothing(
    client: TestClient,
    admin: Headers,
    database: Database,
    fields: dict[str, Any],
    status: int,
    reason: str,
) -> None:
    before = everyone(client, admin)
    body = {"username": "newcomer", "full_name": "New Comer", "role": "operator"} | fields

    response = client.post(USERS, headers=admin, json=body)

    assert response.status_code == status
    assert reason in response.text
    assert everyone(client, admin) == before
    assert audit_entries(database, "user.add") == []


@pytest.mark.parametrize("username", ["operator", "water", "akimat-west", "officer-east"])
def test_only_admins_manage_users(client: TestClient, admin: Headers, username: str) -> None:
    target = user_id(client, admin, "operator")
    headers = sign_in(client, username)
    before = everyone(client, admin)
    attempts = [
        client.get(USERS, headers=headers),
        client.get(f"{USERS}/{target}", headers=headers),
        client.post(
            USERS, headers=headers, json={"username": "x1", "full_name": "X", "role": "admin"}
        ),
        client.patch(f"{USERS}/{target}", headers=headers, json={"role": "admin"}),
        client.post(f"{USERS}/{target}/deactivate", headers=headers),
        client.post(f"{USERS}/{target}/activate", headers=headers),
        client.post(f"{USERS}/{target}/password", headers=headers, json={}),
        client.post(f"{USERS}/{target}/sign-out", headers=headers),
    ]
    assert [a.status_code for a in attempts] == [403] * len(attempts)
    assert everyone(client, admin) == before
    client.cookies.clear()
    assert client.get(USERS).status_code == 401


def test_edit_changes_role_and_organization_and_audits_what_changed(
    client: TestClient, admin: Headers, database: Database
) -> None:
    target = user_id(client, admin, "operator")

    response = client.patch(
        f"{USERS}/{target}",
        headers=admin,
        json={"role": "akimat", "organization_code": "akimat-west", "full_name": "Dana K."},
    )

    assert response.status_code == 200, response.text
    edited = response.json()
    assert (edited["role"], edited["organization"]["code"], edited["full_name"]) == (
        "akimat",
        "akimat-west",
        "Dana K.",
    )
    [entry] = audit_entries(database, "user.update")
    assert entry.details == {
        "username": "operator",
        "changed": {
            "full_name": {"from": "Operator", "to": "Dana K."},
            "role": {"from": "operator", "to": "akimat"},
            "organization": {"from": None, "to": "akimat-west"},
        },
    }
    me = client.get("/api/auth/me", headers=sign_in(client, "operator")).json()
    assert me["role"] == "akimat" and me["city_wide"] is False


def test_edit_clears_a_unit_when_an_officer_changes_role(
    client: TestClient, admin: Headers
) -> None:
    target = user_id(client, admin, "officer-east")
    kept = client.patch(f"{USERS}/{target}", headers=admin, json={"role": "analyst"})
    assert kept.status_code == 422 and "only a police duty officer" in kept.text

    moved = client.patch(
        f"{USERS}/{target}",
        headers=admin,
        json={"role": "analyst", "police_unit_code": None, "organization_id": None},
    )

    assert moved.status_code == 200, moved.text
    assert moved.json()["police_unit"] is None and moved.json()["organization"] is None


@pytest.mark.parametrize(
    ("username", "body", "reason"),
    [
        ("operator", {"role": "police_duty_officer"}, "needs a police unit"),
        ("water", {"police_unit_code": "unit-east"}, "only a police duty officer"),
        ("akimat-west", {"organization_code": "water-co"}, "akimat organization"),
        ("akimat-west", {"organization_code": None}, "akimat organization"),
        ("water", {"organization_code": "nope"}, "no organization with code 'nope'"),
        ("officer-east", {"police_unit_code": "ghost"}, "no police unit with code 'ghost'"),
        ("operator", {"full_name": None}, "full_name cannot be cleared"),
        ("operator", {"role": None}, "role cannot be cleared"),
        ("operator", {"username": "renamed"}, "extra"),
    ],
)
def test_edit_refuses_bad_input_and_changes_nothing(
    client: TestClient,
    admin: Headers,
    database: Database,
    username: str,
    body: dict[str, Any],
    reason: str,
) -> None:
    target = user_id(client, admin, username)
    before = client.get(f"{USERS}/{target}", headers=admin).json()

    response = client.patch(f"{USERS}/{target}", headers=admin, json=body)

    assert response.status_code == 422
    assert reason in response.text
    assert client.get(f"{USERS}/{target}", headers=admin).json() == before
    assert audit_entries(database, "user.update") == []


def test_unknown_user_id_is_404_and_an_impossible_one_422(
    client: TestClient, admin: Headers
) -> None:
    for method, path, body in [
        ("GET", "", None),
        ("PATCH", "", {"full_name": "X"}),
        ("POST", "/deactivate", None),
        ("POST", "/activate", None),
        ("POST", "/password", {}),
        ("POST", "/sign-out", None),
    ]:
        missing = client.request(method, f"{USERS}/99999{path}", headers=admin, json=body)
        assert (missing.status_code, missing.json()) == (404, {"detail": "no such user"})
        huge = client.request(method, f"{USERS}/{MAX_ID + 1}{path}", headers=admin, json=body)
        assert huge.status_code == 422


def test_deactivated_user_is_signed_out_at_once_and_cannot_sign_in(
    client: TestClient, admin: Headers, database: Database
) -> None:
    operator = sign_in(client, "operator")
    assert signed_in(client, operator)
    target = user_id(client, admin, "operator")

    response = client.post(f"{USERS}/{target}/deactivate", headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["is_active"] is False
    assert not signed_in(client, operator)
    assert not can_sign_in(client, "operator", f.PASSWORD)
    again = client.post(f"{USERS}/{target}/deactivate", headers=admin)
    assert again.status_code == 409 and "already deactivated" in again.text
    [entry] = audit_entries(database, "user.deactivate")
    assert entry.details == {"username": "operator", "sessions_ended": 1}

    assert client.post(f"{USERS}/{target}/activate", headers=admin).status_code == 200
    assert can_sign_in(client, "operator", f.PASSWORD)
    assert [e.target for e in audit_entries(database, "user.activate")] == [f"user:{target}"]


def test_sign_out_everywhere_ends_every_session(
    client: TestClient, admin: Headers, database: Database
) -> None:
    phone, desk = sign_in(client, "officer-east"), sign_in(client, "officer-east")
    assert signed_in(client, phone) and signed_in(client, desk)
    target = user_id(client, admin, "officer-east")
    assert client.get(f"{USERS}/{target}", headers=admin).json()["open_sessions"] == 2

    response = client.post(f"{USERS}/{target}/sign-out", headers=admin)

    assert response.json() == {"sessions_ended": 2}
    assert not signed_in(client, phone) and not signed_in(client, desk)
    assert signed_in(client, admin)
    assert can_sign_in(client, "officer-east", f.PASSWORD)
    [entry] = audit_entries(database, "user.sign_out_everywhere")
    assert entry.details == {"username": "officer-east", "sessions_ended": 2}


def test_password_reset_ends_sessions_and_never_logs_the_password(
    client: TestClient, admin: Headers, database: Database
) -> None:
    water = sign_in(client, "water")
    target = user_id(client, admin, "water")

    chosen = client.post(
        f"{USERS}/{target}/password", headers=admin, json={"password": "new-water-pass"}
    )

    assert chosen.json() == {"generated_password": None, "sessions_ended": 1}
    assert not signed_in(client, water)
    assert not can_sign_in(client, "water", f.PASSWORD)
    assert can_sign_in(client, "water", "new-water-pass")

    generated = client.post(f"{USERS}/{target}/password", headers=admin, json={}).json()
    password = generated["generated_password"]
    assert can_sign_in(client, "water", password)
    entries = audit_entries(database, "user.password_reset")
    assert [e.details["generated"] for e in entries] == [False, True]
    logged = json.dumps([e.details for e in audit_entries(database)])
    assert "new-water-pass" not in logged and password not in logged


def test_password_reset_refuses_a_short_password_and_keeps_the_old_one(
    client: TestClient, admin: Headers, database: Database
) -> None:
    water = sign_in(client, "water")
    target = user_id(client, admin, "water")

    response = client.post(f"{USERS}/{target}/password", headers=admin, json={"password": "short"})

    assert response.status_code == 422 and "at least 8 characters" in response.text
    assert signed_in(client, water)
    assert can_sign_in(client, "water", f.PASSWORD)
    assert audit_entries(database, "user.password_reset") == []


def test_the_last_active_admin_cannot_leave(client: TestClient, admin: Headers) -> None:
    me = user_id(client, admin, "admin")
    for attempt in (
        client.post(f"{USERS}/{me}/deactivate", headers=admin),
        client.patch(f"{USERS}/{me}", headers=admin, json={"role": "operator"}),
    ):
        assert attempt.status_code == 409
        assert "admin is the last active administrator" in attempt.text
    # A deactivated admin is no admin at all.
    spare = client.post(
        USERS, headers=admin, json={"username": "spare", "full_name": "Spare", "role": "admin"}
    ).json()["user"]["id"]
    client.post(f"{USERS}/{spare}/deactivate", headers=admin)
    assert client.post(f"{USERS}/{me}/deactivate", headers=admin).status_code == 409
    assert client.get(f"{USERS}/{me}", headers=admin).json()["is_active"] is True

    client.post(f"{USERS}/{spare}/activate", headers=admin)
    stepped_down = client.patch(f"{USERS}/{me}", headers=admin, json={"role": "operator"})

    assert stepped_down.status_code == 200, stepped_down.text
    assert client.get(USERS, headers=admin).status_code == 403
