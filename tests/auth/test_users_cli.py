"""`safecity users …` at the server: the same rules as the admin API, audited as cli:<login>,
and a refused change leaves everything as it was."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from safecity.api.app import create_app
from safecity.cli import app
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.api.conftest import build_city
from tests.audit.entries import audit_entries

runner = CliRunner(env={"COLUMNS": "200"})  # one table row per user


@pytest.fixture
def config(database: Database, tmp_path: Path) -> Path:
    """A settings file for the test's database, holding the two-district city."""
    build_city(database)
    path = tmp_path / "safecity.yaml"
    url = database.engine.url.render_as_string(hide_password=False)
    path.write_text(f"data_dir: {tmp_path / 'data'}\ndatabase:\n  url: {url}\n")
    return path


@pytest.fixture
def api(database: Database, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path), database)) as client:
        yield client


def users(config: Path, *args: str, input: str | None = None) -> Result:
    return runner.invoke(app, ["users", *args, "--config", str(config)], input=input)


def token(api: TestClient, username: str, password: str = f.PASSWORD) -> str | None:
    response = api.post(
        "/api/auth/login", json={"username": username, "password": password, "issue_token": True}
    )
    api.cookies.clear()
    return str(response.json()["token"]) if response.status_code == 200 else None


def works(api: TestClient, bearer: str) -> bool:
    return api.get("/api/auth/me", headers={"Authorization": f"Bearer {bearer}"}).is_success


def test_list_shows_users_filtered_by_role_and_state(config: Path) -> None:
    everyone = users(config, "list")
    officers = users(config, "list", "--role", "police_duty_officer")
    inactive = users(config, "list", "--inactive")

    assert everyone.exit_code == 0, everyone.output
    assert all(name in everyone.output for name in ("admin", "water", "akimat-west"))
    assert "officer-east" in officers.output and "orphan-officer" in officers.output
    assert "water" not in officers.output
    assert "unit-east" in officers.output
    assert inactive.output.strip() == "no matching users"


def test_show_describes_a_user_and_names_an_unknown_one(config: Path) -> None:
    shown = users(config, "show", "officer-east")
    missing = users(config, "show", "ghost")

    assert shown.exit_code == 0, shown.output
    assert "police unit: unit-east" in shown.output
    assert "organization: police-dept" in shown.output
    assert "active: yes" in shown.output
    assert missing.exit_code == 1 and "no user named 'ghost'" in missing.output


def test_edit_changes_role_and_organization_audited_as_the_person_at_the_server(
    config: Path, database: Database
) -> None:
    result = users(config, "edit", "operator", "--role", "akimat", "--organization", "akimat-west")

    assert result.exit_code == 0, result.output
    assert "role operator → akimat" in result.output
    assert "organization: akimat-west" in users(config, "show", "operator").output
    [entry] = audit_entries(database, "user.update")
    assert (entry.actor, entry.actor_id) == (f"cli:{getpass.getuser()}", None)
    assert entry.details == {
        "username": "operator",
        "changed": {
            "role": {"from": "operator", "to": "akimat"},
            "organization": {"from": None, "to": "akimat-west"},
        },
    }


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["water", "--police-unit", "unit-east"], "only a police duty officer has a police unit"),
        (["water", "--organization", "nope"], "no organization with code 'nope'"),
        (["akimat-west", "--no-organization"], "must belong to an akimat organization"),
        (["officer-east", "--role", "operator"], "only a police duty officer"),
        (["water", "--organization", "power-co", "--no-organization"], "not both"),
        (["ghost", "--full-name", "Ghost"], "no user named 'ghost'"),
        (["admin", "--role", "operator"], "admin is the last active administrator"),
    ],
)
def test_edit_refuses_with_a_reason_and_changes_nothing(
    config: Path, database: Database, args: list[str], reason: str
) -> None:
    before = users(config, "list").output

    result = users(config, "edit", *args)

    assert result.exit_code == 1
    assert "cannot edit user:" in result.output and reason in result.output
    assert users(config, "list").output == before
    assert audit_entries(database, "user.update") == []


def test_deactivate_ends_sessions_at_once_and_activate_lets_them_back(
    config: Path, database: Database, api: TestClient
) -> None:
    session = token(api, "operator")
    assert session is not None and works(api, session)

    result = users(config, "deactivate", "operator")

    assert result.exit_code == 0, result.output
    assert "1 session(s) ended" in result.output
    assert not works(api, session)
    assert token(api, "operator") is None
    assert "active: no" in users(config, "show", "operator").output
    again = users(config, "deactivate", "operator")
    assert again.exit_code == 1 and "already deactivated" in again.output

    assert users(config, "activate", "operator").exit_code == 0
    assert token(api, "operator") is not None
    actions = [e.action for e in audit_entries(database) if e.action.startswith("user.")]
    assert actions == ["user.deactivate", "user.activate"]


def test_the_last_active_admin_cannot_be_deactivated(config: Path, database: Database) -> None:
    result = users(config, "deactivate", "admin")

    assert result.exit_code == 1
    assert "admin is the last active administrator" in result.output
    assert "active: yes" in users(config, "show", "admin").output
    assert audit_entries(database, "user.deactivate") == []


def test_sign_out_ends_every_session(config: Path, database: Database, api: TestClient) -> None:
    sessions = [token(api, "water"), token(api, "water")]
    assert all(s is not None and works(api, s) for s in sessions)

    result = users(config, "sign-out", "water")

    assert result.exit_code == 0, result.output
    assert "2 session(s) ended" in result.output
    assert not any(s is not None and works(api, s) for s in sessions)
    [entry] = audit_entries(database, "user.sign_out_everywhere")
    assert entry.details == {"username": "water", "sessions_ended": 2}


def test_reset_password_from_stdin_ends_sessions_and_logs_no_password(
    config: Path, database: Database, api: TestClient
) -> None:
    session = token(api, "water")
    assert session is not None

    result = users(config, "reset-password", "water", "--password-stdin", input="fresh-water-1\n")

    assert result.exit_code == 0, result.output
    assert not works(api, session)
    assert token(api, "water") is None
    assert token(api, "water", "fresh-water-1") is not None
    [entry] = audit_entries(database, "user.password_reset")
    assert entry.details == {"username": "water", "generated": False, "sessions_ended": 1}
    assert "fresh-water-1" not in json.dumps([e.details for e in audit_entries(database)])


def test_reset_password_generates_one_shown_once(config: Path, api: TestClient) -> None:
    result = users(config, "reset-password", "water", "--generate")

    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if "shown once" in line]
    password = line.rsplit(" ", 1)[-1]
    assert token(api, "water", password) is not None


def test_reset_password_refuses_a_short_one_and_keeps_the_old(
    config: Path, database: Database, api: TestClient
) -> None:
    result = users(config, "reset-password", "water", "--password-stdin", input="short\n")

    assert result.exit_code == 1
    assert "cannot reset password: a password needs at least 8 characters" in result.output
    assert token(api, "water") is not None
    assert audit_entries(database, "user.password_reset") == []
