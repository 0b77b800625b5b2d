"""`safecity recordings retention|holds` as an administrator uses them."""

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safecity.cli import app
from safecity.settings import load_settings
from safecity.store import migrate
from safecity.store.base import utcnow
from safecity.store.engine import Database
from safecity.video.holds import place_hold
from safecity.video.models import RecordedSegment
from tests import factories as f

runner = CliRunner(env={"COLUMNS": "200"})  # tables as wide as a terminal would show them


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "safecity.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\ntimezone: Asia/Almaty\n")
    return path


@pytest.fixture
def database(config: Path) -> Database:
    """The configured database, migrated, with one camera that has one old recording."""
    settings = load_settings(config)
    database = Database(settings.database_url)
    migrate.upgrade(database)
    started = utcnow() - timedelta(days=40)
    path = f"recordings/CAM-1/{started:%Y-%m-%d}/{started:%H%M%S}-000.mp4"
    (settings.media_path / path).parent.mkdir(parents=True)
    (settings.media_path / path).write_bytes(b"\0" * 2048)
    with database.session() as session:
        camera = f.add_camera(session, "CAM-1", f.add_district(session, "west", f.WEST))
        session.add(
            RecordedSegment(
                camera_id=camera.id,
                started_at=started,
                ended_at=started + timedelta(seconds=10),
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
    return database


def segments(database: Database) -> int:
    with database.session() as session:
        return session.query(RecordedSegment).count()


def test_a_dry_run_shows_what_would_go_then_a_pass_deletes_it(
    config: Path, database: Database
) -> None:
    result = runner.invoke(app, ["recordings", "retention", "--dry-run", "--config", str(config)])

    assert result.exit_code == 0, result.output
    assert "CAM-1" in result.output and "age" in result.output
    assert "would delete 1 segment(s), 2.0 KiB (dry run: nothing was deleted)" in result.output
    assert "floor 5%" in result.output
    assert segments(database) == 1

    result = runner.invoke(app, ["recordings", "retention", "--config", str(config)])

    assert result.exit_code == 0, result.output
    assert "deleted 1 segment(s), 2.0 KiB" in result.output
    assert segments(database) == 0


def test_holds_lists_the_active_ones(config: Path, database: Database) -> None:
    result = runner.invoke(app, ["recordings", "holds", "--config", str(config)])
    assert result.exit_code == 0 and "no active legal holds" in result.output

    with database.session() as session:
        start = utcnow().replace(hour=3, minute=0, second=0, microsecond=0)
        place_hold(
            session,
            camera_id=1,
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            reason="fight outside the station",
            reference="INC-7",
        )
    result = runner.invoke(app, ["recordings", "holds", "--config", str(config)])

    assert result.exit_code == 0, result.output
    assert "CAM-1" in result.output and "INC-7" in result.output
    assert f"{start:%Y-%m-%d} 08:00:00" in result.output  # 03:00 UTC in Almaty (+05)
    assert "1 active hold(s); times in Asia/Almaty" in result.output


def test_retention_refuses_a_missing_media_folder(config: Path, tmp_path: Path) -> None:
    config.write_text(config.read_text() + f"media:\n  path: {tmp_path / 'unmounted'}\n")
    runner.invoke(app, ["db", "upgrade", "--config", str(config)])

    result = runner.invoke(app, ["recordings", "retention", "--config", str(config)])

    assert result.exit_code == 1
    assert "does not exist: is its disk mounted?" in result.output
