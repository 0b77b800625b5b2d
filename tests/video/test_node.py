"""The video node end to end on simulated cameras (files played at real time): ingest →
recorder → index, health over the bus into the registry, snapshots, live feeds, and keeping
in step with the registry."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import av
import pytest
from sqlalchemy import select, update

from safecity.bus import InProcessBus
from safecity.city.models import Camera, CameraHealth, CameraStatus
from safecity.settings import Settings, VideoSettings
from safecity.store.engine import Database
from safecity.video.ingest.health import CameraHealthRecorder
from safecity.video.ingest.synthetic import VideoSpec
from safecity.video.models import CameraStream, RecordedSegment, StreamStatus
from safecity.video.node import CameraSource, MediaAbsent, NodeBusy, VideoNode
from tests import factories as f
from tests.support.recording import record, street_clip

START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
SPEC = VideoSpec(width=320, height=180, fps=15, seconds=4, gop_seconds=1)


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return street_clip(tmp_path_factory.mktemp("clips"), SPEC)


@pytest.fixture
def city(sqlite_database: Database, clip: Path) -> Database:
    with sqlite_database.session() as session:
        district = f.add_district(session, "west", f.WEST)
        f.add_camera(session, "AST-1", district, main_stream_url=clip.as_uri())
        f.add_camera(session, "AST-2", district, main_stream_url=clip.as_uri())
        f.add_camera(session, "AST-OFF", district, status=CameraStatus.MAINTENANCE)
    return sqlite_database


@pytest.fixture
def running(city: Database, tmp_path: Path) -> Iterator[tuple[VideoNode, Database]]:
    settings = Settings(
        data_dir=tmp_path, video=VideoSettings(segment_seconds=1.0, retention_check_seconds=3600)
    )
    bus = InProcessBus()
    health = CameraHealthRecorder(bus, city, flush_every=0.2)
    health.start()
    node = VideoNode(settings, city, bus, reconcile_seconds=0.5, health_every=0.2)
    node.start()
    yield node, city
    node.stop()
    health.stop()
    bus.close()


def _segments(database: Database) -> list[RecordedSegment]:
    with database.session() as session:
        return list(session.scalars(select(RecordedSegment)))


def test_active_cameras_are_recorded_indexed_and_reported(
    running: tuple[VideoNode, Database], tmp_path: Path
) -> None:
    node, database = running
    assert node.camera_codes == ["AST-1", "AST-2"], "the camera in maintenance is not pulled"
    wait_for(lambda: len(_segments(database)) >= 4, what="segments of both cameras")
    segments = _segments(database)
    assert {s.camera_id for s in segments} == {1, 2}
    for segment in segments:
        with av.open(str(tmp_path / "media" / segment.path)) as container:
            assert sum(1 for _ in container.decode(video=0)) == segment.packets
    wait_for(lambda: _camera(database, "AST-1").health is CameraHealth.ONLINE, what="health online")
    with database.session() as session:
        stream = session.get(CameraStream, 1)
        assert stream is not None
        assert stream.status is StreamStatus.ONLINE and stream.recording
        assert (stream.width, stream.height, stream.codec) == (320, 180, "h264")

    def reported_fps() -> float:
        with database.session() as session:
            stream = session.get(CameraStream, 1)
            assert stream is not None
            return stream.fps

    # The rate settles at the camera's 15 fps; a stall of this busy test process is caught up
    # in a burst, which a 0.2 s health window reports as it is.
    wait_for(lambda: 10 < reported_fps() < 20, what="the camera's frame rate reported")


def test_snapshots_and_live_feeds_only_for_ingested_cameras(
    running: tuple[VideoNode, Database], tmp_path: Path
) -> None:
    node, _ = running
    wait_for(lambda: node.snapshot_jpeg("AST-1") is not None, what="a snapshot")
    jpeg = node.snapshot_jpeg("AST-1")
    assert jpeg is not None and jpeg[:2] == b"\xff\xd8"
    (tmp_path / "snap.jpg").write_bytes(jpeg)
    with av.open(str(tmp_path / "snap.jpg")) as container:
        assert next(container.decode(video=0)).width == 320
    assert node.snapshot_jpeg("AST-OFF") is None
    assert node.live_feed("AST-1") is not None
    assert node.live_feed("AST-OFF") is None


def test_registry_changes_are_followed(running: tuple[VideoNode, Database], clip: Path) -> None:
    node, database = running
    with database.session() as session:
        session.execute(
            update(Camera)
            .where(Camera.code == "AST-OFF")
            .values(status=CameraStatus.ACTIVE, main_stream_url=clip.as_uri())
        )
        session.execute(
            update(Camera).where(Camera.code == "AST-2").values(status=CameraStatus.MAINTENANCE)
        )
    wait_for(lambda: node.camera_codes == ["AST-1", "AST-OFF"], what="reconcile")
    wait_for(lambda: node.snapshot_jpeg("AST-OFF") is not None, what="the new camera live")


def test_stop_finishes_the_open_segments(city: Database, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, video=VideoSettings(segment_seconds=60.0))
    bus = InProcessBus()
    node = VideoNode(settings, city, bus)
    node.start()
    wait_for(lambda: len(list(tmp_path.rglob("*.partial"))) == 2, what="a segment begun per camera")
    node.stop()
    bus.close()
    segments = _segments(city)
    assert len(segments) == 2, "one short segment per camera, finished and indexed at stop"
    assert not list(tmp_path.rglob("*.partial"))


class _BrokenWatcher:
    """A watcher (the analytics) that fails on one camera, as one whose stored rules cannot be
    read would."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def watch(self, camera: CameraSource) -> None:
        self.asked.append(camera.code)
        if camera.code == "AST-1":
            raise RuntimeError("the rules of AST-1 cannot be read")

    def unwatch(self, camera_code: str) -> None:
        pass

    def figures(self, camera_code: str) -> None:
        return None


def test_a_watcher_that_fails_never_costs_a_camera_its_recording(
    city: Database, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, video=VideoSettings(segment_seconds=1.0))
    watcher = _BrokenWatcher()
    node = VideoNode(settings, city, InProcessBus(), watchers=[watcher])
    node.start()
    try:
        assert watcher.asked == ["AST-1", "AST-2"]
        assert node.camera_codes == ["AST-1", "AST-2"]
        wait_for(
            lambda: {s.camera_id for s in _segments(city)} == {1, 2},
            what="segments of both cameras",
        )
    finally:
        node.stop()


def _camera(database: Database, code: str) -> Camera:
    with database.session() as session:
        return session.scalars(select(Camera).where(Camera.code == code)).one()


def test_a_second_recorder_on_the_same_media_folder_is_refused(
    city: Database, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, video=VideoSettings(cameras="none"))
    first = VideoNode(settings, city, InProcessBus())
    first.start()
    try:
        with pytest.raises(NodeBusy, match="another SafeCity process is recording"):
            VideoNode(settings, city, InProcessBus()).start()
    finally:
        first.stop()
    second = VideoNode(settings, city, InProcessBus())
    second.start()  # the lock went with the first node
    second.stop()


def test_an_unmounted_media_disk_is_refused_not_recorded_over(
    city: Database, clip: Path, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, video=VideoSettings(cameras="none"))
    node = VideoNode(settings, city, InProcessBus())
    node.start()  # first use: the media folder is marked as SafeCity's
    node.stop()
    record(city, settings.media_path, 1, "AST-1", clip, START)
    empty_mount_point = tmp_path / "mnt"
    elsewhere = Settings(
        data_dir=tmp_path, media={"path": empty_mount_point}, video=VideoSettings(cameras="none")
    )
    with pytest.raises(MediaAbsent, match="is the media disk mounted"):
        VideoNode(elsewhere, city, InProcessBus()).start()
    assert len(_segments(city)) > 0, "the index is untouched"
