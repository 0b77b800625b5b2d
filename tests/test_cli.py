"""The `safecity` command as an administrator uses it."""

import getpass
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from safecity.cli import COMMANDS, app, load
from safecity.settings import load_settings
from safecity.store.engine import Database
from safecity.store.migrate import MIGRATIONS
from tests.audit.entries import audit_entries

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "safecity.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\n")
    return path


def test_db_upgrade_then_current(config: Path) -> None:
    result = runner.invoke(app, ["db", "current", "--config", str(config)])
    assert result.exit_code == 1 and "empty" in result.output and "behind" in result.output
    result = runner.invoke(app, ["db", "upgrade", "--config", str(config)])
    assert result.exit_code == 0, result.output
    head = max(path.name[:4] for path in (MIGRATIONS / "versions").glob("0*.py"))
    assert f"empty → {head}" in result.output
    result = runner.invoke(app, ["db", "current", "--config", str(config)])
    assert result.exit_code == 0 and "up to date" in result.output


def _stamp(config: Path, revision: str) -> None:
    database = Database(load_settings(config).database_url)
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    database.dispose()


def test_db_current_fails_when_the_schema_is_behind_the_code(config: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    _stamp(config, "0001")
    result = runner.invoke(app, ["db", "current", "--config", str(config)])
    assert result.exit_code == 1
    assert "0001 — behind: run `safecity db upgrade`" in result.output


def test_db_current_fails_on_a_schema_from_a_newer_safecity(config: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    _stamp(config, "9999")
    result = runner.invoke(app, ["db", "current", "--config", str(config)])
    assert result.exit_code == 3
    assert "9999 — unknown to this SafeCity" in result.output
    assert "upgraded by a newer version" in result.output
    result = runner.invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 1
    assert "database schema 9999 is unknown to this SafeCity" in result.output
    assert "db upgrade" not in result.output, "upgrading cannot help"


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


def add_ops_user(config: Path) -> Result:
    args = ["users", "add", "ops", "--role", "operator", "--full-name", "Ops Person",
            "--password-stdin", "--config", str(config)]  # fmt: skip
    return runner.invoke(app, args, input="long-enough-1\n")


def test_users_add_is_audited_as_the_person_at_the_server(config: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    database = Database(load_settings(config).database_url)
    assert audit_entries(database) == []

    added = add_ops_user(config)
    refused = add_ops_user(config)  # the name is taken: nothing changes, nothing is audited

    assert added.exit_code == 0, added.output
    assert refused.exit_code == 1
    [entry] = audit_entries(database)
    assert (entry.action, entry.actor, entry.actor_id) == (
        "user.add",
        f"cli:{getpass.getuser()}",
        None,
    )
    assert entry.target is not None and entry.target.startswith("user:")
    assert entry.details == {
        "username": "ops",
        "full_name": "Ops Person",
        "role": "operator",
        "organization": None,
        "police_unit": None,
    }
    assert entry.address is None
    verified = runner.invoke(app, ["audit", "verify", "--config", str(config)])
    assert verified.exit_code == 0 and "audit log intact: 1 rows" in verified.output
    database.dispose()


def test_a_change_is_audited_even_where_the_os_has_no_name_for_the_login(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_login_name() -> str:
        raise KeyError("getpwuid(): uid not found")  # a container's bare uid, no $USER

    assert runner.invoke(app, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    monkeypatch.setattr(getpass, "getuser", no_login_name)

    added = add_ops_user(config)

    assert added.exit_code == 0, added.output
    database = Database(load_settings(config).database_url)
    [entry] = audit_entries(database)
    assert entry.actor == f"cli:uid={os.getuid()}"
    database.dispose()


def test_serve_on_a_taken_port_says_so_and_exits_1(config: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["serve", "--config", str(config), "--port", str(port)])
    assert result.exit_code == 1, result.output
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


@pytest.mark.parametrize(
    ("loading", "ours"),
    [
        ("import safecity.cli", {"safecity.cli", "safecity.private_files"}),
        # The demo's command says what it is doing before it loads the rest.
        ("from safecity.cli import load; load('demo')", None),
    ],
)
def test_the_command_list_imports_no_capability(loading: str, ours: set[str] | None) -> None:
    # `safecity --help` and every command's start-up load only what they use: loading the
    # command list must not pull in video, the web app, the database engine or settings.
    heavy = ("av", "sqlalchemy", "fastapi", "uvicorn", "alembic", "shapely", "numpy", "pydantic")
    probe = (
        f"import sys; {loading}; "
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules} & set(sys.argv[1:]))))"
        "; print(' '.join(sorted(name for name in sys.modules if name.startswith('safecity.'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *heavy], capture_output=True, text=True, check=True
    )
    libraries, loaded = result.stdout.splitlines()
    assert libraries == ""
    if ours is not None:
        assert set(loaded.split()) == ours


def test_the_help_lists_every_command_as_its_module_describes_it() -> None:
    listed = runner.invoke(app, ["--help"])
    assert listed.exit_code == 0, listed.output
    for name, command in COMMANDS.items():
        assert load(name).help == command.help, name
        assert f"│ {name} " in listed.output
