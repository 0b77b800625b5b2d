"""Stream passwords at rest: sealed by imports and by `db upgrade`, hidden in exports unless
asked for, opened for the video side by one function, and never re-keyed behind anyone's back."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update
from typer.testing import CliRunner

from safecity.city.models import Camera, District
from safecity.city.stream_credentials import (
    CredentialKeyError,
    CredentialKeyring,
    SealedUrlError,
    StoredStream,
    seal,
    stream_url,
)
from safecity.cli import app as safecity
from safecity.settings import VideoSettings
from safecity.store.engine import Database
from safecity.video.node import cameras_to_ingest
from tests.audit.entries import audit_entries
from tests.factories import EAST, WEST, add_camera, add_district

PASSWORD = "pa55-w0rd"
MAIN = f"rtsp://admin:{PASSWORD}@10.2.0.1:554/Streaming/Channels/101"
MAIN_SHOWN = "rtsp://admin:***@10.2.0.1:554/Streaming/Channels/101"
SUB = f"http://10.2.0.1/cgi-bin/mjpg.cgi?user=admin&password={PASSWORD}&channel=1"
HEADER = ("camera_id", "name", "latitude", "longitude", "main_stream_url", "sub_stream_url")

runner = CliRunner()


@pytest.fixture
def city(database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Database:
    """Two districts, found by the CLI through SAFECITY_DATABASE__URL; data_dir is
    ./safecity-data in tmp_path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAFECITY_DATABASE__URL", database.url)
    monkeypatch.setenv("COLUMNS", "200")
    with database.session() as session:
        add_district(session, "west", WEST)
        add_district(session, "east", EAST)
    return database


def key_file(tmp_path: Path) -> Path:
    return tmp_path / "safecity-data" / "keys" / "stream-credentials.key"


def registry_file(path: Path, *rows: tuple[str, ...]) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_text(out.getvalue())
    return path


def stored_rows(database: Database) -> list[tuple[Any, ...]]:
    with database.session() as session:
        return [tuple(row) for row in session.execute(select(Camera.__table__).order_by("id"))]


def ingested_urls(database: Database, tmp_path: Path) -> dict[str, str]:
    keyring = CredentialKeyring(key_file(tmp_path))
    return {s.code: s.url for s in cameras_to_ingest(database, VideoSettings(), keyring)}


def invoke(*args: str) -> Any:
    return runner.invoke(safecity, list(args))


def test_import_seals_passwords_and_export_hides_them_unless_asked(
    city: Database, tmp_path: Path
) -> None:
    source = registry_file(tmp_path / "in.csv", ("GATE-1", "Gate", "51.15", "71.35", MAIN, SUB))

    imported = invoke("cameras", "import", str(source))

    assert imported.exit_code == 0, imported.output
    assert PASSWORD not in str(stored_rows(city))
    assert key_file(tmp_path).stat().st_mode & 0o777 == 0o600
    assert ingested_urls(city, tmp_path) == {"GATE-1": MAIN}

    plain = tmp_path / "plain.csv"
    exported = invoke("cameras", "export", str(plain))
    assert exported.exit_code == 0, exported.output
    (row,) = csv.DictReader(io.StringIO(plain.read_text()))
    assert row["main_stream_url"] == MAIN_SHOWN
    assert row["sub_stream_url"] == (
        "http://10.2.0.1/cgi-bin/mjpg.cgi?user=admin&password=***&channel=1"
    )
    assert PASSWORD not in plain.read_text()
    again = invoke("cameras", "import", str(plain))
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 1 unchanged" in again.output
    assert ingested_urls(city, tmp_path) == {"GATE-1": MAIN}

    secret = tmp_path / "secret.csv"
    exported = invoke("cameras", "export", str(secret), "--with-credentials")
    assert exported.exit_code == 0, exported.output
    assert "holds the cameras' stream passwords in clear" in exported.output
    assert secret.stat().st_mode & 0o777 == 0o600
    (row,) = csv.DictReader(io.StringIO(secret.read_text()))
    assert (row["main_stream_url"], row["sub_stream_url"]) == (MAIN, SUB)
    (entry,) = audit_entries(city, "cameras.export_credentials")
    assert entry.details == {"file": str(secret.resolve()), "cameras": 1}


def test_an_import_with_a_new_password_replaces_the_stored_one(
    city: Database, tmp_path: Path
) -> None:
    first = registry_file(tmp_path / "a.csv", ("GATE-1", "Gate", "51.15", "71.35", MAIN, ""))
    changed = MAIN.replace(PASSWORD, "n3w-pa55")
    second = registry_file(tmp_path / "b.csv", ("GATE-1", "Gate", "51.15", "71.35", changed, ""))

    assert invoke("cameras", "import", str(first)).exit_code == 0
    result = invoke("cameras", "import", str(second))

    assert result.exit_code == 0, result.output
    assert "0 created, 1 updated, 0 unchanged" in result.output
    assert "n3w-pa55" not in str(stored_rows(city))
    assert ingested_urls(city, tmp_path) == {"GATE-1": changed}


def test_db_upgrade_seals_the_passwords_stored_in_clear(city: Database, tmp_path: Path) -> None:
    with city.session() as session:
        west = session.scalars(select(District).where(District.code == "west")).one()
        add_camera(session, "OLD-1", west, main_stream_url=MAIN, sub_stream_url=SUB)
        add_camera(session, "OLD-2", west)
    assert PASSWORD in str(stored_rows(city))  # as written before revision 0012

    upgraded = invoke("db", "upgrade")
    again = invoke("cameras", "seal-credentials")

    assert upgraded.exit_code == 0, upgraded.output
    assert "stream passwords: 2 URLs sealed" in upgraded.output
    assert PASSWORD not in str(stored_rows(city))
    assert ingested_urls(city, tmp_path)["OLD-1"] == MAIN
    (entry,) = audit_entries(city, "cameras.seal_credentials")
    assert entry.details["stream_urls"] == 2
    assert again.exit_code == 0, again.output
    assert "stream passwords: none in clear" in again.output


def test_a_missing_key_file_is_a_clear_error_and_never_replaced(
    city: Database, tmp_path: Path
) -> None:
    source = registry_file(tmp_path / "in.csv", ("GATE-1", "Gate", "51.15", "71.35", MAIN, ""))
    assert invoke("cameras", "import", str(source)).exit_code == 0
    key_file(tmp_path).unlink()
    before = stored_rows(city)
    other = registry_file(
        tmp_path / "more.csv",
        ("GATE-2", "Gate 2", "51.15", "71.35", MAIN.replace("101", "201"), ""),
    )
    target = tmp_path / "secret.csv"

    exported = invoke("cameras", "export", str(target), "--with-credentials")
    imported = invoke("cameras", "import", str(other))

    missing = f"the stream credentials key {key_file(tmp_path)} is missing"
    for result in (exported, imported):
        assert result.exit_code == 1
        assert missing in " ".join(result.output.split())
    assert not target.exists()
    assert not key_file(tmp_path).exists()
    assert stored_rows(city) == before
    with pytest.raises(CredentialKeyError, match="restore the key file from its backup"):
        ingested_urls(city, tmp_path)


def test_a_hidden_password_for_another_address_is_refused(city: Database, tmp_path: Path) -> None:
    source = registry_file(
        tmp_path / "in.csv", ("GATE-1", "Gate", "51.15", "71.35", MAIN_SHOWN, "")
    )

    result = invoke("cameras", "import", str(source))

    assert result.exit_code == 1
    assert "has its password hidden as ***" in " ".join(result.output.split())
    assert stored_rows(city) == []


def test_the_video_side_gets_the_whole_url_and_refuses_what_does_not_fit(
    sqlite_database: Database, tmp_path: Path
) -> None:
    keyring = CredentialKeyring(tmp_path / "keys" / "stream.key")
    with sqlite_database.session() as session:
        stored = seal(MAIN, keyring, session)
        plain = seal("rtsp://10.2.0.1/main", keyring, session)
    assert stored.shown == MAIN_SHOWN and stored.sealed is not None
    assert PASSWORD not in stored.sealed
    assert plain == StoredStream("rtsp://10.2.0.1/main")

    assert stream_url(stored, keyring) == MAIN
    assert stream_url(plain, keyring) == "rtsp://10.2.0.1/main"
    moved = StoredStream(MAIN_SHOWN.replace("10.2.0.1", "10.9.9.9"), stored.sealed)
    with pytest.raises(SealedUrlError, match="do not belong to the address"):
        stream_url(moved, keyring)
    other_key = tmp_path / "other.key"
    other_key.write_bytes(Fernet.generate_key())
    with pytest.raises(SealedUrlError, match="cannot be decrypted with the key"):
        stream_url(stored, CredentialKeyring(other_key))


def test_a_camera_whose_sealed_url_does_not_fit_is_left_out_of_ingest(
    city: Database, tmp_path: Path
) -> None:
    source = registry_file(
        tmp_path / "in.csv",
        ("GATE-1", "Gate", "51.15", "71.35", MAIN, ""),
        ("GATE-2", "Gate 2", "51.15", "71.35", "rtsp://10.2.0.2/main", ""),
    )
    assert invoke("cameras", "import", str(source)).exit_code == 0
    with city.session() as session:
        session.execute(
            update(Camera)
            .where(Camera.code == "GATE-1")
            .values(main_stream_url="rtsp://admin:***@10.9.9.9/main")
        )

    assert ingested_urls(city, tmp_path) == {"GATE-2": "rtsp://10.2.0.2/main"}
