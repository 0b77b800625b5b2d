"""`safecity recordings retention|holds|policy` as an administrator uses them."""

import getpass
import shutil
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from safecity.city.models import Camera, District, Site
from safecity.cli import app
from safecity.core.clock import utcnow
from safecity.settings import load_settings
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.video.models import RecordedSegment, RecordingPurge
from safecity.video.recording.holds import place_hold
from safecity.video.recording.retention import DiskSpace
from safecity.video.recording.retention_keeper import RetentionKeeper
from safecity.video.recording.retention_pass import PurgeSummary
from tests import factories as f
from tests.audit.entries import audit_entries

Row = TypeVar("Row", Camera, Site)
runner = CliRunner(env={"COLUMNS": "200"})  # tables as wide as a terminal would show them


SETTINGS = "data_dir: {data}\ntimezone: Asia/Almaty\n"
TRUSTING = "video:\n  retention_clock_jump_hours: 8760\n"
"""The recording below is 40 days old and the newest: the clock guard would refuse a pass
(it has its own test)."""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "safecity.yaml"
    path.write_text(SETTINGS.format(data=tmp_path / "data") + TRUSTING)
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


def test_a_clock_far_past_the_newest_recording_stops_a_pass_until_trusted(
    config: Path, database: Database, tmp_path: Path
) -> None:
    config.write_text(SETTINGS.format(data=tmp_path / "data"))  # the 6-hour default

    result = runner.invoke(app, ["recordings", "retention", "--config", str(config)])

    assert result.exit_code == 1
    assert "40.0 days after the last time retention trusted" in result.output
    assert "Retention did nothing" in result.output and "--trust-clock" in result.output
    assert segments(database) == 1 and audit_entries(database) == []

    result = runner.invoke(
        app, ["recordings", "retention", "--trust-clock", "--config", str(config)]
    )

    assert result.exit_code == 0, result.output
    assert segments(database) == 0
    [entry] = audit_entries(database)
    assert entry.details["trust_clock"] is True


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


def test_retention_refuses_an_empty_media_folder_while_the_index_lists_recordings(
    config: Path, database: Database
) -> None:
    shutil.rmtree(load_settings(config).media_path / "recordings")  # the disk is not mounted

    result = runner.invoke(app, ["recordings", "retention", "--config", str(config)])

    assert result.exit_code == 1
    assert "does not exist, yet the index lists recordings" in result.output
    assert "is the media disk mounted" in result.output
    assert segments(database) == 1


def test_retention_shows_why_the_floor_stopped_and_exits_1(
    config: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = DiskSpace(total=100_000, free=1_000)
    stopped = PurgeSummary(
        now=utcnow(),
        dry_run=False,
        entries=(),
        failed_files=0,
        disk_before=disk,
        disk_after=disk,
        floor_percent=5,
        floor_held_bytes=0,
        interrupted=False,
        floor_stopped="6 of the 6 oldest recording files the index names were missing",
    )
    monkeypatch.setattr(RetentionKeeper, "run_once", lambda *args, **kwargs: stopped)

    result = runner.invoke(app, ["recordings", "retention", "--config", str(config)])

    assert result.exit_code == 1
    assert "still 3.9 KiB under the floor" in result.output
    assert "disk floor stopped: 6 of the 6 oldest recording files" in result.output


# -- policy -------------------------------------------------------------------------------------


def policy(config: Path, *args: str) -> str:
    result = runner.invoke(app, ["recordings", "policy", *args, "--config", str(config)])
    assert result.exit_code == 0, result.output
    return result.output


def stored(database: Database, model: type[Row], code: str) -> tuple[float | None, int | None]:
    with database.session() as session:
        row = session.scalars(select(model).where(model.code == code)).one()
        return row.retention_days, row.retention_bytes


@pytest.fixture
def park(database: Database) -> Database:
    """Site PARK-1 with cameras PARK-CAM-1 and PARK-CAM-2 (which keeps 90 days of its own)."""
    with database.session() as session:
        west = session.scalars(select(District)).one()
        site = f.add_site(session, "PARK-1", west)
        f.add_camera(session, "PARK-CAM-1", west, site)
        f.add_camera(session, "PARK-CAM-2", west, site, retention_days=90)
    return database


def test_policy_shows_the_global_setting_for_a_camera_without_any(
    config: Path, database: Database
) -> None:
    output = policy(config, "--camera", "CAM-1")

    assert "camera CAM-1 (Camera CAM-1), no site" in output
    assert "30 (global)" in output and "no quota" in output


def test_policy_sets_a_sites_days_and_quota_which_its_cameras_inherit(
    config: Path, park: Database
) -> None:
    output = policy(config, "--site", "PARK-1", "--days", "14", "--max-gb", "500")

    assert "site PARK-1: days not set → 14, quota not set → 500 GB" in output
    assert "14 (site PARK-1)" in output and "500 GB (site PARK-1)" in output
    assert (
        "2 camera(s) at this site: 1 inherit its days (1 set their own), 2 inherit its quota"
        in output
    )
    assert "retention --dry-run" in output
    assert stored(park, Site, "PARK-1") == (14, 500 * 10**9)

    output = policy(config, "--camera", "PARK-CAM-1")  # only shows
    assert "site PARK-1" in output
    assert "14 (site PARK-1)" in output and "500 GB (site PARK-1)" in output
    assert "→" not in output

    output = policy(config, "--camera", "PARK-CAM-2")
    assert "90 (camera)" in output and "500 GB (site PARK-1)" in output


def test_policy_sets_and_clears_a_cameras_own_values(config: Path, park: Database) -> None:
    policy(config, "--site", "PARK-1", "--max-gb", "500")

    output = policy(config, "--camera", "PARK-CAM-1", "--days", "7.5", "--max-gb", "1.5")
    assert "camera PARK-CAM-1: days not set → 7.5, quota not set → 1.5 GB" in output
    assert "7.5 (camera)" in output and "1.5 GB (camera)" in output
    assert stored(park, Camera, "PARK-CAM-1") == (7.5, 1_500_000_000)

    output = policy(config, "--camera", "PARK-CAM-1", "--inherit-days", "--inherit-quota")
    assert "days 7.5 → not set, quota 1.5 GB → not set" in output
    assert "30 (global)" in output and "500 GB (site PARK-1)" in output
    assert stored(park, Camera, "PARK-CAM-1") == (None, None)

    output = policy(config, "--site", "PARK-1", "--inherit-quota")  # a site: no quota then
    assert "quota 500 GB → not set" in output and "no quota" in output
    assert stored(park, Site, "PARK-1") == (None, None)


def test_a_policy_change_applies_to_the_next_retention_pass(
    config: Path, database: Database
) -> None:
    policy(config, "--camera", "CAM-1", "--days", "60")  # its recording is 40 days old

    result = runner.invoke(app, ["recordings", "retention", "--config", str(config)])

    assert "nothing to delete" in result.output
    assert segments(database) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--camera", "CAM-1", "--days", "0"], "must be more than 0 days, not 0"),
        (["--camera", "CAM-1", "--days", "-3"], "must be more than 0 days, not -3"),
        (["--camera", "CAM-1", "--days", "nan"], "must be more than 0 days, not nan"),
        (["--camera", "CAM-1", "--days", "inf"], "must be more than 0 days, not inf"),
        (["--camera", "CAM-1", "--max-gb", "0"], "must be more than 0 GB, not 0"),
        (["--camera", "CAM-1", "--max-gb", "-1"], "must be more than 0 GB, not -1"),
        (["--camera", "CAM-1", "--max-gb", "1e-12"], "1e-12 GB is out of range"),
        (["--camera", "CAM-1", "--max-gb", "1e12"], "1e+12 GB is out of range"),
        (["--camera", "CAM-1", "--days", "3", "--inherit-days"], "--days or --inherit-days"),
        (["--camera", "CAM-1", "--max-gb", "3", "--inherit-quota"], "--max-gb or --inherit"),
        (["--days", "3"], "give either --camera CODE or --site CODE"),
        (["--camera", "CAM-1", "--site", "PARK-1"], "give either --camera CODE or --site"),
        (["--camera", "CAM-1", "--days", "many"], "Invalid value for '--days'"),
    ],
)
def test_policy_refuses_what_cannot_be_applied(
    config: Path, database: Database, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["recordings", "policy", *args, "--config", str(config)])

    assert result.exit_code == 2
    assert message in " ".join(result.output.replace("│", "").split())
    assert stored(database, Camera, "CAM-1") == (None, None)


def test_policy_names_an_unknown_camera_or_site(config: Path, database: Database) -> None:
    for option, code in (("--camera", "CAM-404"), ("--site", "NOWHERE")):
        result = runner.invoke(app, ["recordings", "policy", option, code, "-c", str(config)])

        assert result.exit_code == 1
        assert f"no {option[2:]} with code {code}" in result.output


def test_policy_shows_why_a_stored_value_cannot_be_applied(config: Path, park: Database) -> None:
    with park.session() as session:  # set by hand in SQL
        session.scalars(select(Site).where(Site.code == "PARK-1")).one().retention_days = 0

    output = policy(config, "--site", "PARK-1")
    assert "unusable" in output
    assert "cannot apply: retention of 0 days would delete every recording" in output

    output = policy(config, "--camera", "PARK-CAM-1", "--days", "20")  # the camera's own fixes it
    assert "20 (camera)" in output and "cannot apply" not in output


# -- the audit log ------------------------------------------------------------------------------


def test_a_policy_change_is_audited_and_showing_one_is_not(config: Path, park: Database) -> None:
    policy(config, "--camera", "PARK-CAM-1")  # only shows
    assert audit_entries(park) == []

    policy(config, "--site", "PARK-1", "--days", "14", "--max-gb", "500")
    policy(config, "--camera", "PARK-CAM-2", "--inherit-days")

    site, camera = audit_entries(park)
    with park.session() as session:
        site_id = session.scalars(select(Site.id).where(Site.code == "PARK-1")).one()
        camera_id = session.scalars(select(Camera.id).where(Camera.code == "PARK-CAM-2")).one()
    assert (site.action, site.actor, site.target) == (
        "recordings.policy",
        f"cli:{getpass.getuser()}",
        f"site:{site_id}",
    )
    assert site.details == {
        "site": "PARK-1",
        "days": {"from": None, "to": 14},
        "quota_bytes": {"from": None, "to": 500 * 10**9},
    }
    assert (camera.action, camera.target) == ("recordings.policy", f"camera:{camera_id}")
    assert camera.details == {"camera": "PARK-CAM-2", "days": {"from": 90, "to": None}}


def test_a_retention_pass_by_hand_is_audited_and_a_dry_run_is_not(
    config: Path, database: Database
) -> None:
    dry = runner.invoke(app, ["recordings", "retention", "--dry-run", "--config", str(config)])
    assert dry.exit_code == 0, dry.output
    assert audit_entries(database) == []

    done = runner.invoke(app, ["recordings", "retention", "--config", str(config)])

    assert done.exit_code == 0, done.output
    assert segments(database) == 0
    [entry] = audit_entries(database)
    assert (entry.action, entry.actor, entry.target) == (
        "recordings.retention",
        f"cli:{getpass.getuser()}",
        "recordings",
    )
    assert entry.details["segments"] == 1 and entry.details["bytes"] == 2048
    assert entry.details["cameras"] == 1 and entry.details["by_reason"] == {"age": 1}
    with database.session() as session:  # the pass's purge records, camera by camera
        purge = session.scalars(select(RecordingPurge)).one()
    assert entry.details["purged_at"] == purge.purged_at.isoformat()
