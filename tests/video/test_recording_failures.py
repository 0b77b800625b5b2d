"""A media disk that fails, and a clock that jumps, as the OCC and its monitoring see them
through the API: the camera's health says why it is not recorded, an alert is raised,
/api/health says degraded, /metrics counts it; and all of it clears once the disk is back."""

from __future__ import annotations

import errno
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import pytest
from fastapi.testclient import TestClient

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.bus import InProcessBus
from safecity.core.clock import utcnow
from safecity.core.media import MEDIA_MARKER
from safecity.ops.alerts.camera_health import CameraHealthAlerts
from safecity.settings import Settings, VideoSettings
from safecity.store.engine import Database
from safecity.video.ingest.health import CameraHealthRecorder
from safecity.video.ingest.synthetic import VideoSpec
from safecity.video.models import RecordedSegment
from safecity.video.node import VideoNode
from safecity.video.recording.recorder import open_segment_file
from tests import factories as f
from tests.support.recording import street_clip

SPEC = VideoSpec(width=320, height=180, fps=15, seconds=4, gop_seconds=1)


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Disk:
    """Segment files as the operating system makes them, until the disk is ``full``: then
    every write fails as a full disk's does."""

    def __init__(self) -> None:
        self.full = False

    def open(self, path: Path) -> IO[bytes]:
        disk, raw = self, open_segment_file(path)

        class File:
            def write(self, data: bytes) -> int:
                if disk.full:
                    raise OSError(errno.ENOSPC, "No space left on device")
                return raw.write(data)

            def __getattr__(self, name: str) -> object:
                return getattr(raw, name)

        return File()  # type: ignore[return-value]


@dataclass
class Occ:
    client: TestClient
    disk: Disk
    camera_id: int
    media: Path


@contextmanager
def _running(
    database: Database, settings: Settings, open_file: Callable[[Path], IO[bytes]]
) -> Iterator[TestClient]:
    """`safecity serve` in this process: the node, camera health into the registry, health
    alerts, and the API over them; an administrator signed in."""
    bus = InProcessBus()
    health = CameraHealthRecorder(bus, database, flush_every=0.2)
    alerts = CameraHealthAlerts(bus, database, grace=timedelta(seconds=1))
    node = VideoNode(
        settings,
        database,
        bus,
        reconcile_seconds=0.5,
        health_every=0.2,
        open_segment_file=open_file,
    )
    health.start()
    alerts.start()
    node.start()
    try:
        app = create_app(settings, database, node, live=node, bus=bus, node_health=node)
        with TestClient(app) as client:
            response = client.post(
                "/api/auth/login", json={"username": "admin", "password": f.PASSWORD}
            )
            assert response.status_code == 200, response.text
            yield client
    finally:
        node.stop()
        alerts.stop()
        health.stop()
        bus.close()


@pytest.fixture
def occ(database: Database, tmp_path: Path) -> Iterator[Occ]:
    clip = street_clip(tmp_path / "clips", SPEC)
    with database.session() as session:
        district = f.add_district(session, "west", f.WEST)
        camera_id = f.add_camera(session, "AST-1", district, main_stream_url=clip.as_uri()).id
        f.add_user(session, "admin", Role.ADMIN)
    settings = Settings(
        data_dir=tmp_path, video=VideoSettings(segment_seconds=1.0, retention_check_seconds=3600)
    )
    disk = Disk()
    with _running(database, settings, disk.open) as client:
        yield Occ(client, disk, camera_id, settings.media_path)


def _health(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/health")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _stream(occ: Occ) -> dict[str, Any]:
    response = occ.client.get(f"/api/cameras/{occ.camera_id}")
    assert response.status_code == 200, response.text
    stream: dict[str, Any] = response.json()["stream"] or {}
    return stream


def _metric(client: TestClient, name: str) -> float:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    for line in response.text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_a_full_media_disk_shows_in_health_alerts_and_metrics_until_space_returns(
    occ: Occ, caplog: pytest.LogCaptureFixture
) -> None:
    wait_for(lambda: _stream(occ).get("recording"), "the camera recorded")
    assert _health(occ.client) == {
        "status": "ok",
        "database": "ok",
        "problems": [],
        "version": _health(occ.client)["version"],
    }
    failures_before = _metric(occ.client, "safecity_recording_failures_total")

    occ.disk.full = True

    health = wait_for(lambda: _health(occ.client)["problems"] and _health(occ.client), "degraded")
    assert health["status"] == "degraded"
    assert health["problems"] == ["recording fails on 1 of 1 camera(s)"]
    stream = wait_for(lambda: not _stream(occ)["recording"] and _stream(occ), "not recording")
    assert stream["status"] == "online", "the camera itself is fine"
    assert stream["detail"].startswith("recording stopped: cannot ")  # write, or finish
    assert "recordings/AST-1/" in stream["detail"]
    assert stream["detail"].endswith(": no space left on device")
    alert = wait_for(lambda: occ.client.get("/api/alerts").json(), "the alert")[0]
    assert alert["kind"] == "camera_not_recording" and alert["camera_id"] == occ.camera_id
    assert alert["title"].startswith("Camera AST-1 is not recording (for ")
    assert "no space left on device" in alert["title"]
    assert _metric(occ.client, "safecity_cameras_not_recording") == 1
    (logged, *_) = [r for r in caplog.records if r.name == "safecity.video.recording.recorder"]
    assert logged.levelname == "ERROR"
    assert logged.getMessage().startswith("camera AST-1: recording stopped: cannot ")
    assert logged.getMessage().endswith(": no space left on device")
    assert _metric(occ.client, "safecity_recording_failures_total") > failures_before

    occ.disk.full = False

    wait_for(lambda: _health(occ.client)["status"] == "ok", "recording again")
    assert _health(occ.client)["problems"] == []
    wait_for(lambda: _stream(occ)["recording"], "the camera's health says so")
    assert _metric(occ.client, "safecity_cameras_not_recording") == 0


def test_a_media_disk_unmounted_under_a_running_node_is_not_recorded_over(
    occ: Occ, tmp_path: Path
) -> None:
    wait_for(lambda: _stream(occ).get("recording"), "the camera recorded")
    disk = tmp_path / "the-disk"
    occ.media.rename(disk)  # unmounted: its mount point stays, an empty folder
    occ.media.mkdir()

    health = wait_for(lambda: _health(occ.client)["problems"] and _health(occ.client), "degraded")
    assert health["problems"] == ["recording fails on 1 of 1 camera(s)"]
    stream = wait_for(
        lambda: "mounted" in (_stream(occ)["detail"] or "") and _stream(occ), "the reason"
    )
    assert stream["detail"] == (
        f"recording stopped: cannot record into {occ.media}: it has no .safecity-media: "
        "is the media disk still mounted?"
    )
    time.sleep(1.5)  # segments are 1 s: a recorder writing there would have begun one
    assert list(occ.media.rglob("*")) == [], "nothing written onto the system disk"

    occ.media.rmdir()
    disk.rename(occ.media)  # mounted again

    wait_for(lambda: _health(occ.client)["status"] == "ok", "recording again")
    wait_for(lambda: _stream(occ)["recording"], "the camera's health says so")


def test_retention_refused_for_a_clock_jump_makes_health_degraded(
    database: Database, tmp_path: Path
) -> None:
    two_days_ago = utcnow() - timedelta(days=2)
    path = f"recordings/AST-1/{two_days_ago:%Y-%m-%d}/{two_days_ago:%H%M%S}-000.mp4"
    media = tmp_path / "media"
    (media / path).parent.mkdir(parents=True)
    (media / path).write_bytes(b"\0" * 2048)
    (media / MEDIA_MARKER).write_text("")
    with database.session() as session:
        camera = f.add_camera(session, "AST-1", f.add_district(session, "west", f.WEST))
        f.add_user(session, "admin", Role.ADMIN)
        session.add(
            RecordedSegment(
                camera_id=camera.id,
                started_at=two_days_ago,
                ended_at=two_days_ago + timedelta(seconds=10),
                path=path,
                bytes=2048,
                sha256="0" * 64,
                codec="avc1.64001f",
                time_scale=90000,
                init_bytes=100,
                packets=250,
                keyframes=[[0, 100]],
            )
        )
    settings = Settings(data_dir=tmp_path, video=VideoSettings(cameras="none"))
    assert settings.video.retention_clock_jump_hours == 6

    with _running(database, settings, open_segment_file) as client:
        health = wait_for(lambda: _health(client)["problems"] and _health(client), "degraded")
        assert health["status"] == "degraded"
        assert health["problems"] == ["retention refused: the clock jumped ahead"]
        assert _metric(client, "safecity_retention_refused") == 1
    assert (media / path).exists(), "nothing deleted"
