"""Alerts and incidents over HTTP: the scripted path from a manual alert to a closed incident,
scoping (404), roles (403) and lifecycle refusals (409)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safecity.audit.log import verify
from safecity.audit.models import AuditEntry
from safecity.city.models import PoliceUnit
from safecity.store.engine import Database
from tests.api.conftest import City

SignIn = Callable[[str], TestClient]


def _unit_east(database: Database) -> int:
    with database.session() as s:
        unit_id = s.scalar(select(PoliceUnit.id).where(PoliceUnit.code == "unit-east"))
    assert unit_id is not None
    return unit_id


def _move(client: TestClient, incident_id: int, to: str, reason: str | None = None) -> int:
    body = {"to": to} if reason is None else {"to": to, "reason": reason}
    return client.post(f"/api/incidents/{incident_id}/transitions", json=body).status_code


def test_the_scripted_path(signed_in: SignIn, city: City, database: Database) -> None:
    client = signed_in("operator")
    response = client.post(
        "/api/alerts",
        json={"kind": "fight", "title": "Fight at the bus stop", "camera_id": city.street_east_id},
    )
    assert response.status_code == 201, response.text
    alert = response.json()
    assert alert["district_id"] == city.east_id and alert["status"] == "new"
    again = client.post(
        "/api/alerts",
        json={"kind": "fight", "title": "Fight at the bus stop", "camera_id": city.street_east_id},
    ).json()
    assert again["id"] == alert["id"] and again["count"] == 2 and again["merged"]
    assert client.post(f"/api/alerts/{alert['id']}/acknowledge").json()["status"] == "acknowledged"

    response = client.post(
        "/api/incidents",
        json={"alert_ids": [alert["id"]], "type_code": "assault", "summary": "two men fighting"},
    )
    assert response.status_code == 201, response.text
    incident = response.json()
    number, incident_id = incident["number"], incident["id"]
    assert incident["status"] == "new" and incident["camera_ids"] == [city.street_east_id]
    assert incident["alert_ids"] == [alert["id"]] and incident["allowed"] == ["dispatched"]
    assert incident["sop"][0]["state"] == "pending"
    assert (
        client.post(f"/api/incidents/{incident_id}/sop/0", json={"state": "done"}).status_code
        == 201
    )
    assert (
        client.post(f"/api/incidents/{incident_id}/sop/1", json={"state": "skipped"}).status_code
        == 422
    )
    assert _move(client, incident_id, "dispatched") == 200
    assert client.get(f"/api/incidents/{incident_id}").json()["police_unit_id"] == _unit_east(
        database
    )

    officer = signed_in("officer-east")
    queue = officer.get("/api/incidents").json()
    assert [item["number"] for item in queue] == [number]
    assert _move(officer, incident_id, "closed") == 409
    assert _move(officer, incident_id, "accepted") == 200
    assert _move(officer, incident_id, "on_scene") == 200
    assert (
        officer.post(f"/api/incidents/{incident_id}/notes", json={"text": "detained"}).status_code
        == 201
    )
    assert _move(officer, incident_id, "resolved") == 200
    assert _move(officer, incident_id, "closed") == 403

    client = signed_in("operator")
    assert _move(client, incident_id, "closed") == 200
    detail = client.get(f"/api/incidents/{incident_id}").json()
    assert detail["status"] == "closed" and detail["allowed"] == []
    for stamp in ("dispatched_at", "accepted_at", "on_scene_at", "resolved_at", "closed_at"):
        assert detail[stamp] is not None
    steps = [(e["actor"], e["kind"], e["to_status"]) for e in detail["events"]]
    assert steps == [
        ("operator", "transition", "new"),
        ("operator", "sop_step", None),
        ("operator", "transition", "dispatched"),
        ("officer-east", "transition", "accepted"),
        ("officer-east", "transition", "on_scene"),
        ("officer-east", "note", None),
        ("officer-east", "transition", "resolved"),
        ("operator", "transition", "closed"),
    ]
    assert detail["sop"][0]["state"] == "done" and detail["sop"][0]["by"] == "operator"

    with database.session() as s:
        transitions = s.scalars(
            select(AuditEntry.details)
            .where(
                AuditEntry.action == "incident.transition",
                AuditEntry.target == f"incident:{number}",
            )
            .order_by(AuditEntry.seq)
        ).all()
        assert [d["to"] for d in transitions] == [
            "dispatched",
            "accepted",
            "on_scene",
            "resolved",
            "closed",
        ]
        assert s.scalar(select(func.count()).where(AuditEntry.action == "incident.note")) == 1
    assert verify(database).intact


def test_rejection_needs_a_reason_and_returns_to_the_occ(signed_in: SignIn, city: City) -> None:
    client = signed_in("operator")
    incident = client.post(
        "/api/incidents", json={"type_code": "theft", "latitude": 51.15, "longitude": 71.45}
    ).json()
    assert _move(client, incident["id"], "dispatched") == 200
    officer = signed_in("officer-east")
    assert _move(officer, incident["id"], "new") == 422
    assert _move(officer, incident["id"], "new", "no patrol free") == 200
    assert officer.get("/api/incidents").json() == []
    assert officer.get(f"/api/incidents/{incident['id']}").status_code == 404
    client = signed_in("operator")
    detail = client.get(f"/api/incidents/{incident['id']}").json()
    assert detail["status"] == "new" and detail["police_unit_id"] is None
    assert detail["events"][-1]["text"] == "no patrol free"


def test_scope_roles_and_refusals(signed_in: SignIn, city: City) -> None:
    client = signed_in("operator")
    west_alert = client.post(
        "/api/alerts", json={"kind": "smoke", "title": "Smoke", "camera_id": city.street_west_id}
    ).json()
    west = client.post(
        "/api/incidents", json={"type_code": "fire", "latitude": 51.15, "longitude": 71.35}
    ).json()
    assert west["district_id"] == city.west_id
    response = client.post(f"/api/incidents/{west['id']}/transitions", json={"to": "closed"})
    assert response.status_code == 409
    assert response.json()["detail"]["allowed"] == ["dispatched"]
    # West has no unit and the city no fallback: a clear refusal, nothing changes.
    response = client.post(f"/api/incidents/{west['id']}/transitions", json={"to": "dispatched"})
    assert response.status_code == 422 and "fallback" in response.json()["detail"]
    assert (
        client.post(
            "/api/incidents", json={"type_code": "nonsense", "latitude": 51.15, "longitude": 71.35}
        ).status_code
        == 422
    )

    officer = signed_in("officer-east")
    assert officer.get(f"/api/incidents/{west['id']}").status_code == 404
    assert officer.post(f"/api/incidents/{west['id']}/notes", json={"text": "x"}).status_code == 404
    assert officer.post("/api/alerts", json={"kind": "x", "title": "x"}).status_code == 403
    assert (
        officer.post(
            "/api/incidents", json={"type_code": "fire", "latitude": 51.15, "longitude": 71.45}
        ).status_code
        == 403
    )
    assert [a["id"] for a in officer.get("/api/alerts").json()] == []
    assert officer.post(f"/api/alerts/{west_alert['id']}/acknowledge").status_code == 403

    akimat = signed_in("akimat-west")
    assert [a["id"] for a in akimat.get("/api/alerts").json()] == [west_alert["id"]]
    assert [i["id"] for i in akimat.get("/api/incidents").json()] == [west["id"]]
    water = signed_in("water")
    assert water.get("/api/alerts").json() == [] and water.get("/api/incidents").json() == []
    orphan = signed_in("orphan-officer")
    assert orphan.get("/api/incidents").json() == []


def test_sla_figures_over_the_callers_incidents(signed_in: SignIn, city: City) -> None:
    client = signed_in("operator")
    alert = client.post(
        "/api/alerts", json={"kind": "fight", "title": "Fight", "camera_id": city.street_east_id}
    ).json()
    incident = client.post(
        "/api/incidents", json={"alert_ids": [alert["id"]], "type_code": "assault"}
    ).json()
    client.post(
        "/api/incidents", json={"type_code": "theft", "latitude": 51.15, "longitude": 71.35}
    )
    assert _move(client, incident["id"], "dispatched") == 200
    officer = signed_in("officer-east")
    assert _move(officer, incident["id"], "accepted") == 200
    figures = officer.get("/api/incidents/sla").json()
    assert figures["incidents"] == 1  # only the unit's own
    client = signed_in("operator")
    figures = client.get("/api/incidents/sla").json()
    stages = {stage["stage"]: stage for stage in figures["stages"]}
    assert figures["incidents"] == 2
    assert stages["acknowledge"]["count"] == 1 and stages["acknowledge"]["p50_seconds"] >= 0
    assert stages["dispatch"]["count"] == 1 and stages["accept"]["count"] == 1
    assert stages["arrive"]["count"] == 0 and stages["arrive"]["p90_seconds"] is None
    later = client.get("/api/incidents/sla", params={"since": "2100-01-01T00:00:00Z"}).json()
    assert later["incidents"] == 0


def test_alert_pages_walk_past_500_in_order_without_gaps_or_repeats(
    signed_in: SignIn, city: City, database: Database
) -> None:
    from datetime import UTC, datetime, timedelta

    from safecity.ops.models import Alert, AlertSource

    start = datetime(2026, 11, 1, tzinfo=UTC)
    with database.session() as s:
        s.add_all(
            Alert(
                source=AlertSource.MANUAL,
                camera_id=city.street_east_id,
                district_id=city.east_id,
                kind="test",
                priority=1 + n % 4,
                title=f"alert {n}",
                dedup_key=f"test:{n}",
                # every tenth pair shares a time: the id breaks the tie
                first_at=start + timedelta(seconds=n - n % 2 * (n % 10 == 1)),
                last_at=start + timedelta(seconds=n - n % 2 * (n % 10 == 1)),
            )
            for n in range(1_203)
        )
    client = signed_in("operator")
    seen: list[tuple[int, str, int]] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 500}
        if cursor:
            params["before"] = cursor
        response = client.get("/api/alerts", params=params)
        assert response.status_code == 200, response.text
        pages += 1
        seen += [(a["priority"], a["last_at"], a["id"]) for a in response.json()]
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len({row[2] for row in seen}) == 1_203
    expected = sorted(
        seen, key=lambda row: (row[0], -datetime.fromisoformat(row[1]).timestamp(), -row[2])
    )
    assert seen == expected

    bad = client.get("/api/alerts", params={"before": "not-a-cursor"})
    assert bad.status_code == 422
    assert "cursor" in bad.json()["detail"]


def test_incident_pages_follow_the_same_cursor_rules(signed_in: SignIn, city: City) -> None:
    client = signed_in("operator")
    opened = [
        client.post(
            "/api/incidents",
            json={"type_code": "theft", "camera_ids": [city.street_east_id], "priority": 1 + n % 2},
        ).json()["id"]
        for n in range(5)
    ]
    first = client.get("/api/incidents", params={"limit": 3})
    rest = client.get(
        "/api/incidents", params={"limit": 3, "before": first.headers["X-Next-Cursor"]}
    )
    assert "X-Next-Cursor" not in rest.headers
    ids = [i["id"] for i in first.json() + rest.json()]
    assert sorted(ids) == sorted(opened)
    assert ids == [opened[4], opened[2], opened[0], opened[3], opened[1]]


def test_alerts_by_id_for_an_incident_page(signed_in: SignIn, city: City) -> None:
    client = signed_in("operator")
    ids = [
        client.post(
            "/api/alerts", json={"kind": f"k{n}", "title": "T", "camera_id": city.street_east_id}
        ).json()["id"]
        for n in range(3)
    ]
    picked = client.get("/api/alerts", params=[("id", ids[0]), ("id", ids[2])])
    assert sorted(a["id"] for a in picked.json()) == [ids[0], ids[2]]
    assert signed_in("akimat-west").get("/api/alerts", params={"id": ids[0]}).json() == []


def test_incident_types_with_their_sop_and_crime_kind(signed_in: SignIn) -> None:
    types = {t["code"]: t for t in signed_in("operator").get("/api/incident-types").json()}
    assert types["robbery"]["crime_kind"] == "robbery"
    assert types["fire"]["crime_kind"] is None
    assert types["assault"]["default_priority"] == 1
    assert types["assault"]["sop"][0] == "Keep the scene on camera"


def test_alerts_posted_at_once_by_many_clients_all_land(
    signed_in: SignIn, city: City, database: Database
) -> None:
    """The app runs an endpoint and its session's commit as separate thread-pool calls, so a
    pool thread may take the next request while the last one it served still holds the write
    lock: every request must wait its turn, none may be refused for it."""
    client = signed_in("operator")
    senders, each = 8, 15
    statuses: list[int] = []
    errors: list[BaseException] = []

    def send(sender: int) -> None:
        try:
            for n in range(each):
                response = client.post(
                    "/api/alerts",
                    json={
                        "kind": f"test_{sender}_{n}",
                        "title": "Burst",
                        "camera_id": city.street_east_id,
                    },
                )
                statuses.append(response.status_code)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(sender,)) for sender in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    assert statuses == [201] * (senders * each)
    with database.session() as s:
        raised = s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "alert.raise")
        )
    assert raised == senders * each
    assert verify(database).intact
