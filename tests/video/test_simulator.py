"""Simulated cameras: real-time pace, health, snapshots from the current GOP, prompt stop."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from sqlalchemy import select

from safecity.bus import InProcessBus
from safecity.city.models import Camera, CameraHealth
from safecity.store.engine import Database
from safecity.video.health import CameraHealthRecorder
from safecity.video.simulator import CameraSimulator, SimulatedCamera
from safecity.video.synthetic import VideoJob, VideoSpec, write_street_video
from tests import factories as f

# One-second clips, so that a two-second test also proves the loop.
SPEC = VideoSpec(width=320, height=180, fps=15, seconds=1, gop_seconds=1)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_street_video(
        VideoJob(tmp_path_factory.mktemp("sim") / "cam.mp4", "AST-1", 1), SPEC
    )


@pytest.fixture
def camera(clip: Path) -> Iterator[SimulatedCamera]:
    camera = SimulatedCamera("AST-1", clip)
    yield camera
    camera.stop()


def test_plays_at_real_time_pace_across_loops(camera: SimulatedCamera) -> None:
    started = time.monotonic()
    camera.start()
    time.sleep(2.0)
    health = camera.health()
    played = time.monotonic() - started
    assert health.online
    # The first packet goes at once, then one every 1/15 s: no bursts, no lag.
    assert abs(health.packets - (1 + played * 15)) <= 2
    assert health.fps == pytest.approx(15, abs=1)
    assert health.bitrate_kbps > 0
    assert health.loops >= 1
    assert health.last_packet_at is not None


def test_snapshot_is_a_jpeg_of_the_current_picture(camera: SimulatedCamera) -> None:
    assert camera.snapshot_jpeg() is None  # nothing sent yet
    camera.start()
    time.sleep(0.5)
    jpeg = camera.snapshot_jpeg()
    assert jpeg is not None and jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
    with av.open(_write(camera.path.parent / "snapshot.jpg", jpeg)) as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (320, 180)


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def test_stop_joins_at_once_and_the_camera_goes_offline(camera: SimulatedCamera) -> None:
    camera.start()
    time.sleep(0.3)
    started = time.perf_counter()
    camera.stop()
    assert time.perf_counter() - started < 0.5
    assert not camera.running
    assert not camera.health().online and camera.health().fps == 0


def test_a_file_that_cannot_be_played_leaves_the_camera_offline(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    camera = SimulatedCamera("AST-2", broken)
    camera.start()
    time.sleep(0.2)
    assert not camera.running and not camera.health().online
    assert camera.snapshot_jpeg() is None


def test_simulator_answers_snapshots_only_for_its_cameras(clip: Path) -> None:
    with CameraSimulator({"AST-1": clip}) as simulator:
        time.sleep(0.3)
        assert simulator.snapshot_jpeg("AST-1") is not None
        assert simulator.snapshot_jpeg("AST-404") is None


def test_health_reaches_the_camera_registry_over_the_bus(
    sqlite_database: Database, clip: Path
) -> None:
    with sqlite_database.session() as session:
        district = f.add_district(session, "west", f.WEST)
        f.add_camera(session, "AST-1", district)
        f.add_camera(session, "AST-9", district)
    with sqlite_database.session() as session:
        updated_before = session.scalars(
            select(Camera.updated_at).where(Camera.code == "AST-1")
        ).one()

    bus = InProcessBus()
    recorder = CameraHealthRecorder(bus, sqlite_database, flush_every=0.2)
    recorder.start()
    simulator = CameraSimulator({"AST-1": clip}, bus, report_every=0.2)
    simulator.start()
    time.sleep(1.5)
    with sqlite_database.session() as session:
        live = session.scalars(select(Camera).where(Camera.code == "AST-1")).one()
        assert live.health is CameraHealth.ONLINE and live.last_seen_at is not None
        other = session.scalars(select(Camera).where(Camera.code == "AST-9")).one()
        assert other.health is CameraHealth.UNKNOWN and other.last_seen_at is None
    started = time.perf_counter()
    simulator.stop()
    recorder.stop()
    bus.close()
    assert time.perf_counter() - started < 1.0
    with sqlite_database.session() as session:
        stopped = session.scalars(select(Camera).where(Camera.code == "AST-1")).one()
        assert stopped.health is CameraHealth.OFFLINE
        assert stopped.updated_at == updated_before
