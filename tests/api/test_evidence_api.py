"""Evidence over HTTP: who may export, scope (out of scope = 404), the scoped log, downloads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from safecity.api.app import create_app
from safecity.city.models import Camera
from safecity.settings import Settings
from safecity.store.engine import Database
from safecity.video.evidence.keys import load_public_key
from safecity.video.evidence.verify import verify_package
from safecity.video.models import LegalHold, RecordedSegment
from tests.api.conftest import City
from tests.audit.entries import audit_entries
from tests.video.test_evidence import RECORDED_AT, index_recordings, make_segment_files

START = (RECORDED_AT + timedelta(seconds=1)).isoformat()
END = (RECORDED_AT + timedelta(seconds=3)).isoformat()


@pytest.fixture(scope="module")
def segment_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_segment_files(tmp_path_factory.mktemp("segments"))


@pytest.fixture
def client(
    database: Database, city: City, tmp_path: Path, segment_files: list[Path]
) -> Iterator[TestClient]:
    """The app, and recordings on both street cameras."""
    settings = Settings(data_dir=tmp_path, timezone="Asia/Almaty")
    with database.session() as session:
        for camera_id in (city.street_west_id, city.street_east_id):
            camera = session.get_one(Camera, camera_id)
            index_recordings(session, camera, settings.media_path, segment_files, RECORDED_AT)
    app = create_app(settings, database)
    with TestClient(app) as test_client:
        yield test_client


def export(client: TestClient, camera_id: int, **body: Any) -> Any:
    return client.post(
        f"/api/cameras/{camera_id}/evidence",
        json={"start": START, "end": END, "reason": "Case 12, court request"} | body,
    )


def test_operator_exports_downloads_and_the_package_verifies(
    signed_in: Callable[[str], TestClient], city: City, tmp_path: Path
) -> None:
    client = signed_in("operator")
    response = export(client, city.street_west_id)
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/api/evidence/{created['id']}"
    assert created["camera_code"] == "W-STREET" and created["exported_by"] == "operator"
    assert created["reason"] == "Case 12, court request" and created["hold_id"] is not None
    assert client.get(f"/api/evidence/{created['id']}").json() == created

    download = client.get(created["download_url"])
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert f"evidence-{created['package_id']}.zip" in download.headers["content-disposition"]
    assert len(download.content) == created["bytes"]
    archive = tmp_path / "downloaded.zip"
    archive.write_bytes(download.content)

    key = client.get("/api/evidence/public-key").json()
    assert key["fingerprint_sha256"] == created["key_fingerprint"]
    report = verify_package(archive, [load_public_key(key["pem"].encode())])
    assert report.valid and report.trusted_key, report.problems
    assert not verify_package(archive).valid  # self-consistent only, without the key


def test_the_public_key_needs_no_sign_in(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("operator")
    before = client.get("/api/evidence/public-key")
    assert before.status_code == 404 and "no evidence signing key yet" in before.json()["detail"]
    created = export(client, city.street_west_id).json()
    assert client.post("/api/auth/logout").status_code == 204
    assert client.get("/api/evidence").status_code == 401  # signed out
    response = client.get("/api/evidence/public-key")
    assert response.status_code == 200
    assert response.json()["pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert response.json()["fingerprint_sha256"] == created["key_fingerprint"]
    keyring = client.get("/api/evidence/keys")
    assert keyring.status_code == 200
    assert [(key["fingerprint_sha256"], key["current"]) for key in keyring.json()] == [
        (created["key_fingerprint"], True)
    ]


def test_exporting_needs_a_sign_in(client: TestClient, city: City) -> None:
    assert export(client, city.street_west_id).status_code == 401
    assert client.get("/api/evidence").status_code == 401


@pytest.mark.parametrize("username", ["water", "akimat-west"])
def test_roles_that_may_not_export(
    signed_in: Callable[[str], TestClient], city: City, username: str
) -> None:
    client = signed_in(username)
    assert export(client, city.water_camera_id).status_code == 403
    assert export(client, city.street_west_id).status_code == 403
    assert client.get("/api/evidence").status_code == 403


def test_a_duty_officer_exports_only_in_their_districts(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("officer-east")
    forbidden = export(client, city.street_west_id)
    missing = export(client, 999_999)
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() == missing.json()
    assert export(client, city.street_east_id).status_code == 201


def test_an_officer_without_a_unit_exports_nothing(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("orphan-officer")
    assert export(client, city.street_east_id).status_code == 404


def test_the_export_log_is_scoped(signed_in: Callable[[str], TestClient], city: City) -> None:
    operator = signed_in("operator")
    west = export(operator, city.street_west_id).json()
    east = export(operator, city.street_east_id).json()
    everything = operator.get("/api/evidence").json()
    assert everything["total"] == 2
    assert [item["id"] for item in everything["items"]] == [east["id"], west["id"]]
    page = operator.get("/api/evidence", params={"limit": 1, "offset": 1}).json()
    assert [item["id"] for item in page["items"]] == [west["id"]] and page["total"] == 2
    by_camera = operator.get("/api/evidence", params={"camera_id": city.street_west_id}).json()
    assert [item["id"] for item in by_camera["items"]] == [west["id"]]

    officer = signed_in("officer-east")
    seen = officer.get("/api/evidence").json()
    assert [item["id"] for item in seen["items"]] == [east["id"]] and seen["total"] == 1
    for path in (f"/api/evidence/{west['id']}", west["download_url"]):
        hidden, missing = officer.get(path), officer.get(path.replace(str(west["id"]), "999999"))
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()
    assert officer.get(east["download_url"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"reason": "   "}, "a reason is required"),
        ({"start": END, "end": START}, "must come after its start"),
        ({"end": (RECORDED_AT + timedelta(hours=25)).isoformat()}, "at most"),
        (
            {"start": "2026-01-01T00:00:00+00:00", "end": "2026-01-01T01:00:00+00:00"},
            "no recording",
        ),
    ],
)
def test_refused_exports_say_why(
    signed_in: Callable[[str], TestClient], city: City, body: dict[str, str], message: str
) -> None:
    client = signed_in("operator")
    response = export(client, city.street_west_id, **body)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert client.get("/api/evidence").json()["total"] == 0


def test_times_without_a_zone_are_rejected(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("operator")
    response = export(client, city.street_west_id, start="2026-03-01T15:00:01")
    assert response.status_code == 422


def test_a_removed_package_file_answers_gone(
    signed_in: Callable[[str], TestClient], city: City, tmp_path: Path
) -> None:
    client = signed_in("admin")
    created = export(client, city.street_west_id).json()
    (tmp_path / "evidence" / f"{created['package_id']}.zip").unlink()
    response = client.get(created["download_url"])
    assert response.status_code == 410
    assert "audit record remains" in response.json()["detail"]


def test_a_recording_deleted_from_disk_is_refused_not_a_fault(
    signed_in: Callable[[str], TestClient], city: City, tmp_path: Path, database: Database
) -> None:
    """A source segment whose file is gone (deleted by hand, or by retention before the
    export's hold was committed) answers 422 naming it, and leaves no export and no hold."""
    with database.session() as session:
        segment = session.scalars(
            select(RecordedSegment)
            .where(RecordedSegment.camera_id == city.street_west_id)
            .order_by(RecordedSegment.started_at)
        ).first()
        assert segment is not None
    (tmp_path / "media" / segment.path).unlink()
    client = signed_in("operator")
    response = export(client, city.street_west_id)
    assert response.status_code == 422, response.text
    assert f"segment {segment.path} is missing" in response.json()["detail"]
    assert client.get("/api/evidence").json()["total"] == 0
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(LegalHold)) == 0
    assert list((tmp_path / "evidence").iterdir()) == []


def test_export_and_download_are_audited(
    signed_in: Callable[[str], TestClient], city: City, database: Database
) -> None:
    client = signed_in("operator")
    created = export(client, city.street_west_id).json()
    assert client.get(created["download_url"]).status_code == 200
    key_created, exported, downloaded = audit_entries(database)[1:]  # after the sign-in
    assert (key_created.action, key_created.actor) == ("evidence.key_created", "operator")
    assert key_created.target == f"evidence-key:{created['key_fingerprint']}"
    target = f"evidence:{created['package_id']}"
    assert (exported.action, exported.actor, exported.target) == (
        "evidence.export",
        "operator",
        target,
    )
    assert exported.details["reason"] == "Case 12, court request"
    assert exported.details["manifest_sha256"] == created["manifest_sha256"]
    assert exported.details["hold_id"] == created["hold_id"]
    assert (downloaded.action, downloaded.target) == ("evidence.download", target)
    assert downloaded.address == "testclient"


def test_a_refused_export_leaves_no_audit_row(
    signed_in: Callable[[str], TestClient], city: City, database: Database
) -> None:
    client = signed_in("operator")
    assert export(client, city.street_west_id, reason="").status_code == 422
    assert audit_entries(database, "evidence.export") == []


def test_a_missing_signing_key_stops_exports_instead_of_making_a_new_one(
    signed_in: Callable[[str], TestClient], city: City, database: Database, tmp_path: Path
) -> None:
    client = signed_in("operator")
    first = export(client, city.street_west_id)
    assert first.status_code == 201, first.text
    key_file = Settings(data_dir=tmp_path).evidence_key_path
    key_file.unlink()  # as after a restore without the keys folder

    refused = export(client, city.street_west_id)
    assert refused.status_code == 503
    assert "restore it from the backup" in refused.json()["detail"]
    assert not key_file.exists()
    assert client.get("/api/evidence/public-key").status_code == 503
    assert len(audit_entries(database, "evidence.export")) == 1
    keyring = client.get("/api/evidence/keys").json()
    assert [key["fingerprint_sha256"] for key in keyring] == [first.json()["key_fingerprint"]]
