"""Administrators add, change and decommission cameras through the API; stream passwords are
sealed on the way in, and neither the database row nor the audit log holds one in clear."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safecity.audit.models import AuditEntry
from safecity.city.models import Camera
from safecity.city.stream_credentials import CredentialKeyring
from safecity.settings import VideoSettings
from safecity.store.engine import Database
from safecity.video.node import cameras_to_ingest
from tests.api.conftest import City
from tests.audit.entries import audit_entries

PASSWORD = "pa55-w0rd"
MAIN = f"rtsp://admin:{PASSWORD}@10.2.0.1:554/Streaming/Channels/101"
SUB = f"http://10.2.0.1/cgi-bin/mjpg.cgi?user=admin&password={PASSWORD}&channel=1"


def new_camera(**changes: Any) -> dict[str, Any]:
    return {
        "code": "W-GATE",
        "name": "Park gate",
        "address": "Abay avenue 1",
        "latitude": 51.15,
        "longitude": 71.35,
        "site_code": "pump-station",
        "main_stream_url": MAIN,
        "sub_stream_url": SUB,
        "vendor": "Hikvision",
        "installed_at": "2026-11-30",
        "retention_days": 90,
        "retention_bytes": 500_000_000_000,
        **changes,
    }


def stored_rows(database: Database) -> list[tuple[Any, ...]]:
    """Every column of every camera, read straight from the table."""
    with database.session() as session:
        return [tuple(row) for row in session.execute(select(Camera.__table__).order_by("id"))]


def audit_count(database: Database) -> int:
    with database.session() as session:
        return len(session.scalars(select(AuditEntry.seq)).all())


def keyring(tmp_path: Path) -> CredentialKeyring:
    """The key the app uses: Settings(data_dir=tmp_path), as the client fixture makes it."""
    return CredentialKeyring(tmp_path / "keys" / "stream-credentials.key")


def ingested_urls(database: Database, tmp_path: Path) -> dict[str, str]:
    return {
        source.code: source.url
        for source in cameras_to_ingest(database, VideoSettings(), keyring(tmp_path))
    }


def test_admin_adds_a_camera_with_its_password_sealed_and_audited_hidden(
    signed_in: Callable[[str], TestClient], city: City, database: Database, tmp_path: Path
) -> None:
    key_file = keyring(tmp_path).path
    assert not key_file.exists()

    created = signed_in("admin").post("/api/cameras", json=new_camera())

    assert created.status_code == 201, created.text
    camera = created.json()
    assert camera["district_id"] == city.west_id
    assert camera["site"]["code"] == "pump-station"
    assert camera["main_stream_url"] == "rtsp://admin:***@10.2.0.1:554/Streaming/Channels/101"
    assert camera["sub_stream_url"] == (
        "http://10.2.0.1/cgi-bin/mjpg.cgi?user=admin&password=***&channel=1"
    )
    assert (camera["retention_days"], camera["retention_bytes"]) == (90, 500_000_000_000)
    assert PASSWORD not in str(stored_rows(database))
    (entry,) = audit_entries(database, "camera.create")
    assert entry.actor == "admin" and entry.target == f"camera:{camera['id']}"
    assert entry.details["main_stream_url"] == camera["main_stream_url"]
    assert entry.details["code"] == "W-GATE" and entry.details["retention_days"] == 90
    assert PASSWORD not in str(entry.details)
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert ingested_urls(database, tmp_path)["W-GATE"] == MAIN


def test_admin_changes_stream_retention_and_position_audited(
    signed_in: Callable[[str], TestClient], city: City, database: Database, tmp_path: Path
) -> None:
    client = signed_in("admin")
    changed = client.patch(
        f"/api/cameras/{city.street_east_id}",
        json={
            "main_stream_url": MAIN,
            "retention_days": 7.5,
            "retention_bytes": None,
            "vendor": "Dahua",
            "latitude": 51.15,
            "longitude": 71.35,
        },
    )

    assert changed.status_code == 200, changed.text
    camera = changed.json()
    assert camera["main_stream_url"] == "rtsp://admin:***@10.2.0.1:554/Streaming/Channels/101"
    assert (camera["retention_days"], camera["vendor"]) == (7.5, "Dahua")
    assert camera["district_id"] == city.west_id
    (entry,) = audit_entries(database, "camera.update")
    assert entry.details["changed"]["main_stream_url"] == {
        "from": "rtsp://10.0.0.1/E-STREET/main",
        "to": "rtsp://admin:***@10.2.0.1:554/Streaming/Channels/101",
        "password": "set",
    }
    assert entry.details["changed"]["retention_days"] == {"from": None, "to": 7.5}
    assert "retention_bytes" not in entry.details["changed"]
    assert PASSWORD not in str(entry.details) and PASSWORD not in str(stored_rows(database))
    assert ingested_urls(database, tmp_path)["E-STREET"] == MAIN


def test_the_url_as_shown_keeps_its_password_and_a_new_one_replaces_it(
    signed_in: Callable[[str], TestClient], city: City, database: Database, tmp_path: Path
) -> None:
    client = signed_in("admin")
    shown = client.post("/api/cameras", json=new_camera()).json()["main_stream_url"]
    camera_id = client.get("/api/cameras?q=W-GATE").json()["items"][0]["id"]

    kept = client.patch(f"/api/cameras/{camera_id}", json={"main_stream_url": shown})
    assert kept.status_code == 200, kept.text
    assert ingested_urls(database, tmp_path)["W-GATE"] == MAIN
    assert audit_entries(database, "camera.update")[-1].details["changed"] == {}

    replaced = client.patch(
        f"/api/cameras/{camera_id}", json={"main_stream_url": MAIN.replace(PASSWORD, "n3w")}
    )
    assert replaced.status_code == 200, replaced.text
    assert ingested_urls(database, tmp_path)["W-GATE"] == MAIN.replace(PASSWORD, "n3w")
    change = audit_entries(database, "camera.update")[-1].details["changed"]["main_stream_url"]
    assert change == {"from": shown, "to": shown, "password": "set"}

    cleared = client.patch(
        f"/api/cameras/{camera_id}",
        json={"main_stream_url": "rtsp://10.2.0.1:554/Streaming/Channels/101"},
    )
    assert cleared.status_code == 200, cleared.text
    change = audit_entries(database, "camera.update")[-1].details["changed"]["main_stream_url"]
    assert change["password"] == "removed"


def test_a_camera_stored_with_its_password_in_clear_is_sealed_when_edited(
    signed_in: Callable[[str], TestClient], city: City, database: Database, tmp_path: Path
) -> None:
    legacy = "rtsp://viewer:s3cret@10.0.0.9:554/main"
    assert legacy in str(stored_rows(database))  # as written before revision 0012
    assert ingested_urls(database, tmp_path)["W-STREET"] == legacy

    edited = signed_in("admin").patch(
        f"/api/cameras/{city.street_west_id}", json={"main_stream_url": legacy}
    )

    assert edited.status_code == 200, edited.text
    assert legacy not in str(stored_rows(database))
    assert ingested_urls(database, tmp_path)["W-STREET"] == legacy


def test_admin_decommissions_a_camera_which_keeps_its_record(
    signed_in: Callable[[str], TestClient], city: City, database: Database, tmp_path: Path
) -> None:
    client = signed_in("admin")
    assert "W-PUMP" in ingested_urls(database, tmp_path)

    done = client.post(f"/api/cameras/{city.water_camera_id}/decommission")
    again = client.post(f"/api/cameras/{city.water_camera_id}/decommission")

    assert done.status_code == 200, done.text
    assert done.json()["status"] == "decommissioned"
    assert again.status_code == 409
    assert client.get(f"/api/cameras/{city.water_camera_id}").json()["status"] == ("decommissioned")
    (entry,) = audit_entries(database, "camera.decommission")
    assert entry.details == {"changed": {"status": {"from": "active", "to": "decommissioned"}}}
    assert "W-PUMP" not in ingested_urls(database, tmp_path)


@pytest.mark.parametrize("username", ["operator", "akimat-west", "water"])
def test_only_administrators_add_change_or_decommission_cameras(
    signed_in: Callable[[str], TestClient], city: City, database: Database, username: str
) -> None:
    client = signed_in(username)
    before, entries = stored_rows(database), audit_count(database)

    answers = [
        client.post("/api/cameras", json=new_camera()),
        client.patch(f"/api/cameras/{city.water_camera_id}", json={"main_stream_url": MAIN}),
        client.post(f"/api/cameras/{city.water_camera_id}/decommission"),
    ]

    assert [answer.status_code for answer in answers] == [403, 403, 403]
    assert stored_rows(database) == before and audit_count(database) == entries


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"main_stream_url": f"ftp://admin:{PASSWORD}@10.2.0.1/x"}, "has scheme 'ftp'"),
        ({"sub_stream_url": f"rtsp://admin:{PASSWORD}@10.2.0.1:99999/x"}, "not a valid URL"),
        ({"longitude": 70.0}, "that position is outside every district"),
        ({"site_code": "no-such-site"}, "site_code: no site 'no-such-site'"),
        ({"site_code": None, "site_id": 999_999}, "no such site"),
        ({"code": "W/GATE"}, "may hold only letters, digits"),
        ({"main_stream_url": "rtsp://admin:***@10.2.0.1/x"}, "password hidden as ***"),
        ({"retention_days": 0}, "greater than 0"),
    ],
)
def test_a_bad_camera_is_refused_naming_why_and_nothing_is_stored(
    signed_in: Callable[[str], TestClient],
    city: City,
    database: Database,
    changes: dict[str, Any],
    reason: str,
) -> None:
    client = signed_in("admin")
    before, entries = stored_rows(database), audit_count(database)

    refused = client.post("/api/cameras", json=new_camera(**changes))

    assert refused.status_code == 422, refused.text
    assert reason in refused.text
    assert PASSWORD not in refused.text
    assert stored_rows(database) == before and audit_count(database) == entries


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"main_stream_url": "rtsp://"}, "has no host"),
        ({"main_stream_url": None}, "main_stream_url cannot be empty"),
        ({"longitude": 70.0, "main_stream_url": MAIN}, "outside every district"),
        ({"site_id": 999_999, "main_stream_url": MAIN}, "no such site"),
    ],
)
def test_a_bad_change_is_refused_and_nothing_is_changed(
    signed_in: Callable[[str], TestClient],
    city: City,
    database: Database,
    changes: dict[str, Any],
    reason: str,
) -> None:
    client = signed_in("admin")
    before, entries = stored_rows(database), audit_count(database)

    refused = client.patch(f"/api/cameras/{city.street_east_id}", json=changes)

    assert refused.status_code == 422, refused.text
    assert reason in refused.text
    assert stored_rows(database) == before and audit_count(database) == entries


def test_a_second_camera_with_the_same_code_is_refused(
    signed_in: Callable[[str], TestClient], city: City, database: Database
) -> None:
    before = stored_rows(database)

    refused = signed_in("admin").post("/api/cameras", json=new_camera(code="E-STREET"))

    assert refused.status_code == 409
    assert "a camera 'E-STREET' exists already" in refused.text
    assert stored_rows(database) == before


def test_a_missing_key_file_is_a_clear_error_never_a_new_key(
    signed_in: Callable[[str], TestClient], city: City, database: Database, tmp_path: Path
) -> None:
    client = signed_in("admin")
    assert client.post("/api/cameras", json=new_camera()).status_code == 201
    key_file = keyring(tmp_path).path
    key_file.unlink()
    before = stored_rows(database)

    refused = client.post("/api/cameras", json=new_camera(code="W-GATE-2"))

    assert refused.status_code == 503
    assert f"the stream credentials key {key_file} is missing" in refused.text
    assert not key_file.exists()
    assert stored_rows(database) == before
