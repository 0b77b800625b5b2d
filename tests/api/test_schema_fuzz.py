"""The net: schemathesis sends generated and boundary requests to every operation in the OpenAPI
spec, signed in as each role, on SQLite and PostgreSQL. No answer may be a server error or
differ from its documented schema, so a new endpoint is covered the moment it is in the spec.

One city per backend serves every role and operation of this module (what one request stores,
the next may find), so the cost is the requests, not a city built for each of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy import select

from safecity.api.app import create_app
from safecity.auth.models import User
from safecity.auth.sessions import open_session, user_for_token
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from tests import factories as f
from tests.api.conftest import build_city

ROLES = ["admin", "operator", "water", "akimat-west", "officer-east"]
STAND_IN = "orphan-officer"
"""Signs in as no role here: a user-admin operation aimed at a signed-in user goes to them
instead, so that deactivating, demoting or re-passwording one cannot silence the later ones."""
STREAMS = ["/api/ops/feed"]  # never ends by itself: proved by tests/api/test_ops_feed.py


def _spec() -> dict[str, Any]:
    """The spec does not depend on the data: read it once from an app on an unused database."""
    return create_app(Settings(), Database("sqlite://")).openapi()


schema = schemathesis.openapi.from_dict(_spec()).exclude(path=STREAMS)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def city_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FastAPI]:
    folder = tmp_path_factory.mktemp("fuzzed-city")
    if request.param == "sqlite":
        database = Database(f"sqlite:///{folder / 'safecity.db'}")
    else:
        create: Callable[[], str] = request.getfixturevalue("postgres_database_factory")
        database = Database(create())
    migrate.upgrade(database)
    build_city(database)
    app = create_app(Settings(data_dir=folder), database)
    with TestClient(app):  # runs the lifespan: the live feed's hub and publisher
        yield app
    database.dispose()


@pytest.fixture(scope="module")
def tokens(city_app: FastAPI) -> dict[str, str]:
    with TestClient(city_app) as client:
        signed = {
            name: client.post(
                "/api/auth/login",
                json={"username": name, "password": f.PASSWORD, "issue_token": True},
            )
            for name in ROLES
        }
    assert all(answer.status_code == 200 for answer in signed.values()), signed
    return {name: answer.json()["token"] for name, answer in signed.items()}


@pytest.fixture(scope="module")
def user_ids(city_app: FastAPI) -> dict[str, int]:
    with city_app.state.database.sessions() as session:
        return {user.username: user.id for user in session.scalars(select(User))}


def _user_id(value: object) -> int | None:
    """The user id a path parameter names, as the API reads it (the coverage phase sends "1")."""
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _live_token(app: FastAPI, tokens: dict[str, str], role: str) -> str:
    """The role's token, opened anew when an operation ended its session (a logout, an admin's
    sign-out): else every later operation would be a 401 and prove nothing. Opened in the
    database, since the login operation's wrong guesses have the throttle refusing the role."""
    with app.state.database.session() as session:
        if user_for_token(session, tokens[role]) is None:
            user = session.scalar(select(User).where(User.username == role))
            assert user is not None and user.is_active, f"{role} was deactivated"
            tokens[role], _ = open_session(session, user, timedelta(hours=1))
    return tokens[role]


@schemathesis.check
def no_undocumented_server_error(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """A 5xx that the operation documents is a designed answer (a snapshot's 503 where no
    video node serves pictures, an attachment's 507 when the store is full); any other 5xx
    is a server error."""
    if str(response.status_code) in case.operation.definition.raw.get("responses", {}):
        return None
    return not_a_server_error(ctx, response, case)


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_for_any_role(
    case: schemathesis.Case,
    role: str,
    city_app: FastAPI,
    tokens: dict[str, str],
    user_ids: dict[str, int],
) -> None:
    if case.path_parameters and _user_id(case.path_parameters.get("user_id")) in {
        user_ids[name] for name in ROLES
    }:
        case.path_parameters["user_id"] = user_ids[STAND_IN]
    case.call_and_validate(
        app=city_app,
        headers={"Authorization": f"Bearer {_live_token(city_app, tokens, role)}"},
        checks=[no_undocumented_server_error, response_schema_conformance],
    )


def test_the_net_covers_every_operation_but_the_streams() -> None:
    operations = {(op.method.upper(), op.path) for op in _all_operations()}
    assert len(operations) > 60, "every router is in the spec"
    assert not any(path in STREAMS for _, path in operations)
    assert ("PATCH", "/api/cameras/{camera_id}") in operations


def _all_operations() -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]
