"""`safecity evidence`: export from the command line (audited), verify with exit codes 0/1/2/3.

``verify`` trusts this installation's key by default (found through the settings), or the key
given with ``--public-key``; with neither it never says VALID and exits 3.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner, Result

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.models import Camera, OrganizationKind, PoliceUnit
from safecity.cli import app
from safecity.demo.data_folder import DEMO_CITY_NAME, DEMO_TIMEZONE
from safecity.demo.runner import demo_settings, prepare_data_dir
from safecity.settings import ENV_PREFIX, Settings, load_settings
from safecity.store.engine import Database
from safecity.video.evidence.keys import key_fingerprint
from safecity.video.models import EvidenceExport
from tests import factories as f
from tests.video.test_evidence import RECORDED_AT, forge, index_recordings, make_segment_files

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


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with no safecity.yaml and no SafeCity settings in the environment: a
    machine where no evidence key was ever made (what a court expert has)."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    return folder


def verify(*args: str) -> Result:
    return runner.invoke(app, ["evidence", "verify", *args])


def exported(setup: Setup, tmp_path: Path) -> tuple[EvidenceExport, Path]:
    result = export(setup, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    with setup.database.session() as session:
        row = session.scalars(select(EvidenceExport)).one()
    return row, tmp_path / "out" / row.package_id


def test_export_then_verify(setup: Setup, tmp_path: Path, elsewhere: Path) -> None:
    result = export(setup, "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    with setup.database.session() as session:
        row = session.scalars(select(EvidenceExport)).one()
    folder = tmp_path / "out" / row.package_id
    assert str(folder) in result.output and row.path in result.output
    assert row.details["key_fingerprint"] in result.output
    assert row.exported_by == f"cli:{getpass.getuser()}" and row.exported_by_id is None

    key = evidence(setup, "key", "show")
    assert key.exit_code == 0 and key.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    assert row.details["key_fingerprint"] in key.stderr
    city_key = tmp_path / "city.pem"
    city_key.write_text(key.stdout)

    here = evidence(setup, "verify", str(folder))
    assert here.exit_code == 0, here.output
    assert "VALID" in here.output and "signed by a trusted key" in here.output
    assert "this installation's evidence key" in here.output and "Case 7" in here.output
    trusted = verify(row.path, "--public-key", str(city_key))
    assert trusted.exit_code == 0 and "signed by a trusted key" in trusted.output

    clip = folder / "clip.mp4"
    data = bytearray(clip.read_bytes())
    data[3000] ^= 1
    clip.write_bytes(bytes(data))
    altered = verify(str(folder), "--public-key", str(city_key))
    assert altered.exit_code == 1
    assert "clip.mp4 was altered" in altered.output and "ALTERED" in altered.output


def test_without_a_trusted_key_a_package_is_never_valid(
    setup: Setup, tmp_path: Path, elsewhere: Path
) -> None:
    row, folder = exported(setup, tmp_path)
    alone = verify(str(folder))
    assert alone.exit_code == 3, alone.output
    assert "VALID" not in alone.output
    headline = (
        "SELF-CONSISTENT ONLY — not checked against the city's key "
        f"(fingerprint {row.details['key_fingerprint']})"
    )
    assert headline in alone.output
    assert "only self-consistent" in alone.output and "trusted key: none" in alone.output


def test_verify_exits_3_when_the_installation_has_no_key(
    setup: Setup, tmp_path: Path, elsewhere: Path
) -> None:
    """An untouched package, checked on an installation that never made a key: the key is
    looked for where the settings say, not created, and the result is not VALID."""
    row, folder = exported(setup, tmp_path)
    keyless = tmp_path / "keyless.yaml"
    keyless.write_text(f"data_dir: {tmp_path / 'keyless'}\n")
    result = verify(str(folder), "--config", str(keyless))
    assert result.exit_code == 3, result.output
    assert "SELF-CONSISTENT ONLY" in result.output and "VALID" not in result.output
    assert row.details["key_fingerprint"] in result.output
    assert not load_settings(keyless).evidence_key_path.exists()


def test_a_re_signed_forgery_is_caught_with_the_installation_key(
    setup: Setup, tmp_path: Path, elsewhere: Path
) -> None:
    row, folder = exported(setup, tmp_path)
    forger = forge(folder)

    alone = verify(str(folder))
    assert alone.exit_code == 3 and "VALID" not in alone.output
    assert key_fingerprint(forger.public_key()) in alone.output

    here = evidence(setup, "verify", str(folder))
    assert here.exit_code == 1, here.output
    assert "signed by a different key" in here.output and "ALTERED" in here.output
    assert row.details["key_fingerprint"] in here.output


def test_a_broken_installation_key_is_unusable_not_ignored(
    setup: Setup, tmp_path: Path, elsewhere: Path
) -> None:
    _row, folder = exported(setup, tmp_path)
    load_settings(setup.config).evidence_key_path.write_text("not a key")
    result = evidence(setup, "verify", str(folder))
    assert result.exit_code == 2
    assert "cannot use this installation's evidence key" in result.output
    assert "--public-key" in result.output


def test_verify_help_explains_the_exit_status() -> None:
    result = runner.invoke(app, ["evidence", "verify", "--help"], env={"COLUMNS": "200"})
    text = re.sub(r"[\s│]+", " ", result.output)
    assert result.exit_code == 0
    assert "0 valid" in text and "1 altered" in text and "2 not a package" in text
    assert "3 intact but NOT checked against a trusted key" in text


def test_verify_says_when_the_input_is_unusable(tmp_path: Path, elsewhere: Path) -> None:
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
    year_one = evidence(setup, "export", "--camera", "W-1", "--from", "0001-01-01T00:00+14:00",
                        "--to", TO, "--reason", "x")  # fmt: skip
    assert year_one.exit_code == 2 and "must be between" in year_one.output
    backwards = evidence(setup, "export", "--camera", "W-1", "--from", TO, "--to", FROM,
                         "--reason", "x")  # fmt: skip
    assert backwards.exit_code == 1 and "must come after its start" in backwards.output
    with setup.database.session() as session:
        assert session.scalars(select(EvidenceExport)).first() is None


# --- times and the city's time zone ------------------------------------------------------------


def manifest_in(folder: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    return manifest


def cli_export(setup: Setup, out: Path, start: str, end: str) -> dict[str, Any]:
    result = evidence(setup, "export", "--camera", "W-1", "--from", start, "--to", end,
                      "--reason", "Case 7", "--out", str(out))  # fmt: skip
    assert result.exit_code == 0, result.output
    with setup.database.session() as session:
        row = session.scalars(select(EvidenceExport).order_by(EvidenceExport.id.desc())).first()
    assert row is not None
    return manifest_in(out / row.package_id)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (FROM, TO),  # no zone: in the city's time zone, Almaty (+05:00)
        ("2026-03-01T10:00:01+00:00", "2026-03-01T10:00:04Z"),
        ("2026-03-01T16:00:01+06:00", "2026-03-01T16:00:04+06:00"),
    ],
    ids=["city-time", "utc", "another-offset"],
)
def test_export_reads_a_time_without_a_zone_in_city_time_and_honours_an_offset(
    setup: Setup, tmp_path: Path, start: str, end: str
) -> None:
    assert load_settings(setup.config).timezone == "Asia/Almaty"

    manifest = cli_export(setup, tmp_path / "out", start, end)

    requested = manifest["requested"]
    assert datetime.fromisoformat(requested["start_utc"]) == RECORDED_AT + timedelta(seconds=1)
    assert datetime.fromisoformat(requested["end_utc"]) == RECORDED_AT + timedelta(seconds=4)
    assert requested["start_local"].startswith("2026-03-01T15:00:01")
    assert requested["start_local"].endswith("+05:00")
    assert (manifest["city"], manifest["timezone"]) == ("Astana", "Asia/Almaty")


def test_export_help_says_a_time_without_a_zone_is_city_time() -> None:
    result = runner.invoke(app, ["evidence", "export", "--help"], env={"COLUMNS": "200"})
    said = " ".join(result.output.replace("│", " ").split())

    assert result.exit_code == 0
    assert said.count("Without a zone: in the city's time zone (the timezone setting)") == 2


def api_export(settings: Settings, database: Database, username: str, camera_id: int) -> Any:
    """The manifest of the same export made through the API, signed in as ``username``."""
    with TestClient(create_app(settings, database)) as client:
        login = {"username": username, "password": f.PASSWORD}
        assert client.post("/api/auth/login", json=login).status_code == 200
        response = client.post(
            f"/api/cameras/{camera_id}/evidence",
            json={"start": f"{FROM}+05:00", "end": f"{TO}+05:00", "reason": "Case 7"},
        )
        assert response.status_code == 201, response.text
    with database.session() as session:
        row = session.get_one(EvidenceExport, response.json()["id"])
        return manifest_in(Path(row.details["folder"]))


def test_cli_and_api_manifests_name_the_same_city_and_zone(setup: Setup, tmp_path: Path) -> None:
    from_cli = cli_export(setup, tmp_path / "out", FROM, TO)
    settings = load_settings(setup.config)
    with setup.database.session() as session:
        camera_id = session.scalars(select(Camera.id).where(Camera.code == "W-1")).one()

    from_api = api_export(settings, setup.database, "officer", camera_id)

    assert (from_api["city"], from_api["timezone"]) == ("Astana", "Asia/Almaty")
    assert (from_cli["city"], from_cli["timezone"]) == (from_api["city"], from_api["timezone"])
    assert from_cli["requested"] == from_api["requested"]
    assert from_cli["exported_at"]["local"][-6:] == from_api["exported_at"]["local"][-6:]


def test_on_the_demos_data_the_cli_names_the_demo_city_and_reads_its_time(
    tmp_path: Path, segment_files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo serves its data as a city of its own (name, Asia/Almaty) unless told otherwise;
    a command run on that data folder must read times and name the city as the demo does."""
    data = tmp_path / "demo-data"
    prepare_data_dir(data, reset=False)  # a folder the demo made
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(f"{ENV_PREFIX}DATA_DIR", str(data))
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    served = demo_settings(load_settings())
    assert (served.city_name, served.timezone) == (DEMO_CITY_NAME, DEMO_TIMEZONE)
    database = Database(served.database_url)
    with database.session() as session:
        camera = f.add_camera(session, "W-1", f.add_district(session, "west", f.WEST))
        index_recordings(session, camera, served.media_path, segment_files, RECORDED_AT)
        f.add_user(session, "operator", Role.OPERATOR)
        camera_id = camera.id

    result = runner.invoke(app, ["evidence", "export", "--camera", "W-1", "--from", FROM,
                                 "--to", TO, "--reason", "Case 7"])  # fmt: skip
    assert result.exit_code == 0, result.output
    from_api = api_export(served, database, "operator", camera_id)
    with database.session() as session:
        cli_row = session.scalars(select(EvidenceExport).order_by(EvidenceExport.id)).first()
        assert cli_row is not None
        from_cli = manifest_in(Path(cli_row.details["folder"]))
    database.dispose()

    assert (from_cli["city"], from_cli["timezone"]) == (DEMO_CITY_NAME, DEMO_TIMEZONE)
    assert (from_cli["city"], from_cli["timezone"]) == (from_api["city"], from_api["timezone"])
    assert from_cli["requested"] == from_api["requested"]
