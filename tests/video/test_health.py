from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from safecity.city.models import Camera, CameraHealth
from safecity.store.engine import Database
from safecity.video.ingest.health import (
    CameraHealthRecorder,
    StreamHealth,
    health_topic,
    publish_health,
)
from safecity.video.models import CameraStream, StreamStatus
from tests import factories as f
from tests.support.bus import ImmediateBus

SEEN = datetime(2026, 11, 26, 22, 0, tzinfo=UTC)

StartRecorder = Callable[[Database], CameraHealthRecorder]


def _report(code: str, online: bool, seen: datetime | None) -> StreamHealth:
    status = StreamStatus.ONLINE if online else StreamStatus.UNREACHABLE
    detail = None if online else "connection refused"
    return StreamHealth(code, status, detail, 15.0, 95.0, seen, packets=300, reconnects=2)


@pytest.fixture
def cameras(database: Database) -> Database:
    with database.session() as session:
        district = f.add_district(session, "west", f.WEST)
        for code in ("AST-1", "AST-2", "AST-3"):
            f.add_camera(session, code, district)
    return database


@pytest.fixture
def bus() -> ImmediateBus:
    return ImmediateBus()


@pytest.fixture
def start_recorder(bus: ImmediateBus) -> Iterator[StartRecorder]:
    """A recorder taking reports from the bus, written when the test says `flush`."""
    recorders: list[CameraHealthRecorder] = []

    def start(database: Database) -> CameraHealthRecorder:
        recorder = CameraHealthRecorder(bus, database, flush_every=3600)
        recorder.start()
        recorders.append(recorder)
        return recorder

    yield start
    for recorder in recorders:
        recorder.stop()


def _state(database: Database) -> dict[str, tuple[CameraHealth, datetime | None]]:
    with database.session() as session:
        return {c.code: (c.health, c.last_seen_at) for c in session.scalars(select(Camera))}


def test_payload_round_trips() -> None:
    report = _report("AST-1", True, SEEN)
    assert StreamHealth.from_payload(report.to_payload()) == report


def test_latest_report_of_each_camera_is_written_in_one_batch(
    cameras: Database, bus: ImmediateBus, start_recorder: StartRecorder
) -> None:
    recorder = start_recorder(cameras)
    publish_health(bus, _report("AST-1", False, None))
    publish_health(bus, _report("AST-1", True, SEEN))
    publish_health(bus, _report("AST-2", False, None))
    assert recorder.flush() == 2
    state = _state(cameras)
    assert state["AST-1"] == (CameraHealth.ONLINE, SEEN)
    assert state["AST-2"] == (CameraHealth.OFFLINE, None)
    assert state["AST-3"] == (CameraHealth.UNKNOWN, None)
    assert recorder.flush() == 0, "nothing new, nothing written"


def test_stream_state_is_kept_per_camera_and_updated(
    cameras: Database, bus: ImmediateBus, start_recorder: StartRecorder
) -> None:
    recorder = start_recorder(cameras)
    publish_health(bus, _report("AST-1", False, None))
    recorder.flush()
    publish_health(bus, _report("AST-1", True, SEEN))
    publish_health(bus, _report("AST-2", False, None))
    recorder.flush()
    with cameras.session() as session:
        rows = {row.camera_id: row for row in session.scalars(select(CameraStream)).all()}
        codes = {key: value for key, value in session.execute(select(Camera.id, Camera.code))}
        by_code = {codes[camera_id]: row for camera_id, row in rows.items()}
    assert set(by_code) == {"AST-1", "AST-2"}
    assert by_code["AST-1"].status is StreamStatus.ONLINE
    assert by_code["AST-1"].detail is None
    assert by_code["AST-1"].fps == 15.0 and by_code["AST-1"].reconnects == 2
    assert by_code["AST-1"].last_packet_at == SEEN
    assert by_code["AST-2"].status is StreamStatus.UNREACHABLE
    assert by_code["AST-2"].detail == "connection refused"


def test_offline_report_keeps_the_last_seen_time(
    cameras: Database, bus: ImmediateBus, start_recorder: StartRecorder
) -> None:
    recorder = start_recorder(cameras)
    publish_health(bus, _report("AST-1", True, SEEN))
    recorder.flush()
    publish_health(bus, _report("AST-1", False, None))
    recorder.flush()
    assert _state(cameras)["AST-1"] == (CameraHealth.OFFLINE, SEEN)


def test_malformed_report_is_ignored(
    cameras: Database,
    caplog: pytest.LogCaptureFixture,
    bus: ImmediateBus,
    start_recorder: StartRecorder,
) -> None:
    recorder = start_recorder(cameras)
    bus.publish(health_topic("AST-1"), {"camera": "AST-1", "online": "yes"})
    naive = _report("AST-2", True, SEEN).to_payload() | {"last_packet_at": "2026-11-26T22:00:00"}
    bus.publish(health_topic("AST-2"), naive)
    publish_health(bus, _report("AST-3", True, SEEN))
    assert recorder.flush() == 1, "the good report is written, the bad ones never reach SQL"
    assert _state(cameras)["AST-3"] == (CameraHealth.ONLINE, SEEN)
    assert "malformed health report" in caplog.text


def test_reports_survive_a_failed_write(
    sqlite_database: Database, bus: ImmediateBus, start_recorder: StartRecorder
) -> None:
    with sqlite_database.session() as session:
        f.add_camera(session, "AST-1", f.add_district(session, "west", f.WEST))
    recorder = start_recorder(sqlite_database)
    publish_health(bus, _report("AST-1", True, SEEN))
    with sqlite_database.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE cameras RENAME TO cameras_away")
    with pytest.raises(Exception, match="cameras"):
        recorder.flush()
    with sqlite_database.engine.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE cameras_away RENAME TO cameras")
    assert recorder.flush() == 1
    assert _state(sqlite_database)["AST-1"] == (CameraHealth.ONLINE, SEEN)
