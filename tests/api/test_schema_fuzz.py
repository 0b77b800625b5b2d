"""The net: schemathesis sends generated requests to every operation in the OpenAPI spec, signed
in as each role, and no answer may be a server error or differ from its documented schema."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from safecity.api.app import create_app
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.api.conftest import City

ROLES = ["admin", "operator", "water", "akimat-west", "officer-east"]


@pytest.fixture(params=ROLES)
def role_app(
    request: pytest.FixtureRequest, database: Database, city: City, tmp_path: Path
) -> Iterator[tuple[FastAPI, str]]:
    app = create_app(Settings(data_dir=tmp_path), database)
    with TestClient(app) as client:
        answer = client.post(
            "/api/auth/login",
            json={"username": request.param, "password": f.PASSWORD, "issue_token": True},
        )
        assert answer.status_code == 200, answer.text
        yield app, answer.json()["token"]


def _spec() -> dict[str, object]:
    """The spec does not depend on the data: read it once from an app on an unused database."""
    return create_app(Settings(), Database("sqlite://")).openapi()


schema = schemathesis.openapi.from_dict(_spec()).exclude(path="/api/ops/feed")


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_errors_for_any_role(
    case: schemathesis.Case, role_app: tuple[FastAPI, str]
) -> None:
    app, token = role_app
    case.call_and_validate(
        app=app,
        headers={"Authorization": f"Bearer {token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
