"""`safecity audit verify|show` on both backends, against rows tampered with in SQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, update
from typer.testing import CliRunner

from safecity.audit import log
from safecity.audit.chain import entry_hash
from safecity.audit.models import AuditEntry
from safecity.cli import app
from safecity.store.engine import Database

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def config(tmp_path: Path, database: Database) -> Path:
    path = tmp_path / "safecity.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\ndatabase:\n  url: '{database.url}'\n")
    with database.session() as session:
        for n in range(1, 6):
            log.record(
                session,
                action="video.playback" if n % 2 else "auth.login",
                actor="operator" if n % 2 else "admin",
                target=f"camera:{n}",
                details={"n": n},
                address="10.0.0.7",
            )
    return path


def audit(config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", *args, "--config", str(config)])
    return result.exit_code, result.output


def test_verify_an_intact_log_prints_the_head(config: Path, database: Database) -> None:
    code, output = audit(config, "verify")
    assert code == 0, output
    assert "audit log intact: 5 rows" in output
    assert "head: seq 5 hash " in output


def test_verify_names_a_row_edited_in_sql(config: Path, database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(details={"n": 0}))
    code, output = audit(config, "verify")
    assert code == 1
    assert "row 3 was changed" in output
    assert "1 finding(s)" in output


def test_verify_names_a_deleted_row_as_missing(config: Path, database: Database) -> None:
    with database.engine.begin() as connection:
        connection.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    code, output = audit(config, "verify")
    assert code == 1
    assert "row 2 is missing" in output


def test_verify_names_the_next_link_when_a_changed_row_was_rehashed(
    config: Path, database: Database
) -> None:
    with database.session() as session:
        entry = session.query(AuditEntry).filter_by(seq=3).one()
        entry.actor = "nobody"
        entry.hash = entry_hash(
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
            details=entry.details,
            address=entry.address,
            prev_hash=entry.prev_hash,
        )
    code, output = audit(config, "verify")
    assert code == 1
    assert "row 4 does not link to the chain" in output and "row 3" in output
    assert "1 finding(s)" in output


def test_show_filters_and_prints_the_head(config: Path, database: Database) -> None:
    code, output = audit(config, "show", "--last", "2", "--action", "video.playback")
    assert code == 0, output
    assert "camera:5" in output and "camera:3" in output and "camera:1" not in output
    assert "auth.login" not in output
    assert output.index("camera:3") < output.index("camera:5")
    assert "head: seq 5" in output
    code, output = audit(config, "show", "--actor", "admin")
    assert "camera:2" in output and "camera:4" in output and "operator" not in output
    code, output = audit(config, "show", "--actor", "ghost")
    assert "no matching entries" in output
