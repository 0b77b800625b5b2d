"""The evidence keyring from the command line: rotation keeps old packages valid, a missing key
is an error (never silently a new key), and every change is audited."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from safecity.auth.roles import Role
from safecity.cli import app
from safecity.settings import Settings, load_settings
from safecity.store.engine import Database
from safecity.video.evidence.export import stored_package
from safecity.video.evidence.keys import key_fingerprint, load_signing_key
from safecity.video.models import EvidenceExport
from tests import factories as f
from tests.audit.entries import audit_entries
from tests.video.test_evidence import RECORDED_AT, index_recordings, make_segment_files

runner = CliRunner()
FROM, TO = "2026-03-01T15:00:01", "2026-03-01T15:00:04"


@pytest.fixture(scope="module")
def segment_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_segment_files(tmp_path_factory.mktemp("segments"))


@dataclass(frozen=True)
class Installation:
    config: Path
    settings: Settings
    database: Database


@pytest.fixture
def installation(tmp_path: Path, segment_files: list[Path]) -> Iterator[Installation]:
    config = tmp_path / "safecity.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\ncity_name: Astana\ntimezone: Asia/Almaty\n")
    assert runner.invoke(app, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    settings = load_settings(config)
    database = Database(settings.database_url)
    with database.session() as session:
        camera = f.add_camera(session, "W-1", f.add_district(session, "west", f.WEST))
        f.add_user(session, "admin", Role.ADMIN)
        index_recordings(session, camera, settings.media_path, segment_files, RECORDED_AT)
    yield Installation(config, settings, database)
    database.dispose()


def safecity(installation: Installation, *args: str) -> Result:
    return runner.invoke(app, [*args, "--config", str(installation.config)])


def export(installation: Installation) -> EvidenceExport:
    """Export through the CLI; the new package's export-log row."""
    result = safecity(
        installation, "evidence", "export", "--camera", "W-1", "--from", FROM, "--to", TO,
        "--reason", "Case 7",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with installation.database.session() as session:
        return session.scalars(select(EvidenceExport).order_by(EvidenceExport.id.desc())).first()


def verify(installation: Installation, row: EvidenceExport) -> Result:
    archive = stored_package(installation.settings, row.path)
    assert archive.is_file()
    return safecity(installation, "evidence", "verify", str(archive))


def current_fingerprint(installation: Installation) -> str | None:
    key = load_signing_key(installation.settings.evidence_key_path)
    return key_fingerprint(key.public_key()) if key is not None else None


def test_after_a_rotation_old_and_new_packages_both_verify(installation: Installation) -> None:
    old = export(installation)
    first = current_fingerprint(installation)
    assert first == old.details["key_fingerprint"]

    rotated = safecity(installation, "evidence", "key", "rotate")
    assert rotated.exit_code == 0, rotated.output
    second = current_fingerprint(installation)
    assert second is not None and second != first
    new = export(installation)
    assert new.details["key_fingerprint"] == second

    for row in (old, new):
        result = verify(installation, row)
        assert result.exit_code == 0, result.output
        assert f"signed by a trusted key (fingerprint {row.details['key_fingerprint']})" in (
            result.output
        )
    listed = safecity(installation, "evidence", "key", "list")
    assert listed.exit_code == 0, listed.output
    assert f"{first}" in listed.output and "retired (rotated)" in listed.output
    assert f"{second}" in listed.output and "current" in listed.output
    shown = safecity(installation, "evidence", "key", "show", "--fingerprint", str(first)[:12])
    assert shown.exit_code == 0 and first in shown.stderr
    assert shown.stdout.startswith("-----BEGIN PUBLIC KEY-----")

    (rotation,) = audit_entries(installation.database, "evidence.key_rotated")
    assert rotation.target == f"evidence-key:{second}"
    assert rotation.details["retired"]["fingerprint_sha256"] == first
    assert rotation.actor.startswith("cli:")


def test_a_missing_signing_key_with_packages_is_an_error_never_a_new_key(
    installation: Installation,
) -> None:
    old = export(installation)
    keyring = installation.settings.evidence_keyring_path
    entries_before = sorted(path.name for path in keyring.iterdir())
    installation.settings.evidence_key_path.unlink()  # as after a restore without the key

    refused = safecity(
        installation, "evidence", "export", "--camera", "W-1", "--from", FROM, "--to", TO,
        "--reason", "Case 8",
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "signing key" in refused.output and "is missing" in refused.output
    assert "restore the keys folder from the backup" in refused.output
    assert not installation.settings.evidence_key_path.exists()
    assert sorted(path.name for path in keyring.iterdir()) == entries_before
    with installation.database.session() as session:
        assert len(session.scalars(select(EvidenceExport)).all()) == 1
    assert safecity(installation, "evidence", "key", "init").exit_code == 1
    assert not installation.settings.evidence_key_path.exists()
    # The old package still checks out: the keyring keeps its public key.
    assert verify(installation, old).exit_code == 0

    # Even with the whole keys folder gone, the packages on record show a key existed.
    shutil.rmtree(installation.settings.data_dir / "keys")
    again = safecity(
        installation, "evidence", "export", "--camera", "W-1", "--from", FROM, "--to", TO,
        "--reason", "Case 9",
    )  # fmt: skip
    assert again.exit_code == 1 and "1 evidence package(s) were signed" in again.output
    assert not installation.settings.evidence_key_path.exists()


def test_a_lost_key_is_replaced_only_on_purpose(installation: Installation) -> None:
    old = export(installation)
    lost = current_fingerprint(installation)
    installation.settings.evidence_key_path.unlink()
    assert safecity(installation, "evidence", "key", "rotate").exit_code == 1
    assert not installation.settings.evidence_key_path.exists()

    replaced = safecity(installation, "evidence", "key", "rotate", "--lost")
    assert replaced.exit_code == 0, replaced.output
    assert current_fingerprint(installation) not in (None, lost)
    assert "retired (lost)" in safecity(installation, "evidence", "key", "list").output
    assert verify(installation, old).exit_code == 0
    assert verify(installation, export(installation)).exit_code == 0
    assert safecity(installation, "evidence", "key", "rotate", "--lost").exit_code == 1


def test_key_init_makes_the_first_key_once_and_audits_it(installation: Installation) -> None:
    shown = safecity(installation, "evidence", "key", "show")
    assert shown.exit_code == 1 and "safecity evidence key init" in shown.output
    made = safecity(installation, "evidence", "key", "init")
    assert made.exit_code == 0, made.output
    fingerprint = current_fingerprint(installation)
    assert fingerprint is not None and fingerprint in made.output
    entry = installation.settings.evidence_keyring_path / f"{fingerprint}.json"
    assert json.loads(entry.read_text())["retired_at"] is None
    assert safecity(installation, "evidence", "key", "init").exit_code == 1
    assert current_fingerprint(installation) == fingerprint
    (created,) = audit_entries(installation.database, "evidence.key_created")
    assert created.target == f"evidence-key:{fingerprint}"
    assert export(installation).details["key_fingerprint"] == fingerprint


def test_verify_trusts_the_published_keys_in_the_settings(
    installation: Installation, tmp_path: Path
) -> None:
    """A package from this installation, checked on another one that only has the city's
    published key in its settings."""
    row = export(installation)
    published = tmp_path / "astana-evidence-key.pem"
    published.write_text(safecity(installation, "evidence", "key", "show").stdout)
    other = tmp_path / "other.yaml"
    other.write_text(f"data_dir: {tmp_path / 'other'}\n")
    archive = str(stored_package(installation.settings, row.path))
    unchecked = runner.invoke(app, ["evidence", "verify", archive, "--config", str(other)])
    assert unchecked.exit_code == 3, unchecked.output
    other.write_text(
        f"data_dir: {tmp_path / 'other'}\nvideo:\n  evidence_published_keys: [{published}]\n"
    )
    checked = runner.invoke(app, ["evidence", "verify", archive, "--config", str(other)])
    assert checked.exit_code == 0, checked.output
    assert f"published: {published}" in checked.output
