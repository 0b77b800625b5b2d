"""Importing the police register's statistics: every row checked with a report a person can
act on, upserts by register number, audited; over the API and with `safecity crimes import`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.models import District
from safecity.insights.crimes import file as crime_file
from safecity.insights.crimes import store as crime_store
from safecity.insights.crimes.cli import app
from safecity.insights.models import CrimeRecord, CrimeSource
from safecity.store.engine import Database
from tests.audit.entries import audit_entries
from tests.factories import EAST, WEST, add_district

HEADER = "code,time,kind,place_kind,latitude,longitude,district,solved,solved_at"
GOOD = [
    "KUI-1,2026-03-14 21:30,theft,street,51.15,71.35,,yes,2026-03-20",
    "KUI-2,2026-03-15T10:00:00+05:00,robbery,public_place,,,east,no,",
    "KUI-3,16.03.2026 08:15,fraud,dwelling,,,West,,",
]


def _csv(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _post(client: TestClient, data: bytes, **params: Any) -> Any:
    return client.post(
        "/api/insights/crimes/import",
        content=data,
        params=params,
        headers={"content-type": "text/csv"},
    )


def _district_id(database: Database, code: str) -> int:
    with database.sessions() as session:
        district_id = session.scalar(select(District.id).where(District.code == code))
    assert district_id is not None
    return district_id


def _records(database: Database) -> dict[str, CrimeRecord]:
    with database.sessions() as session:
        return {r.code: r for r in session.scalars(select(CrimeRecord))}


def test_import_creates_records_located_by_position_or_district(
    signed_in: Callable[[str], TestClient], database: Database, figures_city: Any
) -> None:
    response = _post(signed_in("analyst"), _csv(*GOOD))

    assert response.status_code == 200, response.text
    assert response.json()["created"] == 3
    records = _records(database)
    first = records["KUI-1"]
    assert first.district_id == figures_city.west_id  # from its position
    assert first.occurred_at == datetime(2026, 3, 14, 16, 30, tzinfo=UTC)  # city time, UTC+5
    assert (first.solved, first.place_kind, first.source) == (
        True,
        PlaceKind.STREET,
        CrimeSource.REGISTER,
    )
    assert first.solved_at is not None
    assert records["KUI-2"].district_id == figures_city.east_id
    assert (records["KUI-2"].latitude, records["KUI-2"].solved) == (None, False)
    assert records["KUI-3"].occurred_at == datetime(2026, 3, 16, 3, 15, tzinfo=UTC)
    entry = audit_entries(database, "crimes.import")[-1]
    assert entry.actor == "analyst"
    assert entry.details["created"] == 3


def test_reimporting_the_same_file_changes_nothing_and_a_correction_updates(
    signed_in: Callable[[str], TestClient], database: Database
) -> None:
    client = signed_in("admin")
    assert _post(client, _csv(*GOOD)).status_code == 200

    again = _post(client, _csv(*GOOD)).json()
    corrected = _post(client, _csv(GOOD[0], GOOD[1].replace("robbery", "assault"))).json()

    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert (corrected["created"], corrected["updated"], corrected["unchanged"]) == (0, 1, 1)
    records = _records(database)
    assert len(records) == 3
    assert records["KUI-2"].kind is CrimeKind.ASSAULT


def test_russian_and_kazakh_headers_and_values_are_understood(
    signed_in: Callable[[str], TestClient], database: Database
) -> None:
    data = _csv(
        "ЕРДР-7;14.03.2026 21:30;кража;улица;West;да",
        "ЕРДР-8;14.03.2026 22:00;ұрлық;қоғамдық орын;east;жоқ",
        header="Номер;Дата;Вид преступления;Место совершения;Район;Раскрыто",
    )
    response = _post(signed_in("analyst"), data)

    assert response.status_code == 200, response.text
    assert response.json()["columns"]["place_kind"] == "Место совершения"
    records = _records(database)
    assert (records["ЕРДР-7"].kind, records["ЕРДР-7"].place_kind) == (
        CrimeKind.THEFT,
        PlaceKind.STREET,
    )
    assert records["ЕРДР-7"].solved is True
    assert records["ЕРДР-8"].place_kind is PlaceKind.PUBLIC_PLACE


def test_bad_rows_are_reported_row_by_row_and_nothing_is_imported(
    signed_in: Callable[[str], TestClient], database: Database
) -> None:
    data = _csv(
        GOOD[0],
        "KUI-9,2026-13-01,theft,street,,,west,,",
        "KUI-10,2026-03-01,arson,roof,,,west,,",
        "KUI-11,2026-03-01,theft,street,51.15,81.0,,,",
        "KUI-12,2026-03-01,theft,street,,,south,maybe,",
        "KUI-13,2026-03-05,theft,street,,,west,no,2026-03-06",
        "OCC-2026-000001,2026-03-01,theft,street,,,west,,",
        "KUI-1,2026-03-01,theft,street,,,west,,",
    )
    response = _post(signed_in("analyst"), data)

    assert response.status_code == 422
    report = response.json()
    assert report["outcome"] == "rejected"
    assert report["created"] == 0 and report["bad"] == 8
    found = {(p["line"], p["column"], p["value"]) for p in report["problems"]}
    assert (3, "time", "2026-13-01") in found
    assert (4, "kind", "arson") in found and (4, "place_kind", "roof") in found
    assert (5, "latitude", "51.15, 81.0") in found  # outside every district
    assert (6, "district", "south") in found and (6, "solved", "maybe") in found
    assert (7, "solved_at", "2026-03-06") in found
    assert (8, "code", "OCC-2026-000001") in found
    assert (2, "code", "KUI-1") in found and (9, "code", "KUI-1") in found  # repeated
    by_line = {p["line"]: p for p in report["problems"]}
    assert "not a date" in by_line[3]["problem"]
    assert _records(database) == {}
    assert audit_entries(database, "crimes.import") == []


def test_skip_invalid_imports_the_good_rows_and_dry_run_writes_nothing(
    signed_in: Callable[[str], TestClient], database: Database
) -> None:
    client = signed_in("analyst")
    data = _csv(*GOOD, "KUI-9,2026-03-01,arson,street,,,west,,")

    dry = _post(client, data, dry_run="true", skip_invalid="true").json()
    assert (dry["outcome"], dry["created"], dry["skipped"]) == ("dry_run", 3, 1)
    assert _records(database) == {}

    written = _post(client, data, skip_invalid="true").json()
    assert (written["outcome"], written["created"], written["skipped"]) == ("written", 3, 1)
    assert sorted(_records(database)) == ["KUI-1", "KUI-2", "KUI-3"]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "empty file"),
        (b"code,time,kind\nA,2026-01-01,theft\n", "lacks required columns: place_kind"),
        (b"code,time,kind,place_kind\nA,2026-01-01,theft,street\n", "names no location"),
        (
            "code,time,kind,place_kind,district\n".encode("cp1251") + "Кража".encode("cp1251"),
            "UTF-8",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(
    signed_in: Callable[[str], TestClient], database: Database, data: bytes, says: str
) -> None:
    response = _post(signed_in("analyst"), data)
    assert response.status_code == 400
    assert says in response.json()["detail"]
    assert _records(database) == {}


def test_a_file_over_the_row_limit_is_refused_whole(
    signed_in: Callable[[str], TestClient], database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crime_file, "MAX_ROWS", 2)
    client = signed_in("analyst")
    response = _post(client, _csv(*GOOD))
    assert response.status_code == 413
    assert response.json()["detail"] == "more than 2 rows: split the file; nothing imported"
    assert _records(database) == {}
    assert _post(client, _csv(*GOOD[:2])).status_code == 200


def test_new_codes_written_by_another_import_meanwhile_are_a_conflict(
    signed_in: Callable[[str], TestClient], database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up = crime_store._stored

    def another_import_writes_first(session: Any, rows: Any) -> Any:
        stored = looked_up(session, rows)  # none of them yet...
        with database.session() as other:  # ...then another import commits KUI-2
            other.add(
                CrimeRecord(
                    code="KUI-2",
                    occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
                    kind=CrimeKind.THEFT,
                    place_kind=PlaceKind.STREET,
                    district_id=_district_id(database, "east"),
                )
            )
        return stored

    monkeypatch.setattr(crime_store, "_stored", another_import_writes_first)
    response = _post(signed_in("analyst"), _csv(*GOOD))
    assert response.status_code == 409
    assert response.json()["detail"] == (
        "another import wrote these register numbers at the same time; import again"
    )
    assert sorted(_records(database)) == ["KUI-2"]  # the other import's alone: nothing of ours


@pytest.mark.parametrize("username", ["operator", "akimat-west", "water"])
def test_only_admins_and_analysts_import(
    signed_in: Callable[[str], TestClient], username: str
) -> None:
    assert _post(signed_in(username), _csv(*GOOD)).status_code == 403


@pytest.fixture
def cli_database(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Database:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SAFECITY_DATABASE__URL", sqlite_database.url)
    monkeypatch.setenv("SAFECITY_TIMEZONE", "Asia/Almaty")
    monkeypatch.setenv("COLUMNS", "200")
    with sqlite_database.session() as session:
        add_district(session, "west", WEST)
        add_district(session, "east", EAST)
    return sqlite_database


def test_cli_imports_reports_and_reimports_unchanged(
    cli_database: Database, tmp_path: Path
) -> None:
    runner = CliRunner()
    source = tmp_path / "crimes.csv"
    source.write_bytes(_csv(*GOOD))

    dry = runner.invoke(app, ["import", str(source), "--dry-run"])
    imported = runner.invoke(app, ["import", str(source)])
    again = runner.invoke(app, ["import", str(source)])

    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing written; would be: 3 created" in dry.output
    assert imported.exit_code == 0, imported.output
    assert "imported: 3 created, 0 updated, 0 unchanged, 0 skipped" in imported.output
    assert "imported: 0 created, 0 updated, 3 unchanged, 0 skipped" in again.output
    assert len(_records(cli_database)) == 3
    assert len(audit_entries(cli_database, "crimes.import")) == 2


def test_cli_shows_bad_rows_and_imports_nothing(cli_database: Database, tmp_path: Path) -> None:
    source = tmp_path / "crimes.csv"
    source.write_bytes(_csv(GOOD[0], "KUI-9,2026-03-01,arson,street,,,west,,"))

    result = CliRunner().invoke(app, ["import", str(source)])

    assert result.exit_code == 1
    assert "arson" in result.output and "unknown; one of theft" in result.output
    assert "nothing imported: 1 bad rows" in result.output
    assert _records(cli_database) == {}
