"""The live feed over a real HTTP server: what reaches which console, when, and after a gap."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from sqlalchemy import select

from safecity.api.app import create_app
from safecity.bus import Bus
from safecity.ops.alerts.intake import raise_alert
from safecity.ops.models import Alert, AlertSource
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.api.conftest import City
from tests.support.live_server import serve_app
from tests.support.sse import EventStream

FEED = "/api/ops/feed"


@dataclass(frozen=True)
class Server:
    url: str
    database: Database
    tokens: dict[str, str]
    bus: Bus

    def stream(self, username: str, **kwargs: str) -> EventStream:
        stream = EventStream(self.url + FEED, token=self.tokens[username], **kwargs)
        assert stream.status == 200
        assert stream.next().event == "hello"
        return stream

    def get(self, username: str, path: str) -> httpx2.Response:
        return httpx2.get(
            self.url + path,
            headers={"Authorization": f"Bearer {self.tokens[username]}"},
            timeout=10,
        )

    def post(self, username: str, path: str, body: object) -> httpx2.Response:
        return httpx2.post(
            self.url + path,
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[username]}"},
            timeout=10,
        )


USERS = ("operator", "akimat-west", "officer-east", "water", "orphan-officer")


@pytest.fixture
def server(database: Database, city: City, tmp_path: Path) -> Iterator[Server]:
    app = create_app(Settings(data_dir=tmp_path), database)
    with serve_app(app) as url:
        tokens = {}
        for username in USERS:
            response = httpx2.post(
                url + "/api/auth/login", json={"username": username, "password": f.PASSWORD}
            )
            assert response.status_code == 200, response.text
            tokens[username] = response.cookies["safecity_session"]
        yield Server(url, database, tokens, app.state.bus)


def _quiet(stream: EventStream, seconds: float = 0.5) -> None:
    """Nothing more arrives on ``stream`` within ``seconds``."""
    with pytest.raises(queue.Empty):
        stream.next(seconds)


def test_signed_out_callers_get_401(server: Server) -> None:
    response = httpx2.get(server.url + FEED, timeout=5)
    assert response.status_code == 401


def test_an_alert_reaches_the_consoles_that_may_see_it_and_no_other(
    server: Server, city: City
) -> None:
    with (
        server.stream("operator") as operator,
        server.stream("akimat-west") as akimat_west,
        server.stream("officer-east") as officer_east,
        server.stream("water") as water,
    ):
        sent = time.perf_counter()
        response = server.post(
            "operator",
            "/api/alerts",
            {"kind": "fight", "title": "Fight at the market", "camera_id": city.street_west_id},
        )
        assert response.status_code == 201
        alert = response.json()

        seen = operator.next_of("alert")
        assert seen.json() == {**alert, "merged": False}
        assert seen.id is not None
        assert seen.received_at - sent < 1.0
        assert akimat_west.next_of("alert").json()["id"] == alert["id"]
        _quiet(officer_east)  # an east unit: the alert is in the west
        _quiet(water)  # a utility sees alerts of no district

        # A repeat folds into the open alert: the consoles get the new count, not a new row.
        server.post(
            "operator",
            "/api/alerts",
            {"kind": "fight", "title": "Fight at the market", "camera_id": city.street_west_id},
        )
        again = operator.next_of("alert").json()
        assert (again["id"], again["count"]) == (alert["id"], 2)


def test_changes_made_outside_the_api_reach_the_feed_and_rolled_back_ones_do_not(
    server: Server, city: City
) -> None:
    with server.stream("operator") as operator:
        with pytest.raises(RuntimeError), server.database.session() as session:
            raise_alert(
                session,
                source=AlertSource.ANALYTICS,
                kind="smoke",
                title="Smoke",
                camera_id=city.street_east_id,
            )
            raise RuntimeError("the worker failed before committing")
        _quiet(operator)
        with server.database.session() as session:
            alert, _ = raise_alert(
                session,
                source=AlertSource.ANALYTICS,
                kind="smoke",
                title="Smoke",
                camera_id=city.street_east_id,
            )
        event = operator.next_of("alert").json()
        assert (event["id"], event["source"], event["district_id"]) == (
            alert.id,
            "analytics",
            city.east_id,
        )
        with server.database.session() as session:
            assert [a.id for a in session.scalars(select(Alert))] == [alert.id]


def test_an_incident_follows_its_unit_and_leaves_a_queue_it_is_taken_from(
    server: Server, city: City
) -> None:
    with server.stream("operator") as operator, server.stream("officer-east") as officer:
        opened = server.post(
            "operator",
            "/api/incidents",
            {"type_code": "assault", "camera_ids": [city.street_east_id], "summary": "Fight"},
        )
        assert opened.status_code == 201, opened.text
        incident = opened.json()
        # The same JSON as the list endpoint's item, the lifecycle's next statuses included.
        listed = server.get("operator", "/api/incidents").json()
        assert operator.next_of("incident").json() == listed[0]
        assert (listed[0]["id"], listed[0]["status"]) == (incident["id"], "new")
        _quiet(officer)  # not dispatched yet: not in the unit's queue

        dispatched = server.post(
            "operator", f"/api/incidents/{incident['id']}/transitions", {"to": "dispatched"}
        )
        assert dispatched.status_code == 200, dispatched.text
        queued = officer.next_of("incident").json()
        assert (queued["id"], queued["status"]) == (incident["id"], "dispatched")

        accepted = server.post(
            "officer-east", f"/api/incidents/{incident['id']}/transitions", {"to": "accepted"}
        )
        assert accepted.status_code == 200, accepted.text
        assert operator.next_of("incident").json()["status"] == "dispatched"
        assert operator.next_of("incident").json()["status"] == "accepted"
        assert officer.next_of("incident").json()["status"] == "accepted"


def test_an_officer_sees_an_incident_leave_when_it_goes_to_another_unit(
    server: Server, city: City, database: Database
) -> None:
    from safecity.city.models import PoliceUnit
    from safecity.ops.models import Incident

    with database.session() as session:
        east = session.get(PoliceUnit, 1)
        assert east is not None
        other = PoliceUnit(
            code="unit-spare", name="Spare unit", organization=east.organization, districts=[]
        )
        session.add(other)
        session.flush()
        other_id = other.id
    opened = server.post(
        "operator",
        "/api/incidents",
        {"type_code": "assault", "camera_ids": [city.street_east_id]},
    ).json()
    server.post("operator", f"/api/incidents/{opened['id']}/transitions", {"to": "dispatched"})
    with server.stream("officer-east") as officer:
        with database.session() as session:
            incident = session.get(Incident, opened["id"])
            assert incident is not None
            incident.police_unit_id = other_id
        gone = officer.next_of("incident_gone")
        assert gone.json() == {"id": opened["id"]}


def test_a_reconnecting_console_gets_what_it_missed(server: Server, city: City) -> None:
    with server.stream("operator") as operator:
        first = server.post(
            "operator", "/api/alerts", {"kind": "a", "title": "A", "camera_id": city.street_west_id}
        ).json()
        last_id = operator.next_of("alert").id
        assert last_id is not None
    with server.stream("operator") as watcher:  # sees them once the hub has taken them
        missed = [
            server.post(
                "operator",
                "/api/alerts",
                {"kind": kind, "title": kind, "camera_id": city.street_west_id},
            ).json()["id"]
            for kind in ("b", "c")
        ]
        assert [watcher.next_of("alert").json()["id"] for _ in missed] == missed
    with server.stream("operator", last_event_id=last_id) as operator:
        replayed = [operator.next_of("alert").json()["id"], operator.next_of("alert").json()["id"]]
        assert replayed == missed
        assert first["id"] not in replayed
    with server.stream("operator", last_event_id="0badc0de-3") as stale:
        assert stale.next().event == "resync"


def test_a_console_whose_session_ends_is_told_and_cut_off(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safecity.ops.feed import api as feed_api

    monkeypatch.setattr(feed_api, "KEEPALIVE_SECONDS", 0.1)
    monkeypatch.setattr(feed_api, "RECHECK_SECONDS", 0.2)
    with server.stream("operator") as operator:
        logout = httpx2.post(
            server.url + "/api/auth/logout",
            headers={"Authorization": f"Bearer {server.tokens['operator']}"},
        )
        assert logout.status_code in (200, 204)
        assert operator.next(5).event == "signed_out"
        with pytest.raises(EOFError):
            operator.next(5)


def test_an_officer_without_a_unit_gets_nothing(server: Server, city: City) -> None:
    with server.stream("orphan-officer") as orphan, server.stream("operator") as operator:
        raised = server.post(
            "operator", "/api/alerts", {"kind": "x", "title": "X", "camera_id": city.street_east_id}
        )
        assert raised.status_code == 201, raised.text
        assert operator.next_of("alert").json()["id"] == raised.json()["id"]  # it went out
        _quiet(orphan)


def test_a_note_sends_the_incident_again_so_open_pages_refresh(server: Server, city: City) -> None:
    opened = server.post(
        "operator", "/api/incidents", {"type_code": "theft", "camera_ids": [city.street_east_id]}
    ).json()
    with server.stream("operator") as operator:
        note = server.post("operator", f"/api/incidents/{opened['id']}/notes", {"text": "Seen"})
        assert note.status_code == 201, note.text
        again = operator.next_of("incident").json()
        assert (again["id"], again["status"]) == (opened["id"], "new")


def test_events_beyond_alerts_and_incidents_reach_only_roles_that_may_read_them(
    server: Server, city: City
) -> None:
    """Attachments are for the OCC and the unit, not for an akimat of the same district."""
    with server.stream("operator") as operator, server.stream("akimat-west") as akimat:
        server.bus.publish(
            "ops/feed/incident_attachment",
            {
                "id": 1,
                "file_name": "statement.pdf",
                "district_id": city.west_id,
                "police_unit_id": None,
            },
        )
        server.bus.publish("ops/feed/escalation", {"id": 2, "district_id": city.west_id})
        server.bus.publish("ops/feed/undeclared", {"id": 3, "district_id": city.west_id})
        assert operator.next().event == "incident_attachment"
        assert operator.next().event == "escalation"
        _quiet(operator)
        _quiet(akimat)
