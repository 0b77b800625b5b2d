"""Inputs a careless user or an attacker sends, from outside: each gets a clear 4xx, never a
500, and nothing already stored changes (issue 9, findings 1, 2, 3 and 6)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import City
from tests.ops.incident_materials import open_incident

SignIn = Callable[[str], TestClient]
HUGE = 2**63  # past the largest id SQLite can hold, and far past PostgreSQL INTEGER
PAST_INTEGER = 2**31  # one past the largest PostgreSQL INTEGER id
YEAR_ONE = "0001-01-01T00:00:00+14:00"
YEAR_9999 = "9999-12-31T23:00:00-12:00"


def _cursor(priority: Any, at: str, row_id: Any) -> str:
    raw = json.dumps([priority, at, row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _out_of_range_requests(city: City) -> list[tuple[str, str, dict[str, Any]]]:
    camera = f"/api/cameras/{city.street_east_id}"
    return [
        ("GET", f"/api/cameras/{HUGE}", {}),
        ("GET", f"/api/cameras/{HUGE}/snapshot.jpg", {}),
        ("GET", f"/api/sites/{HUGE}", {}),
        ("GET", f"/api/alert-rules/{HUGE}", {}),
        ("POST", f"/api/alerts/{HUGE}/acknowledge", {}),
        ("GET", f"/api/incidents/{HUGE}", {}),
        ("GET", "/api/cameras", {"params": {"offset": HUGE}}),
        ("GET", "/api/cameras", {"params": {"district_id": HUGE}}),
        ("GET", "/api/shifts", {"params": {"before": HUGE}}),
        ("GET", f"/api/cameras/{PAST_INTEGER}", {}),
        ("POST", "/api/shifts", {"json": {"supervisor_id": PAST_INTEGER}}),
        ("POST", "/api/incidents", {"json": {"camera_ids": [PAST_INTEGER]}}),
        ("GET", "/api/sites", {"params": {"offset": HUGE}}),
        ("GET", "/api/evidence", {"params": {"offset": HUGE}}),
        ("GET", "/api/alerts", {"params": {"id": HUGE}}),
        ("GET", "/api/alerts", {"params": {"before": _cursor(1, "2026-01-01T00:00:00+00:00", HUGE)}}),
        ("GET", "/api/alerts", {"params": {"before": _cursor(HUGE, "2026-01-01T00:00:00+00:00", 1)}}),
        ("GET", "/api/incidents", {"params": {"before": _cursor(1, YEAR_ONE, 1)}}),
        ("GET", "/api/alerts", {"params": {"before": base64.b64encode(b"[" * 5000).decode()}}),
        ("GET", f"{camera}/recordings", {"params": {"day": "9999-12-31"}}),
        ("GET", f"{camera}/recordings", {"params": {"start": YEAR_ONE, "end": YEAR_9999}}),
        ("GET", f"{camera}/recordings.m3u8", {"params": {"start": YEAR_ONE, "end": YEAR_9999}}),
        ("GET", f"{camera}/clip.mp4", {"params": {"start": YEAR_9999, "end": YEAR_9999}}),
        ("POST", f"{camera}/holds", {"json": {"start": YEAR_ONE, "end": YEAR_9999, "reason": "x"}}),
        ("POST", f"{camera}/evidence", {"json": {"start": YEAR_ONE, "end": YEAR_9999, "reason": "x"}}),
        ("GET", "/api/incidents/sla", {"params": {"since": YEAR_ONE}}),
        ("GET", "/api/crimes/summary", {"params": {"until": YEAR_9999}}),
        ("POST", "/api/alerts", {"json": {"kind": "fight", "title": "x", "camera_id": HUGE}}),
        ("POST", "/api/incidents", {"json": {"alert_ids": [HUGE]}}),
        ("PATCH", camera, {"json": {"site_id": HUGE}}),
        ("PATCH", camera, {"content": b'{"latitude": NaN}'}),
        ("PATCH", camera, {"content": b'{"longitude": -Infinity}'}),
        ("POST", "/api/alerts", {"content": b'{"kind": "x", "title": "x", "latitude": NaN, "longitude": 1}'}),
        ("POST", "/api/alerts", {"content": b'{"kind": "x", "title": "x", "details": {"v": NaN}}'}),
        ("POST", "/api/alerts", {"json": {"kind": "x", "title": "x", "details": {"k": "\u0000"}}}),
        ("POST", "/api/alert-rules", {"content": b'{"name": "n", "kind": "*", "scope": "city", "min_confidence": NaN}'}),
    ]  # fmt: skip


def test_out_of_range_ids_times_and_numbers_are_refused_not_crashed(
    signed_in: SignIn, city: City
) -> None:
    client = signed_in("admin")
    before = client.get(f"/api/cameras/{city.street_east_id}").json()
    for method, url, options in _out_of_range_requests(city):
        headers = {"Content-Type": "application/json"} if "content" in options else {}
        answer = client.request(method, url, headers=headers, **options)
        where = f"{method} {url} {options}"
        assert answer.status_code in (404, 422), f"{where} -> {answer.status_code} {answer.text}"
        assert answer.json()["detail"], where
    assert client.get(f"/api/cameras/{city.street_east_id}").json() == before
    assert client.get("/api/alerts").json() == [], "no alert was stored"


def test_an_invalid_value_is_not_sent_back(signed_in: SignIn, city: City) -> None:
    client = signed_in("admin")

    answer = client.patch(
        f"/api/cameras/{city.street_east_id}",
        content=b'{"latitude": NaN, "name": "' + b"x" * 5000 + b'"}',
        headers={"Content-Type": "application/json"},
    )

    assert answer.status_code == 422
    problems = answer.json()["detail"]
    assert {tuple(p["loc"]) for p in problems} == {("body", "latitude"), ("body", "name")}
    assert all(set(p) == {"loc", "msg", "type"} for p in problems), "no input, no context"
    assert "xxxx" not in answer.text


def test_dispatch_to_a_police_unit_that_does_not_exist_is_refused(
    signed_in: SignIn, city: City
) -> None:
    client = signed_in("operator")
    incident = open_incident(client, city.street_east_id, dispatch=False)

    answer = client.post(
        f"/api/incidents/{incident['id']}/transitions",
        json={"to": "dispatched", "police_unit_id": 9999},
    )

    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] == "no police unit 9999"
    detail = client.get(f"/api/incidents/{incident['id']}").json()
    assert (detail["status"], detail["police_unit_id"]) == ("new", None)


# -- cross-site request forgery (finding 2) ---------------------------------------------------

FOREIGN = {"Origin": "http://127.0.0.1:9999", "Sec-Fetch-Site": "same-site"}
SIBLING = {"Origin": "https://cams.city.example"}  # an old browser: no Sec-Fetch-Site


@pytest.mark.parametrize("headers", [FOREIGN, SIBLING, {"Origin": "null"}])
def test_a_signed_in_browser_cannot_be_made_to_change_anything_from_another_origin(
    signed_in: SignIn, city: City, headers: dict[str, str]
) -> None:
    client = signed_in("operator")  # the session cookie rides along, as in a browser
    alert = client.post("/api/alerts", json={"kind": "fight", "title": "at the gate"})
    assert alert.status_code == 201, alert.text
    alert_id = alert.json()["id"]
    incident = open_incident(client, city.street_east_id, dispatch=False)

    forged = [
        client.post("/api/alerts", json={"kind": "fake", "title": "forged"}, headers=headers),
        client.post(
            f"/api/alerts/{alert_id}/acknowledge",
            content=b"a=1",
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
        ),
        client.post(
            f"/api/incidents/{incident['id']}/attachments",
            files={"file": ("note.txt", b"forged evidence", "text/plain")},
            headers=headers,
        ),
        client.post(
            "/api/auth/login",
            json={"username": "operator", "password": "x"},
            headers=headers,
        ),
    ]

    assert [answer.status_code for answer in forged] == [403] * len(forged)
    assert "cross-origin request refused" in forged[0].json()["detail"]
    alerts = client.get("/api/alerts").json()
    assert [(a["title"], a["status"]) for a in alerts] == [("at the gate", "new")]
    assert client.get(f"/api/incidents/{incident['id']}/attachments").json() == []


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a program, not a browser
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},  # the console
        {"Origin": "http://testserver"},  # an older browser, same origin
        {"Sec-Fetch-Site": "none"},  # typed in by the user
        # behind a proxy that rewrites Host (nginx's $host drops the port): the browser's
        # own Sec-Fetch-Site decides, not Origin against Host
        {"Origin": "https://occ.city.example:8443", "Sec-Fetch-Site": "same-origin"},
    ],
)
def test_the_console_and_programs_still_send_changes(
    signed_in: SignIn, headers: dict[str, str]
) -> None:
    client = signed_in("operator")
    answer = client.post("/api/alerts", json={"kind": "fight", "title": "x"}, headers=headers)
    assert answer.status_code == 201, answer.text


def test_a_trusted_origin_may_send_changes(
    database: Any, city: City, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safecity.api.app import create_app
    from safecity.settings import Settings
    from tests import factories as f

    settings = Settings(data_dir=tmp_path, api={"trusted_origins": ["https://occ.city.example/"]})
    with TestClient(create_app(settings, database)) as client:
        signed = client.post(
            "/api/auth/login", json={"username": "operator", "password": f.PASSWORD}
        )
        assert signed.status_code == 200
        trusted = {"Origin": "https://occ.city.example", "Sec-Fetch-Site": "cross-site"}
        other = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
        assert (
            client.post(
                "/api/alerts", json={"kind": "a", "title": "x"}, headers=trusted
            ).status_code
            == 201
        )
        assert (
            client.post("/api/alerts", json={"kind": "a", "title": "y"}, headers=other).status_code
            == 403
        )


# -- request size limits (finding 3) ----------------------------------------------------------


def test_a_huge_password_is_refused_unread_and_not_echoed(client: TestClient) -> None:
    password = "p" * (20 * 1024 * 1024)

    answer = client.post("/api/auth/login", json={"username": "admin", "password": password})

    assert answer.status_code == 413
    assert len(answer.content) < 1000


def test_a_long_password_under_the_body_limit_is_refused_without_echo(client: TestClient) -> None:
    answer = client.post("/api/auth/login", json={"username": "admin", "password": "p" * 500_000})

    assert answer.status_code == 422
    assert len(answer.content) < 1000


@pytest.mark.parametrize(("size", "status"), [(5 * 1024 * 1024, 413), (20 * 1024, 422)])
def test_large_alert_details_are_refused_and_nothing_is_stored(
    signed_in: SignIn, size: int, status: int
) -> None:
    client = signed_in("operator")

    answer = client.post(
        "/api/alerts", json={"kind": "fight", "title": "x", "details": {"blob": "x" * size}}
    )

    assert answer.status_code == status, answer.text[:300]
    assert len(answer.content) < 1000
    assert client.get("/api/alerts").json() == []


def test_small_alert_details_are_kept(signed_in: SignIn) -> None:
    client = signed_in("operator")
    details = {"zone": "gate", "people": 3, "nested": {"ok": [1, 2.5, None, True]}}

    answer = client.post("/api/alerts", json={"kind": "fight", "title": "x", "details": details})

    assert answer.status_code == 201, answer.text
    assert client.get("/api/alerts").json()[0]["details"] == details


# -- control characters (finding 6) -----------------------------------------------------------


@pytest.mark.parametrize("name", ["\u202egnp.exe", "Bell\u0007", "Nul\u0000", "two\nlines"])
def test_camera_text_with_control_characters_is_refused(
    signed_in: SignIn, city: City, name: str
) -> None:
    client = signed_in("admin")
    url = f"/api/cameras/{city.street_east_id}"
    before = client.get(url).json()

    answers = [client.patch(url, json={field: name}) for field in ("name", "vendor", "address")]

    rules = [
        "must be one line of text without control characters",
        "must be one line of text without control characters",
        "must be text without control characters",  # an address may have a second line
    ]
    for answer, rule in zip(answers, rules, strict=True):
        if rule.startswith("must be text") and name == "two\nlines":
            assert answer.status_code == 200, answer.text
            continue
        assert answer.status_code == 422, answer.text
        assert answer.json()["detail"][0]["msg"] == rule
    after = client.get(url).json()
    assert {**after, "address": before["address"]} == before


def test_kazakh_and_russian_text_is_accepted(signed_in: SignIn, city: City) -> None:
    client = signed_in("admin")
    url = f"/api/cameras/{city.street_east_id}"

    answer = client.patch(
        url, json={"name": "Қабанбай батыр даңғылы — вход №2", "address": "ул. Абая, 10"}
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "Қабанбай батыр даңғылы — вход №2"


def test_a_control_character_in_a_sign_in_name_is_refused_not_a_server_error(
    client: TestClient,
) -> None:
    answer = client.post(
        "/api/auth/login", json={"username": "adm\u0000in", "password": "whatever-it-is"}
    )
    assert answer.status_code == 422, answer.text
