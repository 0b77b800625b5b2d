"""Dispatch notifications: written with the transition, delivered at least once over signed
webhooks (a real local HTTP receiver) and MQTT (a real Mosquitto), on SQLite and PostgreSQL."""

from __future__ import annotations

import getpass
import json
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import REGISTRY
from pydantic import ValidationError
from sqlalchemy import func, select
from typer.testing import CliRunner

from safecity.api.app import create_app
from safecity.audit.models import AuditEntry
from safecity.auth.roles import Role
from safecity.bus import InProcessBus
from safecity.city.models import OrganizationKind, PoliceUnit
from safecity.cli import app as cli_app
from safecity.core.clock import utcnow
from safecity.ops.alerts.inbound import sign, verified_source
from safecity.ops.dispatch.channels import (
    DELIVERY_HEADER,
    DeliveryFailed,
    WebhookChannel,
    judge_status,
)
from safecity.ops.dispatch.models import Notification, NotificationChannel, NotificationState
from safecity.ops.dispatch.notices import notify_through
from safecity.ops.dispatch.notifications import NotificationDispatcher
from safecity.ops.dispatch.outbox import claim_due
from safecity.ops.incidents import service as incidents
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import Incident
from safecity.ops.services import OpsServices
from safecity.settings import NotificationSettings, OpsSettings, Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.conftest import IN_CI
from tests.support.webhooks import Receiver, webhook_receiver

EAST_POINT = (51.15, 71.45)  # lat, lon
SECRET = "unit-east-shared-secret"
MQTT_HOST, MQTT_PORT = "127.0.0.1", 1883
S = NotificationState


# ---------------------------------------------------------------------------------------------
# A receiver, a city and quick settings


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as received:
        yield received


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def quick(url: str | None = None, **overrides: Any) -> NotificationSettings:
    """Settings with waits short enough for a test."""
    values: dict[str, Any] = {
        "webhooks": {"u-east": [{"url": url, "secret": SECRET}]} if url else {},
        "timeout_seconds": 2,
        "retry_initial_seconds": 0.01,
        "retry_max_seconds": 0.05,
        "poll_seconds": 0.02,
        **overrides,
    }
    return NotificationSettings.model_validate(values)


@pytest.fixture
def city(database: Database) -> Iterator[Database]:
    """One unit (u-east) covering the east district. The PostgreSQL database object lives for
    the whole run, so the notice routing a test sets on its sessions is taken off again."""
    info = database.sessions.kw.get("info")
    with database.session() as s:
        east = f.add_district(s, "east", f.EAST)
        police = f.add_organization(s, "police", OrganizationKind.POLICE)
        unit = PoliceUnit(code="u-east", name="East", organization=police, districts=[east])
        s.add(unit)
        f.add_user(s, "operator", Role.OPERATOR)
        f.add_user(s, "admin", Role.ADMIN)
        f.add_user(s, "officer", Role.POLICE_DUTY_OFFICER, police, police_unit=unit)
    yield database
    database.sessions.kw.pop("info", None)
    if info is not None:
        database.sessions.configure(info=info)


def dispatched(database: Database) -> int:
    """Open an incident in the east and dispatch it (routed to u-east); its id."""
    with database.session() as s:
        incident = incidents.open_incident(
            s,
            f.user_named(s, "operator"),
            type_code="assault",
            latitude=EAST_POINT[0],
            longitude=EAST_POINT[1],
            summary="two men fighting",
        )
        incidents.transition(s, incident, f.user_named(s, "operator"), IncidentStatus.DISPATCHED)
        return incident.id


def move(database: Database, incident_id: int, by: str, to: IncidentStatus, **kw: Any) -> None:
    with database.session() as s:
        incident = s.get(Incident, incident_id)
        assert incident is not None
        incidents.transition(s, incident, f.user_named(s, by), to, **kw)


def notices(database: Database) -> list[Notification]:
    with database.session() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def counted(channel: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "safecity_notifications_total", {"channel": channel, "outcome": outcome}
    )
    return value or 0.0


# ---------------------------------------------------------------------------------------------
# Writing notices


def test_dispatch_writes_a_notice_per_channel_with_the_incident(city: Database) -> None:
    notify_through(city.sessions, quick("http://unit-east.example/hook", mqtt={"host": "mq"}))
    incident_id = dispatched(city)
    rows = notices(city)
    assert [(n.channel, n.target) for n in rows] == [
        (NotificationChannel.MQTT, "safecity/units/u-east/incidents"),
        (NotificationChannel.WEBHOOK, "http://unit-east.example/hook"),
    ]
    notice = rows[0]
    assert notice.state is S.PENDING and notice.attempts == 0
    assert notice.give_up_at - notice.created_at == timedelta(hours=24)
    payload = notice.payload
    assert payload["unit"] == "u-east"
    assert payload["incident"] | {"number": None, "opened_at": None} == {
        "id": incident_id,
        "number": None,
        "type": "assault",
        "type_name": "Assault",
        "priority": payload["incident"]["priority"],
        "status": "dispatched",
        "location": {"latitude": EAST_POINT[0], "longitude": EAST_POINT[1]},
        "district": {"id": payload["incident"]["district"]["id"], "code": "east", "name": "East"},
        "police_unit": "u-east",
        "opened_at": None,
        "summary": "two men fighting",
        "link": f"/#/incidents/{incident_id}",
    }
    assert payload["incident"]["number"].count("-") == 1
    assert payload["event"] | {"id": None, "at": None} == {
        "id": None,
        "at": None,
        "transition": "dispatch",
        "from": "new",
        "to": "dispatched",
        "by": "operator",
        "reason": None,
    }


def test_a_rolled_back_transition_leaves_no_notice(city: Database) -> None:
    notify_through(city.sessions, quick("http://unit-east.example/hook"))
    with pytest.raises(RuntimeError), city.session() as s:
        incident = incidents.open_incident(
            s, f.user_named(s, "operator"), type_code="theft", latitude=51.15, longitude=71.45
        )
        incidents.transition(s, incident, f.user_named(s, "operator"), IncidentStatus.DISPATCHED)
        assert s.scalar(select(func.count()).select_from(Notification)) == 1
        raise RuntimeError("the request failed after the transition")
    assert notices(city) == []


def test_the_unit_hears_every_move_and_its_own_rejection(city: Database) -> None:
    notify_through(city.sessions, quick("http://unit-east.example/hook"))
    first = dispatched(city)
    move(city, first, "officer", IncidentStatus.NEW, reason="no car free")
    second = dispatched(city)
    with city.session() as s:
        incidents.add_note(s, s.get_one(Incident, second), f.user_named(s, "operator"), "a note")
    for target in (IncidentStatus.ACCEPTED, IncidentStatus.ON_SCENE, IncidentStatus.RESOLVED):
        move(city, second, "officer", target)
    move(city, second, "operator", IncidentStatus.CLOSED)
    events = [(n.incident_id, n.payload["event"]["transition"]) for n in notices(city)]
    assert events == [
        (first, "dispatch"),
        (first, "reject"),
        (second, "dispatch"),
        (second, "accept"),
        (second, "arrive"),
        (second, "resolve"),
        (second, "close"),
    ]
    rejection = notices(city)[1].payload
    assert rejection["event"]["reason"] == "no car free" and rejection["unit"] == "u-east"
    assert rejection["incident"]["status"] == "new" and rejection["incident"]["police_unit"] is None


def test_nothing_is_written_without_receivers_or_outside_this_setup(city: Database) -> None:
    dispatched(city)  # this process was never told where notices go
    notify_through(city.sessions, quick())  # no broker, no webhooks
    dispatched(city)
    assert notices(city) == []


# ---------------------------------------------------------------------------------------------
# Delivering over webhooks


def test_a_failing_receiver_gets_the_notice_once_it_recovers(
    city: Database, receiver: Receiver
) -> None:
    """Run as `serve` runs it: the dispatcher is one of the OCC's workers."""
    receiver.answers = [503, 500]
    settings = Settings(ops=OpsSettings(notifications=quick(receiver.url)))
    retried_before = counted("webhook", "retried")
    delivered_before = counted("webhook", "delivered")
    bus = InProcessBus()
    services = OpsServices(settings, city, bus)
    services.start()
    try:
        dispatched(city)
        wait_for(lambda: notices(city)[0].state is S.DELIVERED)
    finally:
        services.stop()
        bus.close()
    [notice] = notices(city)
    assert notice.attempts == 3 and notice.delivered_at is not None
    assert notice.last_error == "the receiver answered 500 Internal Server Error"
    assert len(receiver.requests) == 3
    assert counted("webhook", "retried") - retried_before == 2
    assert counted("webhook", "delivered") - delivered_before == 1
    for headers, body in receiver.requests:
        assert headers[DELIVERY_HEADER] == str(notice.id)
        assert (
            verified_source(
                {"safecity": SECRET},
                source="safecity",
                timestamp=headers["X-SafeCity-Timestamp"],
                signature=headers["X-SafeCity-Signature"],
                body=body,
            )
            == "safecity"
        )
        assert json.loads(body) == {**notice.payload, "delivery": notice.id}


@pytest.mark.parametrize(("status", "state"), [(404, S.FAILED), (410, S.FAILED), (429, S.PENDING)])
def test_a_refusal_fails_for_good_but_not_now_is_retried(
    city: Database,
    receiver: Receiver,
    status: int,
    state: NotificationState,
    caplog: pytest.LogCaptureFixture,
) -> None:
    receiver.answers = [status]
    dispatcher = NotificationDispatcher(quick(receiver.url), city)
    dispatched(city)
    assert dispatcher.deliver_due() == 1
    [notice] = notices(city)
    assert notice.state is state and notice.attempts == 1 and notice.delivered_at is None
    assert notice.last_error is not None
    assert notice.last_error.startswith(f"the receiver answered {status} ")
    [logged] = [r for r in caplog.records if r.name == "safecity.ops.dispatch.outbox"]
    assert logged.levelname == "WARNING"
    said = logged.getMessage()
    assert said.startswith(f"notice {notice.id} to unit {notice.police_unit_code} by webhook ")
    ending = "failed for good: " if state is S.FAILED else "not delivered (attempt 1), trying"
    assert ending in said and notice.last_error in said


def test_an_unreachable_receiver_is_retried_and_kept_pending(city: Database) -> None:
    dispatcher = NotificationDispatcher(
        quick(
            f"http://127.0.0.1:{_closed_port()}/hook",
            retry_initial_seconds=30,
            retry_max_seconds=60,
        ),
        city,
    )
    dispatched(city)
    assert dispatcher.deliver_due() == 1
    assert dispatcher.deliver_due() == 0, "not due again before its backoff"
    [notice] = notices(city)
    assert notice.state is S.PENDING and notice.attempts == 1
    assert notice.last_error is not None
    assert notice.last_error.startswith("cannot reach the receiver")
    assert notice.next_attempt_at > utcnow() + timedelta(seconds=10)


def test_a_notice_undelivered_past_its_give_up_time_fails(city: Database) -> None:
    later = NotificationDispatcher(
        quick(f"http://127.0.0.1:{_closed_port()}/hook"),
        city,
        clock=lambda: utcnow() + timedelta(hours=25),
    )
    dispatched(city)
    assert later.deliver_due() == 1
    [notice] = notices(city)
    assert notice.state is S.FAILED
    assert notice.last_error is not None
    assert notice.last_error.startswith("gave up after 1 attempts: cannot reach the receiver")


def test_a_worker_that_dies_after_claiming_leaves_the_notice_to_the_next(
    city: Database, receiver: Receiver
) -> None:
    settings = quick(receiver.url, claim_seconds=60)
    notify_through(city.sessions, settings)
    dispatched(city)
    with city.session() as s:  # the first worker claims the notice, then dies
        [_] = claim_due(
            s,
            channels=[NotificationChannel.WEBHOOK],
            now=utcnow(),
            claim_for=timedelta(seconds=60),
            limit=10,
        )
    assert NotificationDispatcher(settings, city).deliver_due() == 0, "its claim still holds"
    after_claim = NotificationDispatcher(
        settings, city, clock=lambda: utcnow() + timedelta(seconds=61)
    )
    assert after_claim.deliver_due() == 1
    [notice] = notices(city)
    assert notice.state is S.DELIVERED and notice.attempts == 2
    assert len(receiver.requests) == 1


def test_a_new_process_delivers_what_an_earlier_one_left_pending(
    city: Database, receiver: Receiver
) -> None:
    notify_through(city.sessions, quick(receiver.url))
    dispatched(city)  # the process that wrote it stops before delivering
    dispatcher = NotificationDispatcher(quick(receiver.url), city)
    dispatcher.start()
    try:
        wait_for(lambda: notices(city)[0].state is S.DELIVERED)
    finally:
        dispatcher.stop()
    assert len(receiver.requests) == 1


def test_two_workers_claim_different_notices(city: Database) -> None:
    """FOR UPDATE SKIP LOCKED on PostgreSQL; on SQLite the second waits for the first's commit
    and finds the rows claimed."""
    notify_through(city.sessions, quick("http://unit-east.example/hook"))
    for _ in range(4):
        dispatched(city)
    claim = {
        "channels": [NotificationChannel.WEBHOOK],
        "claim_for": timedelta(seconds=60),
        "limit": 2,
    }
    with city.sessions() as first:
        mine = {n.id for n in claim_due(first, now=utcnow(), **claim)}
        if city.is_sqlite:
            first.commit()
        with city.sessions() as second:
            theirs = {n.id for n in claim_due(second, now=utcnow(), **claim)}
            second.commit()
        first.commit()
    assert len(mine) == 2 and len(theirs) == 2 and not mine & theirs


def test_a_webhook_removed_from_the_settings_fails_its_notices(city: Database) -> None:
    notify_through(city.sessions, quick("http://unit-east.example/old-hook"))
    dispatched(city)
    NotificationDispatcher(quick("http://unit-east.example/new-hook"), city).deliver_due()
    [notice] = notices(city)
    assert notice.state is S.FAILED
    assert notice.last_error == (
        "no webhook http://unit-east.example/old-hook is configured for unit u-east any more"
    )


def test_how_http_answers_are_judged() -> None:
    judged = {
        status: judge_status(status)
        for status in (200, 204, 301, 400, 401, 404, 408, 429, 500, 503)
    }
    assert {status for status, failure in judged.items() if failure is None} == {200, 204}
    refused = {status for status, failure in judged.items() if failure and not failure.retry}
    assert refused == {400, 401, 404}


# ---------------------------------------------------------------------------------------------
# Delivering over MQTT


def _broker_or_skip() -> None:
    try:
        socket.create_connection((MQTT_HOST, MQTT_PORT), timeout=2).close()
    except OSError as exc:
        reason = f"no MQTT broker at {MQTT_HOST}:{MQTT_PORT}: {exc}"
        if IN_CI:
            pytest.fail(f"CI=true requires Mosquitto. {reason}")
        pytest.skip(reason)


def test_the_notice_arrives_on_the_units_topic(city: Database) -> None:
    _broker_or_skip()
    prefix = f"safecity-test-{uuid.uuid4().hex[:8]}"
    arrived: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    subscribed = threading.Event()
    listener = mqtt.Client(CallbackAPIVersion.VERSION2)
    listener.on_message = lambda _c, _d, message: arrived.put(message)
    listener.on_subscribe = lambda *_args: subscribed.set()
    listener.on_connect = lambda client, *_args: client.subscribe(f"{prefix}/units/+/incidents", 1)
    listener.connect(MQTT_HOST, MQTT_PORT)
    listener.loop_start()
    try:
        assert subscribed.wait(5)
        settings = quick(mqtt={"host": MQTT_HOST, "port": MQTT_PORT, "topic_prefix": prefix})
        dispatcher = NotificationDispatcher(settings, city)
        incident_id = dispatched(city)
        try:
            assert dispatcher.deliver_due() == 1
        finally:
            dispatcher.stop()
        message = arrived.get(timeout=5)
    finally:
        listener.disconnect()
        listener.loop_stop()
    [notice] = notices(city)
    assert notice.state is S.DELIVERED and notice.channel is NotificationChannel.MQTT
    assert message.topic == f"{prefix}/units/u-east/incidents" and message.qos == 1
    body = json.loads(message.payload)
    assert body["delivery"] == notice.id and body["incident"]["id"] == incident_id
    assert body["event"]["to"] == "dispatched"


def test_an_unreachable_broker_is_retried(city: Database) -> None:
    port = _closed_port()
    dispatcher = NotificationDispatcher(
        quick(mqtt={"host": "127.0.0.1", "port": port}, timeout_seconds=1), city
    )
    dispatched(city)
    try:
        assert dispatcher.deliver_due() == 1
    finally:
        dispatcher.stop()
    [notice] = notices(city)
    assert notice.state is S.PENDING and notice.attempts == 1
    assert notice.last_error == f"cannot reach the broker at 127.0.0.1:{port}: Connection refused"


# ---------------------------------------------------------------------------------------------
# The admin's view


@pytest.fixture
def failed_notice(city: Database, receiver: Receiver) -> int:
    receiver.answers = [404]
    dispatcher = NotificationDispatcher(quick(receiver.url), city)
    dispatched(city)
    dispatcher.deliver_due()
    [notice] = notices(city)
    assert notice.state is S.FAILED
    return notice.id


def _signed_in(client: TestClient, username: str) -> TestClient:
    response = client.post("/api/auth/login", json={"username": username, "password": f.PASSWORD})
    assert response.status_code == 200, response.text
    return client


def test_admins_list_stuck_notices_and_send_them_again(
    city: Database, failed_notice: int, tmp_path: Path, receiver: Receiver
) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path), city)) as client:
        assert _signed_in(client, "operator").get("/api/notifications").status_code == 403
        admin = _signed_in(client, "admin")
        assert admin.get("/api/notifications?state=pending").json() == []
        [listed] = admin.get("/api/notifications?state=failed").json()
        assert listed["id"] == failed_notice and listed["attempts"] == 1
        assert listed["last_error"] == "the receiver answered 404 Not Found"
        assert admin.get("/api/notifications?state=lost").status_code == 422
        assert admin.post("/api/notifications/999999/retry").status_code == 404

        response = admin.post(f"/api/notifications/{failed_notice}/retry")
        assert response.status_code == 200, response.text
        assert response.json()["state"] == "pending"
        assert NotificationDispatcher(quick(receiver.url), city).deliver_due() == 1
        again = admin.post(f"/api/notifications/{failed_notice}/retry")
        assert again.status_code == 409 and "delivered already" in again.json()["detail"]
    with city.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "notification.retry")).one()
        assert entry.actor == "admin" and entry.target == f"notification:{failed_notice}"


def test_the_cli_lists_and_retries_failed_notices(
    city: Database, failed_notice: int, tmp_path: Path
) -> None:
    config = tmp_path / "cli.yaml"
    config.write_text(f"database:\n  url: {city.url}\n")
    runner = CliRunner()
    listed = runner.invoke(
        cli_app, ["notifications", "list", "--state", "failed", "-c", str(config)]
    )
    assert listed.exit_code == 0, listed.output
    assert "404 Not Found" in listed.output and "u-east" in listed.output
    retried = runner.invoke(cli_app, ["notifications", "retry", "--failed", "-c", str(config)])
    assert retried.exit_code == 0, retried.output
    assert "1 notice(s) will be sent again" in retried.output
    assert notices(city)[0].state is S.PENDING
    with city.session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "notification.retry")).one()
        assert (entry.actor, entry.address) == (f"cli:{getpass.getuser()}", None)
    missing = runner.invoke(cli_app, ["notifications", "retry", "424242", "-c", str(config)])
    assert missing.exit_code == 1 and "no notice 424242" in missing.output


# ---------------------------------------------------------------------------------------------
# Slow and dead receivers, and claims under a live worker


@contextmanager
def dripping_receiver() -> Iterator[tuple[str, list[float]]]:
    """A receiver that reads the POST, then sends its answer one byte every 0.2 s (for up to a
    minute): each read is quick, the answer never done. Yields its URL and, per connection,
    how long it was held (seconds)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[float] = []

    def drip(conn: socket.socket) -> None:
        started = time.monotonic()
        with conn:
            conn.recv(65536)
            try:
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 300:
                    conn.sendall(bytes([byte]))
                    time.sleep(0.2)
            except OSError:
                pass  # the sender hung up
        held.append(time.monotonic() - started)

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return  # closed
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook", held
    finally:
        server.close()


@contextmanager
def slow_receiver(seconds: float) -> Iterator[tuple[str, list[int]]]:
    """A receiver that takes ``seconds`` over each POST, then answers 200. Yields its URL and
    the delivery ids it received, in order."""
    delivered: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(seconds)
            delivered.append(int(self.headers[DELIVERY_HEADER]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", delivered
    finally:
        server.shutdown()
        server.server_close()


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_timeout() -> None:
    """The timeout is one deadline for the whole POST, not a limit on each read: a receiver
    sending a byte every 0.2 s used to hold a 2 s attempt for as long as it liked."""
    with dripping_receiver() as (url, held):
        started = time.monotonic()
        with pytest.raises(DeliveryFailed) as failed:
            WebhookChannel(timeout=1).deliver(url, SECRET, b"{}", 1)
        took = time.monotonic() - started
        wait_for(lambda: len(held) == 1, 5)
    assert 0.9 < took < 1.5, took
    assert str(failed.value) == "no answer within 1 s" and failed.value.retry
    assert held[0] < 2, "the connection was closed at the deadline"


def test_a_dripping_receiver_holds_up_neither_the_worker_nor_another_receiver(
    city: Database, receiver: Receiver
) -> None:
    """Each receiver's notices go on a thread of their own: the healthy receiver has all its
    notices long before the dripping one's first attempt runs out. That one costs one timeout:
    the rest of its notices wait for the retry, untried."""
    with dripping_receiver() as (drip_url, held):
        settings = quick(
            timeout_seconds=1.5,
            retry_initial_seconds=30,
            retry_max_seconds=60,
            webhooks={
                "u-east": [
                    {"url": drip_url, "secret": SECRET},
                    {"url": receiver.url, "secret": SECRET},
                ]
            },
        )
        dispatcher = NotificationDispatcher(settings, city)
        for _ in range(3):
            dispatched(city)
        dispatcher.start()
        try:
            started = time.monotonic()
            wait_for(lambda: len(receiver.requests) == 3)
            healthy_took = time.monotonic() - started
            wait_for(lambda: len(held) == 1)
        finally:
            dispatcher.stop()
    assert healthy_took < 1.0, healthy_took
    dripping = [n for n in notices(city) if n.target == drip_url]
    healthy = [n for n in notices(city) if n.target == receiver.url]
    assert [n.state for n in healthy] == [S.DELIVERED] * 3
    assert [(n.state, n.attempts) for n in dripping] == [
        (S.PENDING, 1),
        (S.PENDING, 0),
        (S.PENDING, 0),
    ]
    assert dripping[0].last_error == "no answer within 1.5 s"
    assert all(n.next_attempt_at > utcnow() + timedelta(seconds=10) for n in dripping)


def test_a_live_worker_renews_its_claims_so_no_other_sends_them_again(city: Database) -> None:
    """Five notices to a receiver that takes 0.4 s each keep one worker busy for 2 s, longer
    than its claim (1.5 s). Each claim is renewed right before its attempt, and one that ran out
    and was taken by the other worker is left to it: each notice arrives exactly once."""
    with slow_receiver(0.4) as (url, delivered):
        settings = quick(url, timeout_seconds=0.5, claim_seconds=1.5)
        first, second = (
            NotificationDispatcher(settings, city),
            NotificationDispatcher(settings, city),
        )
        for _ in range(5):
            dispatched(city)
        busy = threading.Thread(target=first.deliver_due)
        busy.start()
        tried_by_second = 0
        while busy.is_alive():
            tried_by_second += second.deliver_due()
            time.sleep(0.05)
        busy.join()
        for dispatcher in (first, second):
            dispatcher.stop()
    rows = notices(city)
    assert [n.state for n in rows] == [S.DELIVERED] * 5
    assert sorted(delivered) == sorted(n.id for n in rows), "each exactly once"
    assert tried_by_second >= 1, "the second took over a claim that ran out before its attempt"


def test_a_claim_must_outlast_an_attempt() -> None:
    with pytest.raises(ValidationError, match="claim_seconds must be at least 3 × timeout"):
        NotificationSettings(timeout_seconds=60, claim_seconds=120)
    assert NotificationSettings(timeout_seconds=40, claim_seconds=120).workers == 4


def test_config_check_prints_no_shared_secret(tmp_path: Path) -> None:
    config = tmp_path / "secrets.yaml"
    config.write_text(
        "ops:\n"
        "  inbound_sources:\n    fire: inbound-secret-1234\n"
        "  analytics_sources:\n    box-1: analytics-secret-5678\n"
        "  notifications:\n"
        "    mqtt: {host: mq, username: safecity, password: mqtt-password-9}\n"
        "    webhooks:\n"
        "      u-east: [{url: 'https://unit.example/hook', secret: webhook-secret-0000}]\n"
    )
    result = CliRunner().invoke(cli_app, ["config", "check", "--config", str(config)])
    assert result.exit_code == 0, result.output
    for secret in ("inbound-secret", "analytics-secret", "mqtt-password", "webhook-secret"):
        assert secret not in result.output
    assert '"fire"' in result.output and '"box-1"' in result.output
    settings = Settings.model_validate(
        {"ops": {"inbound_sources": {"fire": "inbound-secret-1234"}}}
    )
    body = b'{"kind": "fire"}'
    now = int(time.time())
    assert (
        verified_source(
            settings.ops.inbound_sources,
            source="fire",
            timestamp=str(now),
            signature=sign("inbound-secret-1234", now, body),
            body=body,
        )
        == "fire"
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_a_webhook_goes_to_the_host_and_port_of_its_url(host: str) -> None:
    """An IPv6 address in brackets too: ``http.client`` once read a bare IPv6 host's last group
    as the port."""
    with webhook_receiver(host) as receiver:
        WebhookChannel(timeout=2).deliver(receiver.url, SECRET, b"{}", 7)
    [(headers, body)] = receiver.requests
    assert (headers[DELIVERY_HEADER], body) == ("7", b"{}")
