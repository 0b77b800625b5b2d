"""`safecity evidence`: export from the command line (audited), verify with exit codes 0/1/2."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from safecity.auth.roles import Role
from safecity.city.models import OrganizationKind, PoliceUnit
from safecity.cli import app
from safecity.settings import load_settings
from safecity.store.engine import Database
from safecity.video.models import EvidenceExport
from tests import factories as f
from tests.video.test_evidence import RECORDED_AT, index_recordings, make_segment_files

runner = CliRunner()
# RECORDED_AT is 10:00 UTC, 15:00 in Almaty: the CLI reads zone-less times in city time.
FROM, TO = "2026-03-01T15:00:01", "2026-03-01T15:00:04"


@pytest.fixture(scope="module")
def segment_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_segment_files(tmp_path_factory.mktemp("segments"))


@dataclass(frozen=True)
class Setup:
    config: Path
    database: Database


@pytest.fixture
def setup(tmp_path: Path, segment_files: list[Path]) -> Iterator[Setup]:
    config = tmp_path / "safecity.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\ncity_name: Astana\ntimezone: Asia/Almaty\n")
    assert runner.invoke(app, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    settings = load_settings(config)
    database = Database(settings.database_url)
    with database.session() as session:
        west = f.add_district(session, "west", f.WEST)
        east = f.add_district(session, "east", f.EAST)
        police = f.add_organization(session, "police", OrganizationKind.POLICE)
        unit = PoliceUnit(code="unit-west", name="West unit", organization=police, districts=[west])
        session.add(unit)
        camera = f.add_camera(session, "W-1", west)
        f.add_camera(session, "E-1", east)
        f.add_user(session, "officer", Role.POLICE_DUTY_OFFICER, police, police_unit=unit)
        f.add_user(session, "analyst", Role.ANALYST)
        index_recordings(session, camera, settings.media_path, segment_files, RECORDED_AT)
    yield Setup(config, database)
    database.dispose()


def evidence(setup: Setup, *args: str) -> Result:
    return runner.invoke(app, ["evidence", *args, "--config", str(setup.config)])


def export(setup: Setup, *extra: str, camera: str = "W-1") -> Result:
    return evidence(
        setup, "export", "--camera", camera, "--from", FROM, "--to", TO, "--reason", "Case 7",
        *extra,
    )  # fmt: skip


def verify(*args: str) -> Result:
    return runner.invoke(app, ["evidence", "verify", *args])


def test_export_then_verify(setup: Setup, tmp_path: Path) -> None:
    result = export(setup, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    with setup.database.session() as session:
        row = session.scalars(select(EvidenceExport)).one()
    folder = tmp_path / "out" / row.package_id
    assert str(folder) in result.output and row.path in result.output
    assert row.details["key_fingerprint"] in result.output
    assert row.exported_by == f"cli:{getpass.getuser()}" and row.exported_by_id is None

    key = evidence(setup, "key")
    assert key.exit_code == 0 and key.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    assert row.details["key_fingerprint"] in key.stderr
    city_key = tmp_path / "city.pem"
    city_key.write_text(key.stdout)

    alone = verify(str(folder))
    assert alone.exit_code == 0 and "VALID" in alone.output
    assert "only self-consistent" in alone.output and "Case 7" in alone.output
    trusted = verify(row.path, "--public-key", str(city_key))
    assert trusted.exit_code == 0 and "signed by the trusted key" in trusted.output

    clip = folder / "clip.mp4"
    data = bytearray(clip.read_bytes())
    data[3000] ^= 1
    clip.write_bytes(bytes(data))
    altered = verify(str(folder), "--public-key", str(city_key))
    assert altered.exit_code == 1
    assert "clip.mp4 was altered" in altered.output and "ALTERED" in altered.output


def test_verify_says_when_the_input_is_unusable(tmp_path: Path) -> None:
    missing = verify(str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "does not exist" in missing.output
    (tmp_path / "not-a-key.pem").write_text("hello")
    bad_key = verify(str(tmp_path), "--public-key", str(tmp_path / "not-a-key.pem"))
    assert bad_key.exit_code == 2 and "not a PEM public key" in bad_key.output


def test_export_as_a_user_who_may(setup: Setup) -> None:
    result = export(setup, "--as", "officer")
    assert result.exit_code == 0, result.output
    with setup.database.session() as session:
        row = session.scalars(select(EvidenceExport)).one()
    assert row.exported_by == "officer" and row.exported_by_id is not None


@pytest.mark.parametrize(
    ("user", "camera", "message"),
    [
        ("analyst", "W-1", "may not export evidence"),
        ("officer", "E-1", "outside officer's area"),
        ("nobody", "W-1", "no active user"),
    ],
)
def test_export_as_a_user_who_may_not(setup: Setup, user: str, camera: str, message: str) -> None:
    result = export(setup, "--as", user, camera=camera)
    assert result.exit_code == 1 and message in result.output


def test_export_refusals_say_why(setup: Setup) -> None:
    no_reason = evidence(setup, "export", "--camera", "W-1", "--from", FROM, "--to", TO,
                         "--reason", " ")  # fmt: skip
    assert no_reason.exit_code == 1 and "a reason is required" in no_reason.output
    unknown = export(setup, camera="NOPE")
    assert unknown.exit_code == 1 and "no camera with the code 'NOPE'" in unknown.output
    bad_time = evidence(setup, "export", "--camera", "W-1", "--from", "yesterday", "--to", TO,
                        "--reason", "x")  # fmt: skip
    assert bad_time.exit_code == 2 and "not an ISO 8601 time" in bad_time.output
    backwards = evidence(setup, "export", "--camera", "W-1", "--from", TO, "--to", FROM,
                         "--reason", "x")  # fmt: skip
    assert backwards.exit_code == 1 and "must come after its start" in backwards.output
    with setup.database.session() as session:
        assert session.scalars(select(EvidenceExport)).first() is None
