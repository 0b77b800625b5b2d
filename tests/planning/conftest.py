"""The API tests' two-district city, with a city akimat and a west police unit added."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.models import District, Organization, OrganizationKind, PoliceUnit
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.api.conftest import City, build_city


@pytest.fixture
def city(database: Database) -> City:
    built = build_city(database)
    with database.session() as s:
        city_akimat = Organization(
            code="akimat-city", name="City Akimat", kind=OrganizationKind.AKIMAT, city_wide=True
        )
        s.add(city_akimat)
        s.flush()
        f.add_user(s, "akimat-city", Role.AKIMAT, city_akimat)
        f.add_user(s, "analyst", Role.ANALYST)
        police = s.scalars(select(Organization).where(Organization.code == "police-dept")).one()
        west_district = s.get(District, built.west_id)
        assert west_district is not None
        unit_west = PoliceUnit(
            code="unit-west", name="West unit", organization=police, districts=[west_district]
        )
        s.add(unit_west)
        s.flush()
        f.add_user(s, "officer-west", Role.POLICE_DUTY_OFFICER, police, police_unit=unit_west)
    return built


@pytest.fixture
def client(database: Database, city: City, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path), database)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def as_user(client: TestClient) -> Callable[[str], TestClient]:
    """Signs the client in as the given user (cookie session) and returns it."""

    def sign_in(username: str) -> TestClient:
        client.cookies.clear()
        response = client.post(
            "/api/auth/login", json={"username": username, "password": f.PASSWORD}
        )
        assert response.status_code == 200, response.text
        return client

    return sign_in
