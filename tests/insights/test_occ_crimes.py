"""Incidents closed in the OCC count as crime records, by the kind their type names: the
closing reaches insights over the bus, and a pass at start counts what was missed."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from safecity.api.app import create_app
from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.insights.models import CrimeRecord, CrimeSource
from safecity.settings import Settings
from safecity.store.engine import Database
from tests.insights.conftest import FiguresCity


def _closed_incident(client: TestClient, camera_id: int, type_code: str) -> dict[str, Any]:
    opened = client.post("/api/incidents", json={"type_code": type_code, "camera_ids": [camera_id]})
    assert opened.status_code == 201, opened.text
    for to in ("dispatched", "accepted", "resolved", "closed"):
        moved = client.post(f"/api/incidents/{opened.json()['id']}/transitions", json={"to": to})
        assert moved.status_code == 200, moved.text
    incident: dict[str, Any] = opened.json()
    return incident


def _occ_records(database: Database) -> list[CrimeRecord]:
    with database.sessions() as session:
        return list(
            session.scalars(select(CrimeRecord).where(CrimeRecord.source == CrimeSource.OCC))
        )


def _waiting_for(database: Database, count: int) -> list[CrimeRecord]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        records = _occ_records(database)
        if len(records) >= count:
            return records
        time.sleep(0.05)
    return _occ_records(database)


def test_a_closed_theft_becomes_a_crime_record_and_a_closed_false_alarm_does_not(
    signed_in: Callable[[str], TestClient], database: Database, figures_city: FiguresCity
) -> None:
    client = signed_in("admin")
    # A type that names no crime kind: closing it counts nothing. Closed first, so that once
    # the theft's record is there, the bus has delivered this one's change too.
    types = {t["code"]: t["crime_kind"] for t in client.get("/api/incident-types").json()}
    not_a_crime = next(code for code, kind in types.items() if kind is None)
    _closed_incident(client, figures_city.west_camera_id, not_a_crime)
    theft = _closed_incident(client, figures_city.west_camera_id, "theft")

    records = _waiting_for(database, 1)

    assert len(records) == 1
    record = records[0]
    assert record.incident_id == theft["id"]
    assert record.code == f"OCC-{theft['number']}"
    assert (record.kind, record.place_kind) == (CrimeKind.THEFT, PlaceKind.PUBLIC_PLACE)  # market
    assert record.district_id == figures_city.west_id
    assert (record.latitude, record.longitude) == (theft["latitude"], theft["longitude"])
    statistics = client.get(
        "/api/insights/statistics", params={"kind": "theft", "source": "occ"}
    ).json()
    assert statistics["total"] == 1
    assert client.get("/api/insights/statistics").json()["total"] == 0  # the register's alone


def test_an_incident_closed_while_nobody_counted_is_counted_at_start(
    signed_in: Callable[[str], TestClient],
    database: Database,
    figures_city: FiguresCity,
    tmp_path: Path,
) -> None:
    client = signed_in("admin")
    theft = _closed_incident(client, figures_city.west_camera_id, "theft")
    assert len(_waiting_for(database, 1)) == 1
    with database.session() as session:
        session.execute(delete(CrimeRecord))  # as if the message had been lost
    assert _occ_records(database) == []

    with TestClient(create_app(Settings(data_dir=tmp_path), database)):
        records = _occ_records(database)
    assert [record.incident_id for record in records] == [theft["id"]]


def test_a_conflict_at_start_skips_that_incident_alone(
    signed_in: Callable[[str], TestClient],
    database: Database,
    figures_city: FiguresCity,
    tmp_path: Path,
) -> None:
    client = signed_in("admin")
    first = _closed_incident(client, figures_city.west_camera_id, "theft")
    second = _closed_incident(client, figures_city.west_camera_id, "theft")
    assert len(_waiting_for(database, 2)) == 2
    with database.session() as session:
        session.execute(delete(CrimeRecord))  # as if the messages had been lost
        # ... and a record already holds the first one's code (written elsewhere meanwhile).
        session.add(
            CrimeRecord(
                code=f"OCC-{first['number']}",
                occurred_at=datetime(2026, 1, 2, tzinfo=UTC),
                kind=CrimeKind.THEFT,
                place_kind=PlaceKind.STREET,
                district_id=figures_city.west_id,
                solved=False,
                source=CrimeSource.OCC,
            )
        )

    with TestClient(create_app(Settings(data_dir=tmp_path), database)):
        records = _occ_records(database)
    assert sorted((r.code, r.incident_id) for r in records) == sorted(
        [(f"OCC-{first['number']}", None), (f"OCC-{second['number']}", second["id"])]
    )
