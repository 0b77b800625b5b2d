"""A three-district city for the crime figures: west got new cameras in spring 2026, east and
north none; one user per role that reads figures. Crime records are added by each test, through
the import or the OCC, as a city would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.models import OrganizationKind, PoliceUnit, SiteKind
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f

NORTH = (71.30, 51.20, 71.50, 51.30)


@dataclass(frozen=True)
class FiguresCity:
    west_id: int
    east_id: int
    north_id: int
    west_camera_id: int


@pytest.fixture
def figures_city(database: Database) -> FiguresCity:
    with database.session() as s:
        west = f.add_district(s, "west", f.WEST)
        east = f.add_district(s, "east", f.EAST)
        north = f.add_district(s, "north", NORTH)
        akimat_west = f.add_organization(s, "akimat-west", OrganizationKind.AKIMAT, west)
        water = f.add_organization(s, "water-co", OrganizationKind.UTILITY)
        police = f.add_organization(s, "police", OrganizationKind.POLICE)
        s.add(PoliceUnit(code="unit-west", name="West unit", organization=police, districts=[west]))
        market = f.add_site(s, "market", west, kind=SiteKind.MARKET)
        new = f.add_camera(s, "W-NEW", west, market, installed_at=date(2026, 4, 20))
        f.add_camera(s, "W-OLD", west, installed_at=date(2021, 5, 1))
        f.add_camera(s, "E-OLD", east, installed_at=date(2022, 6, 1))
        f.add_camera(s, "N-OLD", north, installed_at=date(2020, 1, 1))
        f.add_user(s, "admin", Role.ADMIN)
        f.add_user(s, "analyst", Role.ANALYST)
        f.add_user(s, "operator", Role.OPERATOR)
        f.add_user(s, "akimat-west", Role.AKIMAT, akimat_west)
        f.add_user(s, "water", Role.UTILITY, water)
        return FiguresCity(west.id, east.id, north.id, new.id)


@pytest.fixture
def client(database: Database, figures_city: FiguresCity, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path, timezone="Asia/Almaty"), database)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def signed_in(client: TestClient) -> Callable[[str], TestClient]:
    def sign_in(username: str) -> TestClient:
        response = client.post(
            "/api/auth/login", json={"username": username, "password": f.PASSWORD}
        )
        assert response.status_code == 200, response.text
        return client

    return sign_in
