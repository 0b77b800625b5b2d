"""The incident types file: checked entry by entry, applied all or nothing by
`safecity incident-types import`, and written back unchanged by `export`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from safecity.auth.roles import Role
from safecity.cli import app
from safecity.ops.incident_types.file import parse_incident_types
from safecity.ops.incidents import service as incidents
from safecity.store.engine import Database
from tests import factories as f
from tests.audit.entries import audit_entries

runner = CliRunner(env={"COLUMNS": "200"})
DEFAULT = Path(__file__).parents[2] / "safecity" / "ops" / "incident_types" / "default.yaml"

CITY_FILE = """\
incident_types:
- code: theft
  name: Theft
  priority: 2
  crime_kind: theft
  checklist:
  - Review the camera footage
  - Dispatch the police unit
- code: flooding
  name: Ұлы Жұлдыз / Flooding
  priority: 3
  crime_kind: null
  checklist:
  - Notify the water company
"""

BAD_FILE = """\
incident_types:
- code: theft
  name: Theft
  priority: 3
  crime_kind: shoplifting
  checklist: [Dispatch the police unit]
- code: fire
  name: Fire
  priority: 7
  checklist: [Call the fire service]
- code: theft
  name: Theft again
  priority: 3
  checklist: [Dispatch the police unit]
- code: medical
  name: Medical emergency
  priority: 1
  checklist: []
"""


@pytest.fixture
def config(tmp_path: Path, database: Database) -> Path:
    path = tmp_path / "safecity.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\ndatabase:\n  url: '{database.url}'\n")
    return path


def run(config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["incident-types", *args, "--config", str(config)])
    return result.exit_code, result.output


def export(config: Path, tmp_path: Path) -> bytes:
    target = tmp_path / "exported.yaml"
    code, output = run(config, "export", str(target))
    assert code == 0, output
    return target.read_bytes()


def test_every_bad_entry_is_named_with_its_field() -> None:
    types, problems = parse_incident_types(BAD_FILE.encode(), "incident_types.yaml")
    assert [str(problem) for problem in problems] == [
        "incident_types.yaml: entry 1 (theft): crime_kind: unknown crime kind 'shoplifting'; "
        "known: theft, robbery, assault, hooliganism, vandalism, fraud, drugs, vehicle_theft, "
        "other or null",
        "incident_types.yaml: entry 2 (fire): priority: must be a whole number 1 (most urgent) "
        "to 4, not 7",
        "incident_types.yaml: entry 3 (theft): code: duplicate code: entry 1 has it too",
        "incident_types.yaml: entry 4 (medical): checklist: needs at least one step",
    ]
    assert [kind.code for kind in types] == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"incident_types: [", "is not YAML"),
        (b"- code: theft\n", "must be a mapping with the key 'incident_types'"),
        (b"incident_types: []\n", "lists no incident types"),
        (b"\xff\xfe", "is not UTF-8"),
        (
            b"incident_types:\n- {code: x, name: X, priority: 1, checklist: [a], colour: red}\n",
            "entry 1 (x): unknown field colour",
        ),
        (
            b"incident_types:\n- {code: x, priority: 1, checklist: [a]}\n",
            "entry 1 (x): name: is required",
        ),
    ],
)
def test_a_broken_file_says_what_is_wrong(data: bytes, reason: str) -> None:
    types, problems = parse_incident_types(data, "incident_types.yaml")
    assert types == []
    assert reason in str(problems[0])


def test_import_with_errors_reports_each_entry_and_writes_nothing(
    config: Path, tmp_path: Path, database: Database
) -> None:
    before = export(config, tmp_path)
    bad = tmp_path / "incident_types.yaml"
    bad.write_text(BAD_FILE)
    code, output = run(config, "import", str(bad))
    assert code == 1
    assert "entry 1 (theft): crime_kind: unknown crime kind 'shoplifting'" in output
    assert "entry 2 (fire): priority: must be a whole number" in output
    assert "entry 3 (theft): code: duplicate code" in output
    assert "entry 4 (medical): checklist: needs at least one step" in output
    assert "nothing was written" in output
    assert export(config, tmp_path) == before
    assert audit_entries(database, "incident_types.import") == []


def test_the_default_file_round_trips_unchanged(config: Path, tmp_path: Path) -> None:
    assert export(config, tmp_path) == DEFAULT.read_bytes()
    code, output = run(config, "import", str(DEFAULT))
    assert code == 0, output
    assert "nothing to change" in output
    assert export(config, tmp_path) == DEFAULT.read_bytes()


def test_a_city_file_replaces_the_catalogue_and_round_trips(
    config: Path, tmp_path: Path, database: Database
) -> None:
    with database.session() as session:
        anna = f.add_user(session, "anna", Role.OPERATOR)
        incidents.open_incident(session, anna, type_code="fire", latitude=51.1, longitude=71.4)
    city_file = tmp_path / "incident_types.yaml"
    city_file.write_text(CITY_FILE, encoding="utf-8")

    code, output = run(config, "import", str(city_file), "--dry-run")
    assert code == 0, output
    assert "dry run: nothing was written" in output
    assert export(config, tmp_path) == DEFAULT.read_bytes()

    code, output = run(config, "import", str(city_file))
    assert code == 0, output
    assert "created: flooding" in output
    assert "updated: theft" in output
    assert "new checklist: theft version 2" in output
    assert "deactivated (incidents use them): fire" in output
    assert "deleted (never used): assault" in output
    [entry] = audit_entries(database, "incident_types.import")
    assert entry.actor.startswith("cli:")
    assert entry.details["deactivated"] == ["fire"]

    exported = export(config, tmp_path)
    kinds, problems = parse_incident_types(exported)
    assert problems == []
    assert [(kind.code, kind.active) for kind in kinds] == [  # by code, not by name
        ("fire", False),
        ("flooding", True),
        ("theft", True),
    ]
    assert "Ұлы Жұлдыз / Flooding" in exported.decode()
    again = tmp_path / "again.yaml"
    again.write_bytes(exported)
    code, output = run(config, "import", str(again))
    assert code == 0, output
    assert "nothing to change" in output
    assert export(config, tmp_path) == exported
