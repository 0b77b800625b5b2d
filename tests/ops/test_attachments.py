"""Incident attachments over HTTP, on SQLite and PostgreSQL: what is accepted (by content),
how it is stored (never by the uploader's name, never half-written), who may see and delete it."""

from __future__ import annotations

import base64
import errno
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote

import anyio
import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from safecity.city.models import PoliceUnit
from safecity.ops.incidents import attachments
from safecity.ops.incidents.attachment_models import IncidentAttachment
from safecity.ops.models import Incident, IncidentEvent, IncidentEventKind
from safecity.store.engine import Database
from tests.api.conftest import City
from tests.audit.entries import audit_entries
from tests.ops import incident_materials as materials
from tests.ops.incident_materials import LIMIT_MB, SignIn, close, open_incident, stored_files

client = materials.client
city = materials.city
signed_in = materials.signed_in

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(50_000)
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(3_000)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + os.urandom(2_000)
STATEMENT = "Показания свидетеля: the man in the red jacket ran towards the park.\n".encode()
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def upload(
    client: TestClient,
    incident_id: int,
    content: bytes,
    name: str = "scene.jpg",
    claimed: str = "image/jpeg",
    **form: str,
) -> Any:
    return client.post(
        f"/api/incidents/{incident_id}/attachments",
        files={"file": (name, content, claimed)},
        data=form,
    )


def attachment_rows(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.count()).select_from(IncidentAttachment)) or 0


def test_a_photo_comes_back_byte_for_byte_with_its_sha256(
    client: TestClient, city: City, database: Database, tmp_path: Path
) -> None:
    incident = open_incident(client, city.street_east_id)

    response = upload(client, incident["id"], JPEG, description="the snatcher, from behind")

    assert response.status_code == 201, response.text
    added = response.json()
    sha256 = hashlib.sha256(JPEG).hexdigest()
    assert (added["name"], added["media_type"], added["bytes"]) == (
        "scene.jpg",
        "image/jpeg",
        len(JPEG),
    )
    assert added["sha256"] == sha256 and added["uploaded_by"] == "operator"
    assert added["description"] == "the snatcher, from behind" and added["deleted"] is False
    (stored,) = stored_files(tmp_path)
    assert stored.parent.name == str(incident["id"]) and len(stored.name) == 32  # a UUID
    assert stored.read_bytes() == JPEG
    listed = client.get(f"/api/incidents/{incident['id']}/attachments").json()
    assert [item["id"] for item in listed] == [added["id"]]

    download = client.get(added["download_url"])

    assert download.status_code == 200
    assert download.content == JPEG
    assert hashlib.sha256(download.content).hexdigest() == sha256
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["content-disposition"].startswith('attachment; filename="scene.jpg"')
    assert download.headers["x-content-type-options"] == "nosniff"
    digest = base64.b64encode(hashlib.sha256(JPEG).digest()).decode()
    assert download.headers["repr-digest"] == f"sha-256=:{digest}:"
    (add,) = audit_entries(database, "incident.attachment.add")
    (seen,) = audit_entries(database, "incident.attachment.download")
    for entry in (add, seen):
        assert entry.actor == "operator" and entry.target == f"incident:{incident['number']}"
        assert entry.details["sha256"] == sha256
    with database.session() as session:
        event = session.scalars(
            select(IncidentEvent).where(IncidentEvent.kind == IncidentEventKind.EVIDENCE)
        ).one()
        assert event.details["change"] == "attachment_added"
        assert event.text == "the snatcher, from behind"


@pytest.mark.parametrize(
    ("content", "claimed", "found"),
    [
        (PNG, "image/jpeg", "image/png"),
        (PDF, "application/octet-stream", "application/pdf"),
        (STATEMENT, "application/pdf", "text/plain"),
        (MP4, "text/plain", "video/mp4"),
    ],
    ids=["png", "pdf", "text", "mp4"],
)
def test_the_type_is_read_from_the_content_not_the_claim(
    signed_in: SignIn, city: City, content: bytes, claimed: str, found: str
) -> None:
    incident = open_incident(signed_in("operator"), city.street_east_id)
    officer = signed_in("officer-east")  # the duty officer of the assigned unit

    response = upload(officer, incident["id"], content, name="evidence", claimed=claimed)

    assert response.status_code == 201, response.text
    assert response.json()["media_type"] == found
    download = officer.get(response.json()["download_url"])
    assert download.content == content
    assert download.headers["content-type"].split(";")[0] == found


@pytest.mark.parametrize(
    "content",
    [
        HTML,
        b"\n  <svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,",
        b"Statement\n" * 100 + b"\xff\xfe not UTF-8 further on",
    ],
    ids=["html", "svg", "gif", "text-then-binary"],
)
def test_a_forged_or_unaccepted_type_is_refused_and_nothing_is_kept(
    client: TestClient, city: City, database: Database, tmp_path: Path, content: bytes
) -> None:
    incident = open_incident(client, city.street_east_id)

    response = upload(client, incident["id"], content, name="photo.jpg", claimed="image/jpeg")

    assert response.status_code == 415, response.text
    assert "attach a JPEG or PNG photo" in response.json()["detail"]
    assert stored_files(tmp_path) == []
    assert attachment_rows(database) == 0


def test_a_file_over_the_limit_is_refused_and_nothing_is_left(
    client: TestClient, city: City, database: Database, tmp_path: Path
) -> None:
    incident = open_incident(client, city.street_east_id)
    limit = LIMIT_MB * 1024 * 1024
    just_over = JPEG[:16] + b"\0" * (limit + 1 - 16)

    while_streaming = upload(client, incident["id"], just_over)
    declared_up_front = upload(client, incident["id"], just_over + b"\0" * limit)

    for response in (while_streaming, declared_up_front):
        assert response.status_code == 413, response.text
        assert f"larger than {LIMIT_MB} MiB" in response.json()["detail"]
    assert stored_files(tmp_path) == []
    assert attachment_rows(database) == 0
    exactly = upload(client, incident["id"], just_over[:limit])
    assert exactly.status_code == 201, exactly.text


def test_a_full_disk_answers_507_and_nothing_is_stored(
    client: TestClient,
    city: City,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    incident = open_incident(client, city.street_east_id)
    written: list[int] = []
    real_append = attachments.AttachmentWriter._append

    def fills_up(self: attachments.AttachmentWriter, file: BinaryIO, data: memoryview) -> None:
        if written:  # the first chunk goes to disk, then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        written.append(len(data))
        real_append(self, file, data)

    monkeypatch.setattr(attachments.AttachmentWriter, "_append", fills_up)

    response = upload(client, incident["id"], JPEG[:16] + os.urandom(300_000))

    assert response.status_code == 507, response.text
    assert "the attachment store is full; nothing was saved" in response.json()["detail"]
    assert written  # something was written before the disk filled up
    assert stored_files(tmp_path) == []
    assert attachment_rows(database) == 0
    assert audit_entries(database, "incident.attachment.add") == []


def test_a_path_traversal_name_is_only_a_label(
    client: TestClient, city: City, tmp_path: Path
) -> None:
    incident = open_incident(client, city.street_east_id)

    response = upload(
        client, incident["id"], STATEMENT, name="../../etc/passwd", claimed="text/plain"
    )

    assert response.status_code == 201, response.text
    assert response.json()["name"] == "passwd"
    (stored,) = stored_files(tmp_path)
    assert stored.parent == materials.attachments_folder(tmp_path) / str(incident["id"])
    assert "passwd" not in stored.name
    assert not (tmp_path / "etc").exists() and not (tmp_path / "media" / "etc").exists()
    download = client.get(response.json()["download_url"])
    assert download.headers["content-disposition"].startswith('attachment; filename="passwd"')


def test_a_name_in_another_script_is_offered_exactly_with_an_ascii_fallback(
    client: TestClient, city: City
) -> None:
    incident = open_incident(client, city.street_east_id)
    name = "показания свидетеля; копия.txt"

    added = upload(client, incident["id"], STATEMENT, name=name, claimed="text/plain").json()

    assert added["name"] == name
    header = client.get(added["download_url"]).headers["content-disposition"]
    plain, exact = header.split("; filename*=UTF-8''")
    assert plain == 'attachment; filename="_________ __________ _____.txt"'  # the ; too
    assert unquote(exact) == name


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("report\r\n.pdf", "report.pdf"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # no right-to-left override
        ("..", "attachment"),
        (None, "attachment"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_display_names_are_labels_without_folders_or_control_characters(
    raw: str | None, shown: str
) -> None:
    assert attachments.display_name(raw) == shown


def test_another_districts_officer_sees_no_such_incident(
    signed_in: SignIn, city: City, database: Database, tmp_path: Path
) -> None:
    incident = open_incident(signed_in("operator"), city.street_east_id)
    added = upload(signed_in("operator"), incident["id"], JPEG).json()

    for name in ("officer-west", "orphan-officer"):
        other = signed_in(name)
        assert other.get(f"/api/incidents/{incident['id']}/attachments").status_code == 404
        assert other.get(added["download_url"]).status_code == 404
        refused = upload(other, incident["id"], PNG)
        assert refused.status_code == 404
        assert refused.json()["detail"] == "no such incident, or not yours to see"
    akimat = signed_in("akimat-west")
    assert akimat.get(f"/api/incidents/{incident['id']}/attachments").status_code == 403
    assert len(stored_files(tmp_path)) == 1 and attachment_rows(database) == 1
    assert len(audit_entries(database, "incident.attachment.download")) == 0


def test_only_the_uploader_or_an_admin_deletes_and_the_file_stays(
    signed_in: SignIn, city: City, database: Database, tmp_path: Path
) -> None:
    incident = open_incident(signed_in("operator"), city.street_east_id)
    added = upload(signed_in("operator"), incident["id"], JPEG).json()
    url = added["download_url"]

    assert signed_in("operator-2").delete(url, params={"reason": "dup"}).status_code == 403
    assert signed_in("officer-east").delete(url, params={"reason": "dup"}).status_code == 403
    operator = signed_in("operator")
    assert operator.delete(url).status_code == 422  # a reason is required
    deleted = operator.delete(url, params={"reason": "wrong incident"})

    assert deleted.status_code == 200, deleted.text
    body = deleted.json()
    assert body["deleted"] and body["deleted_by"] == "operator"
    assert body["deletion_reason"] == "wrong incident" and body["deleted_at"] is not None
    listed = operator.get(f"/api/incidents/{incident['id']}/attachments").json()
    assert [(item["id"], item["deleted"]) for item in listed] == [(added["id"], True)]
    assert [p.read_bytes() for p in stored_files(tmp_path)] == [JPEG]  # kept as evidence
    assert operator.get(url).status_code == 410
    admin = signed_in("admin")
    assert admin.get(url).content == JPEG  # an administrator can still show what it was
    again = admin.delete(url, params={"reason": "again"})
    assert again.status_code == 409
    assert "already deleted by operator" in again.json()["detail"]
    (entry,) = audit_entries(database, "incident.attachment.delete")
    assert entry.actor == "operator" and entry.details["reason"] == "wrong incident"
    downloads = audit_entries(database, "incident.attachment.download")
    assert [(e.actor, e.details["deleted"]) for e in downloads] == [("admin", True)]


def test_nothing_is_deleted_from_a_closed_incident(signed_in: SignIn, city: City) -> None:
    incident = open_incident(signed_in("operator"), city.street_east_id)
    added = upload(signed_in("officer-east"), incident["id"], PDF).json()
    close(signed_in, incident["id"], "officer-east")

    for name in ("officer-east", "admin"):
        refused = signed_in(name).delete(added["download_url"], params={"reason": "tidy up"})
        assert refused.status_code == 409, refused.text
        assert "is closed" in refused.json()["detail"]
    assert signed_in("operator").get(added["download_url"]).content == PDF


def test_a_request_that_is_not_one_file_in_a_form_is_refused(
    client: TestClient, city: City, tmp_path: Path
) -> None:
    incident = open_incident(client, city.street_east_id)
    url = f"/api/incidents/{incident['id']}/attachments"

    raw = client.post(url, content=JPEG, headers={"Content-Type": "image/jpeg"})
    no_file = client.post(url, files={"description": (None, "just words")})
    two_files = client.post(url, files=[("file", ("a.jpg", JPEG)), ("file", ("b.jpg", JPEG))])
    unknown = client.post(url, files={"file": ("a.jpg", JPEG), "camera": (None, "E-STREET")})
    empty = upload(client, incident["id"], b"")

    assert raw.status_code == 415
    for response in (no_file, two_files, unknown, empty):
        assert response.status_code == 422, response.text
    assert stored_files(tmp_path) == []


def test_a_stored_file_that_was_altered_or_removed_is_not_served(
    client: TestClient, city: City, tmp_path: Path
) -> None:
    incident = open_incident(client, city.street_east_id)
    added = upload(client, incident["id"], PDF, name="statement.pdf").json()
    (stored,) = stored_files(tmp_path)

    stored.write_bytes(PDF.replace(b"Catalog", b"Catalo9"))
    altered = client.get(added["download_url"])
    stored.unlink()
    gone = client.get(added["download_url"])

    assert altered.status_code == 409
    assert "no longer matches the SHA-256 taken on upload" in altered.json()["detail"]
    assert gone.status_code == 410


def test_no_database_connection_is_held_while_the_body_streams_in(
    client: TestClient, city: City, database: Database, tmp_path: Path
) -> None:
    """A slow upload (up to ops.attachments_max_mb, as slowly as the client sends it) must not
    keep a pooled connection and an open transaction while it streams: thirty slow uploads
    would starve PostgreSQL's pool for every other request. The body is sent chunk by chunk
    (TestClient would read it whole first), and the pool is looked at before each chunk."""
    incident = open_incident(client, city.street_east_id)
    content = JPEG[:16] + os.urandom(600_000)
    boundary = "slow-upload-boundary"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="slow.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    checked_out: list[int] = []

    async def slowly() -> AsyncIterator[bytes]:
        yield head
        for offset in range(0, len(content), 64 * 1024):
            await anyio.sleep(0.01)
            checked_out.append(database.engine.pool.checkedout())  # type: ignore[attr-defined]
            yield content[offset : offset + 64 * 1024]
        yield f"\r\n--{boundary}--\r\n".encode()

    async def send() -> httpx2.Response:
        transport = httpx2.ASGITransport(app=client.app)
        async with httpx2.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=client.cookies
        ) as slow_client:
            return await slow_client.post(
                f"/api/incidents/{incident['id']}/attachments",
                content=slowly(),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )

    response = anyio.run(send)

    assert response.status_code == 201, response.text
    assert len(checked_out) == 10  # ten chunks, each read while the request was open
    assert set(checked_out) == {0}, checked_out  # no connection out meanwhile
    assert response.json()["sha256"] == hashlib.sha256(content).hexdigest()
    (stored,) = stored_files(tmp_path)
    assert stored.read_bytes() == content
    assert attachment_rows(database) == 1


def test_an_incident_out_of_sight_by_the_end_of_the_upload_keeps_nothing(
    signed_in: SignIn,
    city: City,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Access is checked before the body is read and again when the row is written: an
    incident reassigned away while the file streamed in answers 404 as it would have up front,
    and the stored file is removed."""
    incident = open_incident(signed_in("operator"), city.street_east_id)
    officer = signed_in("officer-east")
    real_write = attachments.AttachmentWriter.write

    def reassigned_meanwhile(self: attachments.AttachmentWriter, data: bytes) -> None:
        real_write(self, data)
        with database.session() as session:
            west = session.scalars(select(PoliceUnit).where(PoliceUnit.code == "unit-west")).one()
            session.execute(
                update(Incident).where(Incident.id == incident["id"]).values(police_unit_id=west.id)
            )

    monkeypatch.setattr(attachments.AttachmentWriter, "write", reassigned_meanwhile)

    refused = upload(officer, incident["id"], JPEG)

    assert refused.status_code == 404, refused.text
    assert refused.json()["detail"] == "no such incident, or not yours to see"
    assert stored_files(tmp_path) == []
    assert attachment_rows(database) == 0
    assert audit_entries(database, "incident.attachment.add") == []
    monkeypatch.undo()
    assert upload(signed_in("officer-west"), incident["id"], JPEG).status_code == 201
