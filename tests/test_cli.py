"""The `safecity` command as an administrator uses it."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from safecity.cli import app
from safecity.store.migrate import MIGRATIONS

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "safecity.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\n")
    return path


def test_db_upgrade_then_current(config: Path) -> None:
    result = runner.invoke(app, ["db", "current", "--config", str(config)])
    assert result.exit_code == 0 and "empty" in result.output and "behind" in result.output
    result = runner.invoke(app, ["db", "upgrade", "--config", str(config)])
    assert result.exit_code == 0, result.output
    head = max(path.name[:4] for path in (MIGRATIONS / "versions").glob("0*.py"))
    assert f"empty → {head}" in result.output
    result = runner.invoke(app, ["db", "current", "--config", str(config)])
    assert "up to date" in result.output


def test_commands_refuse_an_old_schema(config: Path) -> None:
    result = runner.invoke(
        app,
        [
            "users",
            "add",
            "ops",
            "--role",
            "operator",
            "--full-name",
            "Ops",
            "--password-stdin",
            "--config",
            str(config),
        ],
        input="long-enough-1\n",
    )
    assert result.exit_code == 1
    assert "run `safecity db upgrade`" in result.output


def test_users_add_reads_password_from_stdin(config: Path) -> None:
    runner.invoke(app, ["db", "upgrade", "--config", str(config)])
    args = [
        "users",
        "add",
        "ops",
        "--role",
        "operator",
        "--full-name",
        "Ops",
        "--password-stdin",
        "--config",
        str(config),
    ]
    result = runner.invoke(app, args, input="long-enough-1\n")
    assert result.exit_code == 0, result.output
    assert "added ops (OCC operator)" in result.output
    again = runner.invoke(app, args, input="long-enough-1\n")
    assert again.exit_code == 1 and "is taken" in again.output


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "safecity.yaml"
    path.write_text("api:\n  port: many\n")
    result = runner.invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 2
    assert "api.port" in result.output and str(path) in result.output


def test_config_schema_describes_every_key() -> None:
    result = runner.invoke(app, ["config", "schema"])
    assert result.exit_code == 0
    assert "Database URL" in result.output and "session_hours" in result.output


def test_config_check_hides_the_database_password(tmp_path: Path) -> None:
    path = tmp_path / "safecity.yaml"
    path.write_text(
        "database:\n  url: postgresql+psycopg://safecity:hunter2@db.internal/safecity\n"
    )
    result = runner.invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    assert "safecity:***@db.internal" in result.output


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "safecity.yaml"
    path.write_text("database:\n  url: postgresql+psycopg://nobody@127.0.0.1:1/none\n")
    result = runner.invoke(app, ["db", "current", "--config", str(path)])
    assert result.exit_code == 1
    assert "cannot open the database" in result.output
    assert "Traceback" not in result.output
