"""The OCC end to end, every part real: a camera streaming RTSP goes dark, the site's alert
rule fires, the alert reaches the operator's console live, the operator opens an incident,
it is routed to the unit covering the district, the unit's duty officer sees it in their
queue live and accepts, arrives and resolves (each step notified to the unit's signed
webhook), the operator closes it, and the SLA figures and the audit chain are right."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import select

from safecity.api.app import create_app
from safecity.audit.log import verify
from safecity.audit.models import AuditEntry
from safecity.auth.roles import Role
from safecity.bus import InProcessBus
from safecity.city.models import OrganizationKind, PoliceUnit
from safecity.ops.alerts.inbound import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from safecity.ops.services import OpsServices
from safecity.settings import Settings
from safecity.store.engine import Database
from safecity.video.ingest.health import CameraHealthRecorder
from safecity.video.node import VideoNode
from tests import factories as f
from tests.support.live_server import serve_app
from tests.support.rtsp import LIVE, RtspServerFactory
from tests.support.sse import EventStream, ServerEvent
from tests.support.webhooks import webhook_receiver

pytestmark = pytest.mark.slow

SECRET = "unit-east-webhook-secret"
USERS = ("admin", "operator", "officer-east", "officer-west")


def _wait_for(what: str, check: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_camera_dark_to_closed_incident(
    database: Database, make_rtsp_server: RtspServerFactory, tmp_path: Path
) -> None:
    camera_server = make_rtsp_server([LIVE])
    with database.session() as s:
        west = f.add_district(s, "west", f.WEST)
        east = f.add_district(s, "east", f.EAST)
        police = f.add_organization(s, "police", OrganizationKind.POLICE)
        unit_east = PoliceUnit(code="unit-east", name="East", organization=police, districts=[east])
        unit_west = PoliceUnit(code="unit-west", name="West", organization=police, districts=[west])
        s.add_all([unit_east, unit_west])
        market = f.add_site(s, "market", east)
        camera = f.add_camera(s, "E-MARKET", east, market, main_stream_url=camera_server.url(LIVE))
        camera_id, east_id, market_id = camera.id, east.id, market.id
        f.add_user(s, "admin", Role.ADMIN)
        f.add_user(s, "operator", Role.OPERATOR)
        f.add_user(s, "officer-east", Role.POLICE_DUTY_OFFICER, police, police_unit=unit_east)
        f.add_user(s, "officer-west", Role.POLICE_DUTY_OFFICER, police, police_unit=unit_west)
        unit_east_id = unit_east.id

    with webhook_receiver() as receiver:
        settings = Settings.model_validate(
            {
                "data_dir": str(tmp_path),
                "video": {"segment_seconds": 1.0},
                "ops": {
                    "camera_down_grace_seconds": 1.0,
                    "notifications": {
                        "webhooks": {"unit-east": [{"url": receiver.url, "secret": SECRET}]},
                        "retry_initial_seconds": 0.05,
                        "retry_max_seconds": 0.2,
                        "poll_seconds": 0.05,
                    },
                },
            }
        )
        bus = InProcessBus()
        health = CameraHealthRecorder(bus, database, flush_every=0.2)
        ops = OpsServices(settings, database, bus)
        node = VideoNode(settings, database, bus, health_every=0.2)
        health.start()
        ops.start()
        node.start()
        try:
            app = create_app(settings, database, node, live=node, bus=bus)
            with serve_app(app) as url:
                _scenario(url, database, camera_server, receiver, ids=locals())
        finally:
            node.stop()
            ops.stop()
            health.stop()
            bus.close()
            database.sessions.kw.pop("info", None)  # the notice routing OpsServices set
    del camera_id, east_id, market_id, unit_east_id


def _scenario(
    url: str, database: Database, camera_server: Any, receiver: Any, *, ids: dict[str, Any]
) -> None:
    camera_id, east_id, market_id = ids["camera_id"], ids["east_id"], ids["market_id"]
    tokens = {}
    for username in USERS:
        response = httpx2.post(
            url + "/api/auth/login", json={"username": username, "password": f.PASSWORD}
        )
        assert response.status_code == 200, response.text
        tokens[username] = response.cookies["safecity_session"]

    def call(username: str, method: str, path: str, body: object = None) -> Any:
        response = httpx2.request(
            method,
            url + path,
            json=body,
            headers={"Authorization": f"Bearer {tokens[username]}"},
            timeout=10,
        )
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()

    # The admin's rule: at the market, any camera trouble is top priority.
    rule = call(
        "admin",
        "POST",
        "/api/alert-rules",
        {
            "name": "Market cameras matter",
            "kind": "*",
            "scope": "site",
            "target_id": market_id,
            "priority": 1,
        },
    )

    # The camera is streaming and recorded. Until the node's first health report the camera
    # has no stream state at all (``"stream": null``), which is "not yet", not a failure.
    def camera_online() -> bool:
        stream = call("operator", "GET", f"/api/cameras/{camera_id}")["stream"]
        return stream is not None and stream["status"] == "online"

    _wait_for("the camera online", camera_online)

    with (
        EventStream(url + "/api/ops/feed", token=tokens["operator"]) as operator_feed,
        EventStream(url + "/api/ops/feed", token=tokens["officer-east"]) as east_feed,
        EventStream(url + "/api/ops/feed", token=tokens["officer-west"]) as west_feed,
    ):
        for feed in (operator_feed, east_feed, west_feed):
            assert feed.next().event == "hello"

        camera_server.stop()  # the camera goes dark
        alert = operator_feed.next_of("alert", timeout=30).json()
        assert (alert["source"], alert["camera_id"], alert["district_id"]) == (
            "camera_health",
            camera_id,
            east_id,
        )
        assert alert["kind"].startswith("camera_")
        assert alert["priority"] == 1
        assert alert["details"]["rule"]["id"] == rule["id"]

        call("operator", "POST", f"/api/alerts/{alert['id']}/acknowledge")
        incident = call(
            "operator",
            "POST",
            "/api/incidents",
            {"alert_ids": [alert["id"]], "type_code": "vandalism", "summary": "Camera cut"},
        )
        assert (incident["district_id"], incident["priority"], incident["camera_ids"]) == (
            east_id,
            1,
            [camera_id],
        )
        routed = call(
            "operator", "POST", f"/api/incidents/{incident['id']}/transitions", {"to": "dispatched"}
        )
        assert routed["police_unit_id"] == ids["unit_east_id"]  # the east district's unit

        queued = east_feed.next_of("incident").json()
        assert (queued["id"], queued["status"]) == (incident["id"], "dispatched")
        for step in ("accepted", "on_scene", "resolved"):
            call(
                "officer-east", "POST", f"/api/incidents/{incident['id']}/transitions", {"to": step}
            )
        closed = call(
            "operator", "POST", f"/api/incidents/{incident['id']}/transitions", {"to": "closed"}
        )
        assert closed["status"] == "closed"
        # The operator's console followed every step live, in order.
        followed = [
            event.json()["status"]
            for event in _drain(operator_feed)
            if event.event == "incident" and event.json()["id"] == incident["id"]
        ]
        assert followed == ["new", "dispatched", "accepted", "on_scene", "resolved", "closed"]
        # The west unit never saw the east's incident.
        assert all(event.event != "incident" for event in _drain(west_feed))

    # The unit's webhook heard every step, signed.
    notices = _wait_for("five notices", lambda: len(receiver.requests) >= 5 and receiver.requests)
    statuses = []
    for headers, body in notices:
        assert headers[SIGNATURE_HEADER] == sign(SECRET, headers[TIMESTAMP_HEADER], body)
        statuses.append(json.loads(body)["event"]["to"])
    assert set(statuses) == {"dispatched", "accepted", "on_scene", "resolved", "closed"}

    # SLA figures are the incident's own times.
    detail = call("operator", "GET", f"/api/incidents/{incident['id']}")
    [alert_now] = [a for a in call("operator", "GET", "/api/alerts") if a["id"] == alert["id"]]
    expected = {
        "acknowledge": _at(alert_now["acknowledged_at"]) - _at(alert_now["first_at"]),
        "dispatch": _at(detail["dispatched_at"]) - _at(detail["opened_at"]),
        "accept": _at(detail["accepted_at"]) - _at(detail["dispatched_at"]),
        "arrive": _at(detail["on_scene_at"]) - _at(detail["accepted_at"]),
    }
    sla = call("operator", "GET", "/api/incidents/sla")
    assert sla["incidents"] == 1
    for stage in sla["stages"]:
        seconds = expected[stage["stage"]].total_seconds()
        assert stage["count"] == 1
        assert stage["p50_seconds"] == pytest.approx(seconds, abs=1e-3)
        assert stage["p90_seconds"] == pytest.approx(seconds, abs=1e-3)

    # The audit chain is whole and tells the story in order.
    assert verify(database).intact
    with database.session() as s:
        actions = [
            (action, target)
            for action, target in s.execute(
                select(AuditEntry.action, AuditEntry.target).order_by(AuditEntry.seq)
            )
        ]
    story = [
        action for action, target in actions if action.startswith(("alert.", "incident.", "rule."))
    ]
    assert story == [
        "rule.create",
        "alert.raise",
        "alert.acknowledge",
        "incident.open",
        *["incident.transition"] * 5,
    ]
    number = incident["number"]
    assert sum(target == f"incident:{number}" for _, target in actions) == 6


def _drain(stream: EventStream) -> list[ServerEvent]:
    """Every event already received or arriving within half a second."""
    events = []
    while True:
        try:
            events.append(stream.next(0.5))
        except queue.Empty:
            return events
