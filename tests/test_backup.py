"""`safecity backup create|restore`: a small city moved to another data folder and path, where
the audit log, the evidence packages and their downloads all still check out; a backup that
was altered, or a target that holds data, is refused naming why."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select
from typer.testing import CliRunner, Result

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.cli import app
from safecity.settings import load_settings
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.video.evidence.export import evidence_folder
from safecity.video.evidence.keys import trusted_keys
from safecity.video.evidence.verify import verify_package
from safecity.video.models import EvidenceExport
from tests import factories as f
from tests.audit.entries import audit_entries
from tests.conftest import IN_CI
from tests.video.test_evidence import RECORDED_AT, index_recordings, make_segment_files

runner = CliRunner()
FROM, TO = "2026-03-01T15:00:01", "2026-03-01T15:00:04"
OTHER_KEY = b"a key file another part of SafeCity keeps in the keys folder\n"


@pytest.fixture(scope="module")
def segment_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_segment_files(tmp_path_factory.mktemp("segments"))


@pytest.fixture(params=["sqlite", "postgres"])
def database_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], str | None]:
    """Makes the database URL of each installation: none (the SQLite file in its data
    folder), or a new PostgreSQL database when pg_dump and pg_restore are there."""
    if request.param == "sqlite":
        return lambda _name: None
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            reason = f"{tool} is not on PATH: the PostgreSQL backup cannot be tested"
            if IN_CI:
                pytest.fail(f"CI=true requires {tool} (postgresql-client). {reason}")
            pytest.skip(reason)
    factory = request.getfixturevalue("postgres_database_factory")
    return lambda _name: str(factory())


@dataclass(frozen=True)
class Installation:
    config: Path

    def run(self, *args: str) -> Result:
        return runner.invoke(app, [*args, "--config", str(self.config)])

    def database(self) -> Database:
        return Database(load_settings(self.config).database_url)


def installation(folder: Path, url: str | None) -> Installation:
    config = folder / "safecity.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    text = f"data_dir: {folder / 'data'}\ncity_name: Astana\ntimezone: Asia/Almaty\n"
    config.write_text(text + (f"database:\n  url: {url}\n" if url else ""))
    return Installation(config)


@pytest.fixture
def old_server(
    tmp_path: Path, segment_files: list[Path], database_urls: Callable[[str], str | None]
) -> Iterator[Installation]:
    """A small city: a camera with recordings, an officer, two evidence packages signed by two
    keys (a rotation between them), and another key file in the keys folder."""
    server = installation(tmp_path / "old-server", database_urls("old"))
    assert server.run("db", "upgrade").exit_code == 0
    settings = load_settings(server.config)
    database = server.database()
    with database.session() as session:
        camera = f.add_camera(session, "W-1", f.add_district(session, "west", f.WEST))
        f.add_user(session, "operator", Role.OPERATOR)
        index_recordings(session, camera, settings.media_path, segment_files, RECORDED_AT)
    database.dispose()
    for reason in ("Case 1", "Case 2"):
        exported = server.run(
            "evidence", "export", "--camera", "W-1", "--from", FROM, "--to", TO, "--reason", reason
        )
        assert exported.exit_code == 0, exported.output
        if reason == "Case 1":
            assert server.run("evidence", "key", "rotate").exit_code == 0
    (settings.data_dir / "keys" / "camera-credentials.key").write_bytes(OTHER_KEY)
    yield server


def backup(server: Installation, destination: Path) -> Path:
    made = server.run("backup", "create", str(destination))
    assert made.exit_code == 0, made.output
    assert (destination / "backup.json").is_file()
    return destination


def test_a_restore_on_another_path_keeps_audit_evidence_and_downloads(
    old_server: Installation, tmp_path: Path, database_urls: Callable[[str], str | None]
) -> None:
    saved = backup(old_server, tmp_path / "backup")
    old_data = load_settings(old_server.config).data_dir
    shutil.rmtree(old_data)  # the old machine is gone: nothing may point back to it
    new_server = installation(tmp_path / "new" / "place", database_urls("new"))

    restored = new_server.run("backup", "restore", str(saved))
    assert restored.exit_code == 0, restored.output

    settings = load_settings(new_server.config)
    assert new_server.run("audit", "verify").exit_code == 0
    assert (settings.data_dir / "keys" / "camera-credentials.key").read_bytes() == OTHER_KEY
    assert len(trusted_keys(settings)) == 2  # the rotated key and the current one
    packages = sorted(evidence_folder(settings).glob("*.zip"))
    assert len(packages) == 2
    for package in packages:
        checked = new_server.run("evidence", "verify", str(package))
        assert checked.exit_code == 0, checked.output
        assert "VALID" in checked.output

    database = new_server.database()
    try:
        with database.session() as session:
            rows = session.scalars(select(EvidenceExport).order_by(EvidenceExport.id)).all()
        assert [Path(row.path).is_absolute() for row in rows] == [False, False]
        client = TestClient(create_app(settings, database))
        with client:
            signed_in = client.post(
                "/api/auth/login", json={"username": "operator", "password": f.PASSWORD}
            )
            assert signed_in.status_code == 200, signed_in.text
            for row in rows:
                download = client.get(f"/api/evidence/{row.id}/download")
                assert download.status_code == 200, download.text
                archive = tmp_path / f"downloaded-{row.id}.zip"
                archive.write_bytes(download.content)
                keys = [key.public_key for key in trusted_keys(settings)]
                assert verify_package(archive, keys).valid
        # The restore is in the audit log, after the old server's entries, chain intact.
        (restore,) = audit_entries(database, "backup.restored")
        assert restore.actor.startswith("cli:") and restore.details["files"] > 2
    finally:
        database.dispose()


def test_a_restore_refuses_a_target_that_holds_data(
    old_server: Installation, tmp_path: Path
) -> None:
    saved = backup(old_server, tmp_path / "backup")
    refused = old_server.run("backup", "restore", str(saved))
    assert refused.exit_code == 1
    assert "already holds data" in refused.output and "--force" in refused.output
    forced = old_server.run("backup", "restore", str(saved), "--force")
    assert forced.exit_code == 0, forced.output
    assert old_server.run("audit", "verify").exit_code == 0


def test_a_tampered_backup_is_refused_naming_the_file(
    old_server: Installation, tmp_path: Path, database_urls: Callable[[str], str | None]
) -> None:
    saved = backup(old_server, tmp_path / "backup")
    manifest = json.loads((saved / "backup.json").read_text())
    recording = next(e["path"] for e in manifest["files"] if e["path"].startswith("media/"))
    data = bytearray((saved / recording).read_bytes())
    data[100] ^= 0x01
    (saved / recording).write_bytes(bytes(data))
    new_server = installation(tmp_path / "new", database_urls("new"))

    refused = new_server.run("backup", "restore", str(saved))
    assert refused.exit_code == 1
    assert recording in refused.output.replace("\n", "")
    assert "does not match backup.json" in refused.output
    settings = load_settings(new_server.config)
    assert not settings.media_path.exists() and not (settings.data_dir / "keys").exists()
    database = new_server.database()
    try:
        assert inspect(database.engine).get_table_names() == []
    finally:
        database.dispose()


def test_a_file_added_to_a_backup_is_refused(
    old_server: Installation, tmp_path: Path, database_urls: Callable[[str], str | None]
) -> None:
    saved = backup(old_server, tmp_path / "backup")
    (saved / "keys" / "planted.pem").write_text("not from the old server")
    new_server = installation(tmp_path / "new", database_urls("new"))
    refused = new_server.run("backup", "restore", str(saved))
    assert refused.exit_code == 1
    assert "planted.pem is not in backup.json" in refused.output.replace("\n", "")


def test_a_backup_goes_into_a_new_or_empty_folder_only(
    old_server: Installation, tmp_path: Path
) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "something").write_text("x")
    refused = old_server.run("backup", "create", str(taken))
    assert refused.exit_code == 1 and "is not an empty folder" in refused.output
    assert sorted(path.name for path in taken.iterdir()) == ["something"]


def test_migration_0015_records_packages_relative_to_the_evidence_folder(
    old_server: Installation,
) -> None:
    """An installation from before 0015 kept absolute paths; `db upgrade` makes those in the
    evidence folder relative to it."""
    settings = load_settings(old_server.config)
    root = evidence_folder(settings)
    database = old_server.database()
    try:
        migrate.downgrade(database, "0014", evidence_root=root)
        with database.session() as session:
            before = session.scalars(select(EvidenceExport.path)).all()
        assert all(Path(path).is_relative_to(root) and Path(path).is_absolute() for path in before)
        assert old_server.run("db", "upgrade").exit_code == 0
        with database.session() as session:
            after = session.scalars(select(EvidenceExport.path)).all()
        assert after == [Path(path).name for path in before]
    finally:
        database.dispose()
