"""A two-district city with one user per role, served by the real app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.models import OrganizationKind, PoliceUnit
from safecity.insights.models import CrimeRecord
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f


@dataclass(frozen=True)
class City:
    west_id: int
    east_id: int
    water_camera_id: int  # at the water company's site, west
    power_camera_id: int  # at the power company's site, east
    street_west_id: int
    street_east_id: int


@pytest.fixture
def city(database: Database) -> City:
    return build_city(database)


def build_city(database: Database) -> City:
    """West and east, a utility site in each, four cameras, one user per role, crimes."""
    with database.session() as s:
        west = f.add_district(s, "west", f.WEST)
        east = f.add_district(s, "east", f.EAST)
        water = f.add_organization(s, "water-co", OrganizationKind.UTILITY)
        power = f.add_organization(s, "power-co", OrganizationKind.UTILITY)
        akimat_west = f.add_organization(s, "akimat-west", OrganizationKind.AKIMAT, west)
        police = f.add_organization(s, "police-dept", OrganizationKind.POLICE)
        unit_east = PoliceUnit(
            code="unit-east", name="East unit", organization=police, districts=[east]
        )
        s.add(unit_east)
        pump = f.add_site(s, "pump-station", west, owner=water)
        substation = f.add_site(s, "substation", east, owner=power)
        city = City(
            west_id=west.id,
            east_id=east.id,
            water_camera_id=f.add_camera(s, "W-PUMP", west, pump).id,
            power_camera_id=f.add_camera(s, "E-SUB", east, substation).id,
            street_west_id=f.add_camera(
                s,
                "W-STREET",
                west,
                main_stream_url="rtsp://viewer:s3cret@10.0.0.9:554/main",
                sub_stream_url="rtsp://viewer:s3cret@10.0.0.9:554/sub",
            ).id,
            street_east_id=f.add_camera(s, "E-STREET", east).id,
        )
        f.add_user(s, "admin", Role.ADMIN)
        f.add_user(s, "operator", Role.OPERATOR)
        f.add_user(s, "water", Role.UTILITY, water)
        f.add_user(s, "akimat-west", Role.AKIMAT, akimat_west)
        f.add_user(s, "officer-east", Role.POLICE_DUTY_OFFICER, police, police_unit=unit_east)
        f.add_user(s, "orphan-officer", Role.POLICE_DUTY_OFFICER, police)
        for index, district in enumerate([west, west, east]):
            s.add(
                CrimeRecord(
                    code=f"CR-{index}",
                    occurred_at=datetime(2026, 2 + index * 4, 1, tzinfo=UTC),
                    kind=CrimeKind.THEFT,
                    place_kind=PlaceKind.STREET,
                    latitude=51.15,
                    longitude=71.35,
                    district=district,
                )
            )
    return city


@pytest.fixture
def client(database: Database, city: City, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path), database)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def signed_in(client: TestClient) -> Callable[[str], TestClient]:
    """Signs the client in as the given user (cookie session) and returns it."""

    def sign_in(username: str) -> TestClient:
        response = client.post(
            "/api/auth/login", json={"username": username, "password": f.PASSWORD}
        )
        assert response.status_code == 200, response.text
        return client

    return sign_in
