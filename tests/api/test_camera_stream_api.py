"""The camera detail carries its stream's health (``camera_streams``): what the camera page shows
an operator about the video itself, next to the registry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from safecity.store.engine import Database
from safecity.video.models import CameraStream, StreamStatus
from tests.api.conftest import City

NOW = datetime(2026, 11, 27, 9, 3, 12, tzinfo=UTC)


def _add_stream(database: Database, camera_id: int, **fields: object) -> None:
    values: dict[str, object] = {
        "status": StreamStatus.ONLINE,
        "fps": 25.0,
        "bitrate_kbps": 4096.5,
        "width": 1920,
        "height": 1080,
        "codec": "h264",
        "last_packet_at": NOW - timedelta(seconds=1),
        "connected_since": NOW - timedelta(hours=6),
        "reconnects": 2,
        "gaps": 3,
        "recording": True,
        "updated_at": NOW,
    }
    values.update(fields)
    with database.session() as session:
        session.add(CameraStream(camera_id=camera_id, **values))


def test_a_camera_never_ingested_has_no_stream(
    city: City, signed_in: Callable[[str], TestClient]
) -> None:
    answer = signed_in("operator").get(f"/api/cameras/{city.street_east_id}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["stream"] is None


def test_the_detail_carries_the_stream_health(
    database: Database, city: City, signed_in: Callable[[str], TestClient]
) -> None:
    _add_stream(database, city.street_east_id)
    answer = signed_in("officer-east").get(f"/api/cameras/{city.street_east_id}")
    assert answer.status_code == 200, answer.text
    assert answer.json()["stream"] == {
        "status": "online",
        "detail": None,
        "fps": 25.0,
        "bitrate_kbps": 4096.5,
        "width": 1920,
        "height": 1080,
        "codec": "h264",
        "last_packet_at": "2026-11-27T09:03:11Z",
        "connected_since": "2026-11-27T03:03:12Z",
        "reconnects": 2,
        "gaps": 3,
        "recording": True,
        "analytics": None,
        "updated_at": "2026-11-27T09:03:12Z",
    }


def test_a_failing_stream_says_why(
    database: Database, city: City, signed_in: Callable[[str], TestClient]
) -> None:
    _add_stream(
        database,
        city.street_east_id,
        status=StreamStatus.UNAUTHORIZED,
        detail="the camera refused the user or password",
        fps=0.0,
        bitrate_kbps=0.0,
        connected_since=None,
        recording=False,
    )
    stream = signed_in("operator").get(f"/api/cameras/{city.street_east_id}").json()["stream"]
    assert stream["status"] == "unauthorized"
    assert stream["detail"] == "the camera refused the user or password"
    assert stream["connected_since"] is None
    assert stream["recording"] is False


def test_a_password_quoted_in_the_detail_is_hidden_from_everyone(
    database: Database, city: City, signed_in: Callable[[str], TestClient]
) -> None:
    detail = "InvalidDataError: [Errno 1] Invalid data: 'rtsp://viewer:s3cret@10.0.0.9:554/main'"
    _add_stream(database, city.street_west_id, status=StreamStatus.OFFLINE, detail=detail)
    for username in ("operator", "admin"):
        client = signed_in(username)
        shown = client.get(f"/api/cameras/{city.street_west_id}").json()["stream"]["detail"]
        assert "s3cret" not in shown
        assert "rtsp://viewer:***@10.0.0.9:554/main" in shown


def test_another_cameras_stream_is_not_shown_and_out_of_scope_is_404(
    database: Database, city: City, signed_in: Callable[[str], TestClient]
) -> None:
    _add_stream(database, city.street_west_id)
    client = signed_in("officer-east")
    assert client.get(f"/api/cameras/{city.street_east_id}").json()["stream"] is None
    assert client.get(f"/api/cameras/{city.street_west_id}").status_code == 404


def test_the_camera_list_stays_without_streams(
    database: Database, city: City, signed_in: Callable[[str], TestClient]
) -> None:
    _add_stream(database, city.street_east_id)
    items = signed_in("operator").get("/api/cameras").json()["items"]
    assert all("stream" not in item for item in items)
