"""The city of tests/api (two districts, one user per role) plus a police unit for the west
district, a second operator and a small attachment limit; helpers to open and move incidents.

Test modules take the fixtures by assignment (``client = incident_materials.client``), which
is how pytest finds fixtures outside a conftest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.models import District, Organization, PoliceUnit
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.api import conftest as api_fixtures
from tests.api.conftest import City

SignIn = Callable[[str], TestClient]
LIMIT_MB = 1

city = api_fixtures.city
signed_in = api_fixtures.signed_in


@pytest.fixture
def client(database: Database, city: City, tmp_path: Path) -> Iterator[TestClient]:
    """The real app with a 1 MiB attachment limit and media under tmp_path/media."""
    with database.session() as session:
        west = session.get_one(District, city.west_id)
        police = session.scalars(
            select(Organization).where(Organization.code == "police-dept")
        ).one()
        unit_west = PoliceUnit(
            code="unit-west", name="West unit", organization=police, districts=[west]
        )
        session.add(unit_west)
        f.add_user(session, "officer-west", Role.POLICE_DUTY_OFFICER, police, police_unit=unit_west)
        f.add_user(session, "operator-2", Role.OPERATOR)
    settings = Settings(data_dir=tmp_path, ops={"attachments_max_mb": LIMIT_MB})
    with TestClient(create_app(settings, database)) as test_client:
        yield test_client


def attachments_folder(tmp_path: Path) -> Path:
    return tmp_path / "media" / "attachments"


def stored_files(tmp_path: Path) -> list[Path]:
    """Every file under the attachments folder (partial ones included)."""
    folder = attachments_folder(tmp_path)
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def open_incident(client: TestClient, camera_id: int, *, dispatch: bool = True) -> dict[str, Any]:
    """An incident at the camera, opened by the operator and (by default) dispatched to the
    unit of the camera's district. Leaves the client signed in as the operator."""
    client.post("/api/auth/login", json={"username": "operator", "password": f.PASSWORD})
    response = client.post(
        "/api/incidents",
        json={"type_code": "theft", "camera_ids": [camera_id], "summary": "bag snatched"},
    )
    assert response.status_code == 201, response.text
    incident: dict[str, Any] = response.json()
    if dispatch:
        move(client, incident["id"], "dispatched")
    return incident


def move(client: TestClient, incident_id: int, to: str) -> None:
    response = client.post(f"/api/incidents/{incident_id}/transitions", json={"to": to})
    assert response.status_code == 200, response.text


def close(sign_in: SignIn, incident_id: int, officer: str) -> None:
    """Take a dispatched incident through to closed, as the unit's officer and the OCC."""
    client = sign_in(officer)
    for to in ("accepted", "resolved"):
        move(client, incident_id, to)
    move(sign_in("operator"), incident_id, "closed")
