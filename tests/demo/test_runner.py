"""`safecity demo`: its settings, data folder, live cameras, and a real start and Ctrl-C."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from safecity.demo.city import DemoCity
from safecity.demo.runner import (
    DEMO_DATA_DIR,
    MARKER_FILE,
    DemoError,
    browser_url,
    demo_settings,
    ensure_videos,
    holds_the_demo_city,
    pick_live_cameras,
    point_cameras_at,
    prepare_data_dir,
)
from safecity.demo.seed import seed_demo_city
from safecity.process import CannotListen, listening_socket
from safecity.settings import Settings
from safecity.store.engine import Database
from safecity.video.ingest.synthetic import VideoSpec
from tests import factories as f

REPO = Path(__file__).resolve().parents[2]


def test_demo_runs_in_its_own_folder_unless_one_is_chosen(tmp_path: Path) -> None:
    assert demo_settings(Settings()).data_dir == DEMO_DATA_DIR
    chosen = demo_settings(Settings(data_dir=tmp_path, city_name="Test"), port=9000)
    assert (chosen.data_dir, chosen.city_name, chosen.api.port) == (tmp_path, "Test", 9000)


def test_reset_wipes_the_demo_folder(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    prepare_data_dir(folder, reset=False)
    (folder / "safecity.db").write_text("old")
    prepare_data_dir(folder, reset=True)
    assert [p.name for p in folder.iterdir()] == [MARKER_FILE]


def test_reset_refuses_a_folder_the_demo_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.db").write_text("a real city")
    with pytest.raises(DemoError, match="not made by `safecity demo`"):
        prepare_data_dir(tmp_path, reset=True)
    assert (tmp_path / "precious.db").exists()


def test_a_folder_of_someone_else_is_never_marked_as_the_demos(tmp_path: Path) -> None:
    (tmp_path / "precious.db").write_text("a real city")
    prepare_data_dir(tmp_path, reset=False)
    assert not (tmp_path / MARKER_FILE).exists()


def test_the_demo_recognises_only_its_own_city(database: Database, demo_city: DemoCity) -> None:
    with database.session() as session:
        f.add_district(session, "west", f.WEST)
        assert not holds_the_demo_city(session)
    seed_demo_city(database, dataclasses.replace(demo_city, cameras=(), crimes=()), reset=True)
    with database.session() as session:
        assert holds_the_demo_city(session)


def test_live_cameras_come_from_every_district_and_busy_sites(
    sqlite_database: Database, demo_city: DemoCity
) -> None:
    seed_demo_city(sqlite_database, dataclasses.replace(demo_city, crimes=()))
    with sqlite_database.session() as session:
        picked = pick_live_cameras(session, 6)
        assert pick_live_cameras(session, 6) == picked
    cameras = {camera.code: camera for camera in demo_city.cameras}
    sites = {site.code: site for site in demo_city.sites}
    assert len(set(picked)) == 6
    assert {cameras[code].district_code for code in picked} == {d.code for d in demo_city.districts}
    for code in picked:
        site = sites[cameras[code].site_code or ""]
        assert site.kind.value in {"street", "square", "transport_hub", "market", "park"}


def test_clips_are_generated_once_and_reused(
    sqlite_database: Database, demo_city: DemoCity, tmp_path: Path
) -> None:
    seed_demo_city(sqlite_database, dataclasses.replace(demo_city, crimes=()))
    spec = VideoSpec(width=160, height=120, fps=5, seconds=1, gop_seconds=1)
    live = ensure_videos(tmp_path, ["AST-00001", "AST-00002"], spec)
    written = {camera.video: camera.video.stat().st_mtime_ns for camera in live}
    assert ensure_videos(tmp_path, ["AST-00001", "AST-00002"], spec) == live
    assert {camera.video: camera.video.stat().st_mtime_ns for camera in live} == written
    with sqlite_database.session() as session:
        point_cameras_at(session, live)
    with sqlite_database.engine.connect() as connection:
        url = connection.exec_driver_sql(
            "select main_stream_url from cameras where code = 'AST-00001'"
        ).scalar_one()
    assert url == (tmp_path / "AST-00001.mp4").resolve().as_uri()


def test_a_taken_port_is_reported_clearly() -> None:
    with listening_socket("127.0.0.1", 0) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(CannotListen, match=f"cannot listen on 127.0.0.1:{port}"):
            listening_socket("127.0.0.1", port)


def test_browser_url_names_a_reachable_address() -> None:
    assert browser_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert browser_url("::1", 8080) == "http://[::1]:8080"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str, token: str | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.headers.get("content-type", ""), response.read()


@pytest.mark.slow
def test_demo_starts_within_a_minute_serves_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    command = [
        sys.executable,
        "-c",
        "from safecity.demo.runner import run_demo; from safecity.settings import Settings; "
        f"run_demo(Settings(), reset=False, cameras=2, port={port})",
    ]
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    demo = subprocess.Popen(
        command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        while True:
            assert demo.poll() is None, demo.communicate()[0].decode()
            assert time.perf_counter() - started < 60, "the demo did not start within a minute"
            try:
                if _get(f"{base}/api/health")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        login = urllib.request.Request(
            f"{base}/api/auth/login",
            data=json.dumps(
                {"username": "operator", "password": "safecity-demo", "issue_token": True}
            ).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(login, timeout=10) as response:
            token = json.load(response)["token"]
        database = tmp_path / DEMO_DATA_DIR / "safecity.db"
        with sqlite3.connect(database) as connection:
            live = connection.execute(
                "select id from cameras where main_stream_url like 'file:%' order by code"
            ).fetchall()
        assert len(live) == 2
        status, content_type, jpeg = _get(f"{base}/api/cameras/{live[0][0]}/snapshot.jpg", token)
        assert (status, content_type, jpeg[:2]) == (200, "image/jpeg", b"\xff\xd8")

        # Real footage on both cameras: the analytics finds people and raises alerts with
        # their snapshots (no simulated detections).
        deadline = time.perf_counter() + 45
        events: list[dict[str, object]] = []
        while not events and time.perf_counter() < deadline:
            time.sleep(1)
            events = json.loads(_get(f"{base}/api/analytics/events", token)[2])
        assert events, "no analytics event within 45 s of real footage"
        assert {event["object_class"] for event in events} <= {"person", "bicycle"}
        status, content_type, jpeg = _get(f"{base}{events[0]['snapshot_url']}", token)
        assert (status, content_type, jpeg[:2]) == (200, "image/jpeg", b"\xff\xd8")
        # New ones only: the demo's seeded OCC history has alerts of its own, all handled.
        alerts = json.loads(_get(f"{base}/api/alerts?status=new", token)[2])
        assert alerts and all(alert["source"] == "analytics" for alert in alerts)
        assert all("simulated" not in alert["title"] for alert in alerts)
        assert any(alert["thumbnail_url"] for alert in alerts)

        demo.send_signal(signal.SIGINT)
        output = demo.communicate(timeout=5)[0].decode()
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 0, output
    assert "SafeCity demo ready" in output and "police.saryarka" in output
    with sqlite3.connect(database) as connection:
        health = connection.execute(
            "select distinct health from cameras where main_stream_url like 'file:%'"
        ).fetchall()
    assert health == [("offline",)]
