"""Whose address a request is taken to come from: the peer's, or through a trusted proxy
the client's it forwards (api.trusted_proxies). Sign-in limits and the audit log use it."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from starlette.types import ASGIApp
from typer.testing import CliRunner

from safecity import cli
from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.process import serve_forever
from safecity.settings import ApiSettings, Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.api.conftest import City
from tests.audit.entries import audit_entries

WRONG = {"username": "admin", "password": "guess-guess"}


def _as_safecity_serve_runs_it(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ASGIApp:
    config = tmp_path / "safecity.yaml"
    config.write_text(
        f"data_dir: {tmp_path}\ndatabase:\n  url: {database.engine.url}\nvideo:\n  cameras: none\n"
    )
    served: list[uvicorn.Config] = []

    def run(server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        served.append(server.config)

    monkeypatch.setattr(uvicorn.Server, "run", run)
    result = CliRunner().invoke(cli.app, ["serve", "--config", str(config), "--port", "0"])
    assert result.exit_code == 0, result.output
    served[0].load()
    return served[0].loaded_app


def _as_the_demo_runs_it(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ASGIApp:
    served: list[uvicorn.Config] = []

    def run(server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        served.append(server.config)

    monkeypatch.setattr(uvicorn.Server, "run", run)
    with socket.socket() as listener:
        serve_forever(
            create_app(Settings(data_dir=tmp_path), database), listener, graceful_seconds=1
        )
    served[0].load()
    return served[0].loaded_app


Serving = Callable[[Database, Path, pytest.MonkeyPatch], ASGIApp]


@pytest.fixture
def admin(sqlite_database: Database) -> Database:
    with sqlite_database.session() as session:
        f.add_user(session, "admin", Role.ADMIN)
    return sqlite_database


@pytest.mark.parametrize("serving", [_as_safecity_serve_runs_it, _as_the_demo_runs_it])
@pytest.mark.parametrize(
    ("peer", "allowed"),
    [("127.0.0.1", None), ("203.0.113.7", "*")],
    ids=["local-peer", "FORWARDED_ALLOW_IPS=*"],
)
def test_a_forged_forwarded_for_is_not_believed_as_served(
    serving: Serving,
    peer: str,
    allowed: str | None,
    admin: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """uvicorn alone would believe it from the local host, or from anyone under a container's
    FORWARDED_ALLOW_IPS=*; as SafeCity runs uvicorn, only api.trusted_proxies count."""
    if allowed is not None:
        monkeypatch.setenv("FORWARDED_ALLOW_IPS", allowed)
    client = TestClient(serving(admin, tmp_path, monkeypatch), client=(peer, 50000))
    client.post("/api/auth/login", json=WRONG, headers={"X-Forwarded-For": "198.51.100.1"})
    assert [entry.address for entry in audit_entries(admin, "auth.login_failed")] == [peer]


def test_rotating_forwarded_for_does_not_escape_the_address_limit(
    admin: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = TestClient(
        _as_safecity_serve_runs_it(admin, tmp_path, monkeypatch), client=("127.0.0.1", 50000)
    )
    for index in range(30):
        forged = {"X-Forwarded-For": f"198.51.100.{index}"}
        wrong = {"username": f"guess-{index}", "password": "guess-guess"}
        assert client.post("/api/auth/login", json=wrong, headers=forged).status_code == 401
    last = client.post(
        "/api/auth/login",
        json={"username": "admin", "password": f.PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.200"},
    )
    assert last.status_code == 429
    assert {entry.address for entry in audit_entries(admin)} == {"127.0.0.1"}


def test_a_trusted_proxy_forwards_its_client_address(
    database: Database, city: City, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, api=ApiSettings(trusted_proxies=["10.0.0.0/24"]))
    app = create_app(settings, database)
    proxy = TestClient(app, client=("10.0.0.2", 50000))
    stranger = TestClient(app, client=("192.0.2.9", 50000))
    proxy.post("/api/auth/login", json=WRONG, headers={"X-Forwarded-For": "198.51.100.7"})
    # A client's own header goes first; the proxy appends the address it saw.
    proxy.post("/api/auth/login", json=WRONG, headers={"X-Forwarded-For": "10.0.0.9, 198.51.100.8"})
    stranger.post("/api/auth/login", json=WRONG, headers={"X-Forwarded-For": "198.51.100.9"})
    assert [entry.address for entry in audit_entries(database, "auth.login_failed")] == [
        "198.51.100.7",
        "198.51.100.8",
        "192.0.2.9",
    ]


def test_clients_behind_one_proxy_are_limited_apart(
    database: Database, city: City, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, api=ApiSettings(trusted_proxies=["10.0.0.2"]))
    proxy = TestClient(create_app(settings, database), client=("10.0.0.2", 50000))
    guesser = {"X-Forwarded-For": "198.51.100.7"}
    for _ in range(5):
        proxy.post("/api/auth/login", json=WRONG, headers=guesser)
    right = {"username": "admin", "password": f.PASSWORD}
    assert proxy.post("/api/auth/login", json=right, headers=guesser).status_code == 429
    console = {"X-Forwarded-For": "192.0.2.50"}
    assert proxy.post("/api/auth/login", json=right, headers=console).status_code == 200
