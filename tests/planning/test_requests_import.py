"""A CSV batch of requests, over HTTP and at the command line: every row checked, nothing
stored when any row is bad, nothing asked for twice, each stored request audited."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from safecity.audit.models import AuditEntry
from safecity.auth.roles import Role
from safecity.city.models import OrganizationKind
from safecity.planning.requests.cli import app
from safecity.planning.requests.importing import (
    COLUMNS,
    RequestFileError,
    parse_csv,
    quote,
    serialise,
)
from safecity.planning.requests.models import CameraRequest
from safecity.store.engine import Database
from tests import factories as f
from tests.api.conftest import City

URL = "/api/planning/requests/import"
SignIn = Callable[[str], TestClient]
HEADER = "Latitude;Lon;Адрес;District;Site;Urgency;Обоснование;Notes\n"
GOOD = (
    "51.15;71.35;;;;high;Market entrance, pickpocketing;\n"
    ";;Kenesary 12;West;pump-station;;Pump station fence cut twice;from the letter\n"
)


def post_csv(client: TestClient, text: str, **params: str) -> object:
    return client.post(
        URL, content=text.encode(), headers={"content-type": "text/csv"}, params=params
    )


def stored_count(database: Database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(CameraRequest)) or 0


def test_an_akimat_imports_a_good_file_in_its_own_words(
    as_user: SignIn, database: Database, city: City
) -> None:
    response = post_csv(as_user("akimat-west"), HEADER + GOOD)
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    report = response.json()  # type: ignore[attr-defined]
    assert report["outcome"] == "stored" and report["good"] == 2 and report["bad"] == 0
    assert report["columns"]["address"] == "Адрес"
    assert report["ignored_columns"] == ["Notes"]
    assert len(report["stored"]) == 2
    listed = as_user("akimat-west").get("/api/planning/requests").json()["items"]
    assert {item["organization_code"] for item in listed} == {"akimat-west"}
    assert {item["urgency"] for item in listed} == {"high", "normal"}
    with database.session() as s:
        actions = list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.like("camera_request%"))
                .order_by(AuditEntry.seq)
            )
        )
    assert actions == [
        "camera_request.submit",
        "camera_request.submit",
        "camera_requests.import",
    ]


def test_a_file_with_a_bad_row_stores_nothing_and_says_what_is_wrong_with_each(
    as_user: SignIn, database: Database, city: City
) -> None:
    bad = (
        "51.15;71.45;;;;;East is not ours;\n"  # another district
        "40.0;71.35;;;;;Nowhere;\n"  # outside every district
        "71.35;51.15;;;;;Swapped;\n"
        "51,15;71.35;;;;;Comma;\n"
        "51.15;71.35;;;substation;soon;;\n"  # hidden site, bad urgency, no justification
        ";;Kenesary 1;;;;No district;\n"
        "51.15;71.35;;East;;;Disagrees;\n"
        "51.15;71.35\n"
    )
    response = post_csv(as_user("akimat-west"), HEADER + GOOD + bad)
    assert response.status_code == 422  # type: ignore[attr-defined]
    answer = response.json()  # type: ignore[attr-defined]
    assert answer["detail"] == "8 bad rows of 10: nothing stored (see report.problems)"
    report = answer["report"]
    assert report["outcome"] == "rejected" and report["stored"] == []
    problems = {p["where"]: " | ".join(p["reasons"]) for p in report["problems"]}
    assert "East is outside your area" in problems["line 4"]
    assert "lies outside every district" in problems["line 5"]
    assert "swapped it would lie in 'West'" in problems["line 6"]
    assert "use a dot as the decimal separator" in problems["line 7"]
    assert "no site 'substation', or not yours to see" in problems["line 8"]
    assert "urgency: 'soon' is not one of" in problems["line 8"]
    assert "justification: missing" in problems["line 8"]
    assert "give latitude and longitude, or an address and a district" in problems["line 9"]
    assert "the file says 'East' but the position lies in 'West'" in problems["line 10"]
    assert "has 2 values but the header has 8 columns" in problems["line 11"]
    assert stored_count(database) == 0


def test_skip_invalid_stores_the_good_rows_and_dry_run_stores_none(
    as_user: SignIn, database: Database, city: City
) -> None:
    client = as_user("akimat-west")
    text = HEADER + GOOD + "40.0;71.35;;;;;Nowhere;\n"
    dry = post_csv(client, text, dry_run="true", skip_invalid="true").json()  # type: ignore[attr-defined]
    assert dry["outcome"] == "dry_run" and dry["good"] == 2 and stored_count(database) == 0
    kept = post_csv(client, text, skip_invalid="true").json()  # type: ignore[attr-defined]
    assert kept["outcome"] == "stored" and kept["skipped"] == 1 and len(kept["stored"]) == 2
    assert stored_count(database) == 2


def test_importing_the_same_file_twice_asks_for_nothing_twice(
    as_user: SignIn, database: Database, city: City
) -> None:
    client = as_user("akimat-west")
    first = post_csv(client, HEADER + GOOD).json()  # type: ignore[attr-defined]
    again = post_csv(client, HEADER + GOOD + GOOD.splitlines()[0] + "\n")
    assert again.status_code == 422  # type: ignore[attr-defined]
    problems = again.json()["report"]["problems"]  # type: ignore[attr-defined]
    reasons = [p["reasons"][0] for p in problems]
    assert reasons[:2] == [f"already {n} (submitted): not stored again" for n in first["stored"]]
    assert reasons[2] == f"already {first['stored'][0]} (submitted): not stored again"
    assert stored_count(database) == 2


def _without_number(text: str) -> str:
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(row[1:] for row in rows)
    return out.getvalue()


def test_an_export_imported_back_brings_back_no_request_whatever_its_status(
    as_user: SignIn, database: Database, city: City
) -> None:
    first = post_csv(as_user("akimat-west"), HEADER + GOOD).json()  # type: ignore[attr-defined]
    rejected, kept = first["stored"]
    with database.session() as s:
        request_id = s.scalars(
            select(CameraRequest.id).where(CameraRequest.number == rejected)
        ).one()
    admin = as_user("admin")
    assert admin.post(f"/api/planning/requests/{request_id}/review").status_code == 200
    refusal = admin.post(
        f"/api/planning/requests/{request_id}/reject", json={"reason": "A camera covers it"}
    )
    assert refusal.status_code == 200, refusal.text
    client = as_user("akimat-west")
    exported = client.get("/api/planning/requests/export.csv")
    assert exported.status_code == 200 and exported.text.startswith("number,status")
    assert f"{rejected},rejected," in exported.text

    again = post_csv(client, exported.text)
    assert again.status_code == 422  # type: ignore[attr-defined]
    reasons = [p["reasons"] for p in again.json()["report"]["problems"]]  # type: ignore[attr-defined]
    assert reasons == [
        [f"already {rejected} (rejected): not stored again"],
        [f"already {kept} (submitted): not stored again"],
    ]
    # Its number alone makes a row the stored request, whatever else was edited.
    edited = exported.text.replace("pickpocketing", "pickpocketing, and worse")
    assert edited != exported.text
    renamed = post_csv(client, edited)
    assert renamed.status_code == 422  # type: ignore[attr-defined]
    reasons = [p["reasons"] for p in renamed.json()["report"]["problems"]]  # type: ignore[attr-defined]
    assert reasons[0] == [f"already {rejected} (rejected): not stored again"]
    # Without the number column the rows are still known by who asks, where and why.
    unnumbered = post_csv(client, _without_number(exported.text))
    assert unnumbered.status_code == 422  # type: ignore[attr-defined]
    reasons = [p["reasons"] for p in unnumbered.json()["report"]["problems"]]  # type: ignore[attr-defined]
    assert reasons[0] == [f"already {rejected} (rejected): not stored again"]
    assert stored_count(database) == 2


def test_an_export_writes_formulas_as_text_and_imports_them_back(
    as_user: SignIn, database: Database, city: City
) -> None:
    client = as_user("akimat-west")
    text = (
        "latitude,longitude,address,justification\n"
        '51.15,71.35,@SUM(A1),"=HYPERLINK(""http://x.example"",""open"")"\n'
        "51.16,71.36,-2+3,+ballot box at the gate\n"
    )
    stored = post_csv(client, text).json()  # type: ignore[attr-defined]
    assert len(stored["stored"]) == 2, stored
    exported = client.get("/api/planning/requests/export.csv").text
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["address"], r["justification"]) for r in rows] == [
        ("'@SUM(A1)", '\'=HYPERLINK("http://x.example","open")'),
        ("'-2+3", "'+ballot box at the gate"),
    ]
    assert [r["latitude"] for r in rows] == ["51.15", "51.16"]
    # Read back, the quotes come off: the rows are the stored requests again.
    again = post_csv(client, _without_number(exported)).json()  # type: ignore[attr-defined]
    reasons = [p["reasons"][0] for p in again["report"]["problems"]]
    assert reasons == [f"already {n} (submitted): not stored again" for n in stored["stored"]]


def test_quoting_takes_off_exactly_the_quote_it_put_on() -> None:
    assert quote("\rCR") == "'\rCR" and quote(-1.5) == -1.5 and quote(None) == ""
    values = ["=1+1", "+7 701", "-x", "@me", "\tTab", "'quoted'", "plain", "'=kept"]
    text = serialise([{"justification": v, "latitude": -1.5} for v in values], COLUMNS)
    cells = [row["justification"] for row in csv.DictReader(io.StringIO(text, newline=""))]
    assert cells[:5] == ["'=1+1", "'+7 701", "'-x", "'@me", "'\tTab"]
    assert cells[5:] == ["'quoted'", "plain", "''=kept"]
    assert "-1.5" in text.splitlines()[1]  # numbers are not text
    parsed = parse_csv(text.encode())
    assert [values["justification"] for _, values in parsed.rows] == values


def test_organization_column_for_the_programme_office(
    as_user: SignIn, database: Database, city: City
) -> None:
    text = (
        "organization,latitude,longitude,justification\n"
        "akimat-west,51.15,71.35,Courtyard\n"
        "police-dept,51.15,71.45,Station square\n"
        "water-co,51.15,71.35,Not an asking organization\n"
        ",51.15,71.35,Nobody\n"
    )
    report = post_csv(as_user("admin"), text).json()["report"]  # type: ignore[attr-defined]
    problems = {p["where"]: p["reasons"] for p in report["problems"]}
    assert list(problems) == ["line 4", "line 5"]
    assert "requests come from an akimat or the police" in problems["line 4"][0]
    assert "organization: required" in problems["line 5"][0]
    forged = post_csv(as_user("akimat-west"), text.splitlines()[0] + "\n" + text.splitlines()[2])
    forged_report = forged.json()["report"]  # type: ignore[attr-defined]
    assert "your own organization only" in forged_report["problems"][0]["reasons"][0]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"latitude,longitude\n51.15,71.35\n", "lacks the justification column"),
        (b"justification,urgency\nx,low\n", "needs latitude and longitude columns"),
        (b"reason,why,latitude,longitude\n", "would all be justification"),
        (b"justification,address,district\n\xff\n", "not UTF-8"),
    ],
)
def test_unreadable_files_are_refused_whole(data: bytes, message: str) -> None:
    with pytest.raises(RequestFileError, match=message):
        parse_csv(data)


def test_the_api_refuses_an_unreadable_file_and_roles_that_do_not_submit(
    as_user: SignIn, city: City
) -> None:
    response = post_csv(as_user("akimat-west"), "latitude,longitude\n1,2\n")
    assert response.status_code == 422  # type: ignore[attr-defined]
    assert "nothing stored" in response.json()["detail"]  # type: ignore[attr-defined]
    assert post_csv(as_user("analyst"), HEADER + GOOD).status_code == 403  # type: ignore[attr-defined]


# --- the command line ---------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def cli_database(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Database:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAFECITY_DATABASE__URL", sqlite_database.url)
    monkeypatch.setenv("COLUMNS", "200")
    with sqlite_database.session() as s:
        west = f.add_district(s, "west", f.WEST)
        f.add_district(s, "east", f.EAST)
        f.add_organization(s, "akimat-west", OrganizationKind.AKIMAT, west)
        f.add_user(s, "admin", Role.ADMIN)
    return sqlite_database


def test_cli_imports_with_a_per_row_report_then_exports(
    cli_database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "requests.csv"
    source.write_text(
        "latitude,longitude,justification\n51.15,71.35,Courtyard\n51.16,71.36,Playground\n"
    )
    dry = runner.invoke(app, ["import", str(source), "--organization", "akimat-west", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing stored; would store 2" in dry.output
    assert stored_count(cli_database) == 0

    result = runner.invoke(app, ["import", str(source), "--organization", "akimat-west"])
    assert result.exit_code == 0, result.output
    assert "REQ-" in result.output and "stored 2 requests" in result.output
    with cli_database.session() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    assert [e.action for e in entries] == [
        "camera_request.submit",
        "camera_request.submit",
        "camera_requests.import",
    ]
    assert all(e.actor.startswith("cli:") for e in entries)

    exported = tmp_path / "out.csv"
    written = runner.invoke(app, ["export", str(exported)])
    assert written.exit_code == 0, written.output
    lines = exported.read_text().splitlines()
    assert lines[0].startswith("number,status,organization,latitude")
    assert len(lines) == 3 and ",submitted,akimat-west," in lines[1]


def test_cli_stores_nothing_from_a_file_with_a_bad_row(
    cli_database: Database, tmp_path: Path
) -> None:
    source = tmp_path / "requests.csv"
    source.write_text(
        "organization,latitude,longitude,justification\n"
        "akimat-west,51.15,71.35,Courtyard\n"
        "akimat-west,51.15,71.45,In the east\n"
        "nobody,51.15,71.35,Who\n"
    )
    result = runner.invoke(app, ["import", str(source)])
    assert result.exit_code == 1
    assert "line 3" in result.output and "East is outside the area of Akimat West" in result.output
    assert "no organization 'nobody'" in result.output
    assert "nothing stored: 2 bad rows" in result.output
    assert stored_count(cli_database) == 0
