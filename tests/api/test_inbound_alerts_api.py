"""The signed inbound alert webhook: a good signature stores an external alert; a wrong one, a
stale timestamp, an unknown source or a malformed body stores nothing."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safecity.api.app import create_app
from safecity.ops.alerts.inbound import sign
from safecity.ops.models import Alert
from safecity.settings import OpsSettings, Settings
from safecity.store.engine import Database
from tests.api.conftest import City

SECRET = "s3cret-of-the-fire-service"
URL = "/api/alerts/inbound"
SignIn = Callable[[str], TestClient]


@pytest.fixture
def hook(database: Database, city: City, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, ops=OpsSettings(inbound_sources={"fire": SECRET}))
    with TestClient(create_app(settings, database)) as client:
        yield client


def _post(
    client: TestClient,
    body: bytes | dict[str, Any],
    *,
    source: str = "fire",
    secret: str = SECRET,
    skew: int = 0,
) -> Any:
    """POST signed as ``source`` at now + ``skew`` seconds (taken now, not at collection)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    stamp = int(time.time()) + skew
    headers = {
        "Content-Type": "application/json",
        "X-SafeCity-Source": source,
        "X-SafeCity-Timestamp": str(stamp),
        "X-SafeCity-Signature": sign(secret, stamp, raw),
    }
    return client.post(URL, content=raw, headers=headers)


def _stored(database: Database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(Alert)) or 0


def test_a_signed_alert_is_stored_and_listed(
    hook: TestClient, city: City, database: Database, signed_in: SignIn
) -> None:
    response = _post(
        hook,
        {"kind": "fire", "title": "Smoke detector at the pump", "camera": "W-PUMP", "priority": 1},
    )
    assert response.status_code == 201, response.text
    alert = response.json()
    assert alert["source"] == "external" and alert["camera_id"] == city.water_camera_id
    assert alert["district_id"] == city.west_id and alert["priority"] == 1
    assert alert["details"] == {"actor": "external:fire"}
    point = _post(
        hook,
        {
            "kind": "smoke",
            "title": "Smoke reported",
            "latitude": 51.15,
            "longitude": 71.45,
            "details": {"call": 42},
            "dedup_key": "call-42",
        },
    )
    assert point.status_code == 201, point.text
    assert point.json()["district_id"] == city.east_id
    assert point.json()["details"] == {"call": 42, "actor": "external:fire"}

    listed = signed_in("operator").get("/api/alerts").json()
    assert {a["id"] for a in listed} == {alert["id"], point.json()["id"]}


@pytest.mark.parametrize(
    "tamper",
    [
        {"secret": "wrong"},
        {"skew": -301},
        {"skew": 400},
        {"source": "police"},
    ],
    ids=["wrong-secret", "stale", "future", "unknown-source"],
)
def test_bad_signatures_are_refused_alike(
    hook: TestClient, database: Database, tamper: dict[str, Any]
) -> None:
    response = _post(hook, {"kind": "fire", "title": "Fire", "camera": "W-PUMP"}, **tamper)
    assert response.status_code == 401
    assert response.json() == {"detail": "unknown source, or a bad or stale signature"}
    assert _stored(database) == 0


def test_a_stale_timestamp_is_logged_with_the_skew_a_bad_signature_is_not(
    hook: TestClient, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="safecity.ops.alerts.inbound")
    body = {"kind": "fire", "title": "Fire", "camera": "W-PUMP"}

    assert _post(hook, body, skew=-3600).status_code == 401

    (line,) = [r for r in caplog.records if r.name == "safecity.ops.alerts.inbound"]
    assert line.levelno == logging.WARNING
    message = line.getMessage()
    assert "refused a request signed by fire: its timestamp is -360" in message
    assert "allowed: ±300 s" in message and "NTP" in message

    caplog.clear()
    assert _post(hook, body, secret="wrong", skew=-3600).status_code == 401
    assert [r for r in caplog.records if r.name == "safecity.ops.alerts.inbound"] == []


def test_missing_headers_or_a_changed_body_are_refused(
    hook: TestClient, database: Database
) -> None:
    unsigned = hook.post(URL, json={"kind": "fire", "title": "Fire", "camera": "W-PUMP"})
    assert unsigned.status_code == 401
    raw = json.dumps({"kind": "fire", "title": "Fire", "camera": "W-PUMP"}).encode()
    stamp = int(time.time())
    response = hook.post(
        URL,
        content=raw.replace(b"Fire", b"Fake"),
        headers={
            "X-SafeCity-Source": "fire",
            "X-SafeCity-Timestamp": str(stamp),
            "X-SafeCity-Signature": sign(SECRET, stamp, raw),
        },
    )
    assert response.status_code == 401
    assert hook.post(URL, content=raw).status_code == 401
    assert _stored(database) == 0


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        json.dumps({"kind": "fire"}).encode(),
        json.dumps({"kind": "fire", "title": "Fire"}).encode(),  # nowhere
        json.dumps({"kind": "fire", "title": "Fire", "camera": "NOPE"}).encode(),
        json.dumps({"kind": "fire", "title": "Fire", "camera": "W-PUMP", "priority": 9}).encode(),
    ],
    ids=["malformed", "not-an-object", "no-title", "no-place", "unknown-camera", "priority"],
)
def test_signed_but_invalid_bodies_are_422(
    hook: TestClient, database: Database, body: bytes
) -> None:
    response = _post(hook, body)
    assert response.status_code == 422, response.text
    assert _stored(database) == 0


def test_an_oversized_body_is_refused_before_anything_is_verified(
    hook: TestClient, database: Database
) -> None:
    huge = json.dumps({"kind": "fire", "title": "x" * 300_000, "camera": "W-PUMP"}).encode()
    response = _post(hook, huge)
    assert response.status_code == 413
    assert "KiB" in response.json()["detail"]

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted while read
        for _ in range(300):
            yield b"x" * 1024

    streamed = hook.post(URL, content=chunked(), headers={"X-SafeCity-Source": "fire"})
    assert streamed.status_code == 413
    assert _stored(database) == 0
