"""docs/deploying.md, followed verbatim on PostgreSQL: its configuration file and every command
of its `console` blocks, in order, with a small city made here and no demo code. Then, over
HTTP against the `safecity serve` it started: an akimat user sees only its district, a utility
only its site's cameras, and an alert at a camera is dispatched to the unit that covers it."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.city_files import write_city

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

GUIDE = Path(__file__).parents[2] / "docs" / "deploying.md"
PASSWORD = "a-long-deployment-password"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks(language: str) -> list[str]:
    return [body for lang, body in _FENCE.findall(GUIDE.read_text()) if lang == language]


def guide_commands() -> list[str]:
    """Every `$ ` line of the guide's console blocks, in order."""
    return [
        line.removeprefix("$ ").strip()
        for block in _blocks("console")
        for line in block.splitlines()
        if line.startswith("$ ")
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def deployment(
    tmp_path: Path, postgres_database_factory: object
) -> Iterator[tuple[Path, dict[str, str]]]:
    """The service's working folder (the guide's safecity.yaml, verbatim, and the city's
    files) and the environment: this repository's `safecity` on PATH, and the three settings
    the guide says the environment may override pointed at a fresh database, a temporary data
    folder and a free port."""
    work = tmp_path / "etc-safecity"
    work.mkdir()
    [config] = _blocks("yaml")
    (work / "safecity.yaml").write_text(config)
    write_city(work / "city")
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "safecity").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m safecity "$@"\n')
    (shims / "safecity").chmod(0o755)
    url = postgres_database_factory()  # type: ignore[operator]
    env = {
        **os.environ,
        "PATH": f"{shims}:{os.environ['PATH']}",
        "PYTHONPATH": str(GUIDE.parents[1]),
        "SAFECITY_DATABASE__URL": url,
        "SAFECITY_DATA_DIR": str(tmp_path / "var-lib-safecity"),
        "SAFECITY_API__PORT": str(_free_port()),
        "SAFECITY_API__HOST": "127.0.0.1",
    }
    yield work, env


def _run(command: str, work: Path, env: dict[str, str]) -> None:
    stdin = f"{PASSWORD}\n" if "--password-stdin" in command else None
    done = subprocess.run(
        shlex.split(command),
        cwd=work,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"$ {command}\n{done.stdout}\n{done.stderr}"


@pytest.fixture
def served(deployment: tuple[Path, dict[str, str]]) -> Iterator[str]:
    """Runs the guide's commands; `safecity serve` (the last) in the background until ready."""
    work, env = deployment
    commands = guide_commands()
    assert commands[-1] == "safecity serve", commands
    assert any(c.startswith("safecity city import city/") for c in commands)
    for command in commands[:-1]:
        _run(command, work, env)
    server = subprocess.Popen(
        shlex.split(commands[-1]),
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{env['SAFECITY_API__PORT']}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code in (200, 503):
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "safecity serve did not answer in 60 s"
            time.sleep(0.3)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    # systemd's stop: everything started is stopped in order and the process exits normally.
    assert server.returncode == 0, server.stdout.read() if server.stdout else ""


def _signed_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=10)
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return client


def _camera_codes(client: httpx.Client) -> set[str]:
    response = client.get("/api/cameras")
    assert response.status_code == 200, response.text
    return {camera["code"] for camera in response.json()["items"]}


def test_the_deploying_guide_brings_up_a_city_that_scopes_and_dispatches(served: str) -> None:
    operator = _signed_in(served, "operator.aigerim")
    assert _camera_codes(operator) == {"CAM-YARD", "CAM-PUMP", "CAM-ST"}
    assert _camera_codes(_signed_in(served, "akimat.west")) == {"CAM-YARD"}
    assert _camera_codes(_signed_in(served, "water.dispatcher")) == {"CAM-PUMP"}

    cameras = {c["code"]: c["id"] for c in operator.get("/api/cameras").json()["items"]}
    alert = operator.post(
        "/api/alerts",
        json={"kind": "fight", "title": "Fight at the corner", "camera_id": cameras["CAM-ST"]},
    )
    assert alert.status_code == 201, alert.text
    incident = operator.post(
        "/api/incidents", json={"type_code": "assault", "alert_ids": [alert.json()["id"]]}
    )
    assert incident.status_code == 201, incident.text
    dispatched = operator.post(
        f"/api/incidents/{incident.json()['id']}/transitions", json={"to": "dispatched"}
    )
    assert dispatched.status_code == 200, dispatched.text
    units = {unit["id"]: unit["code"] for unit in operator.get("/api/police-units").json()}
    assert units[dispatched.json()["police_unit_id"]] == "unit-east"
    officer = _signed_in(served, "officer.east")
    assert incident.json()["id"] in {i["id"] for i in officer.get("/api/incidents").json()}
