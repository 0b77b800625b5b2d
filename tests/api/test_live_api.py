"""The live view WebSocket: who may open it, and what it sends, fed by a real H.264 stream."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.testclient import WebSocketTestSession

from safecity.api.app import create_app
from safecity.api.scoped import NOT_FOUND
from safecity.audit.models import AuditEntry
from safecity.auth.roles import Role
from safecity.settings import Settings
from safecity.store.engine import Database
from safecity.video.ingest.synthetic import VideoJob, VideoSpec, write_street_video
from safecity.video.live import api as live_api
from safecity.video.live.feed import LiveFeed
from tests import factories as f
from tests.api.conftest import City
from tests.support.players import FilePlayer

SPEC = VideoSpec(width=320, height=180, fps=15, seconds=2, gop_seconds=1)  # keyframes at 0, 15
WEST_STREET = "W-STREET"


class Feeds:
    """The video node's side of the app, as a dict: the live feeds of the cameras it ingests."""

    def __init__(self, *codes: str) -> None:
        self.feeds = {code: LiveFeed(code) for code in codes}

    def live_feed(self, camera_code: str) -> LiveFeed | None:
        return self.feeds.get(camera_code)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_street_video(
        VideoJob(tmp_path_factory.mktemp("live-api") / "W-STREET.mp4", WEST_STREET, 5), SPEC
    )


@pytest.fixture
def feeds() -> Feeds:
    return Feeds(WEST_STREET)


@pytest.fixture
def client(database: Database, city: City, tmp_path: Path, feeds: Feeds) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path), database, live=feeds)
    with TestClient(app) as test_client:
        yield test_client


def sign_in(client: TestClient, username: str) -> None:
    response = client.post("/api/auth/login", json={"username": username, "password": f.PASSWORD})
    assert response.status_code == 200, response.text


def wait_for_viewers(feed: LiveFeed, count: int) -> None:
    deadline = time.monotonic() + 5
    while feed.viewers != count:
        assert time.monotonic() < deadline, f"{feed.viewers} viewers, expected {count}"
        time.sleep(0.01)


def closed_with(ws: WebSocketTestSession) -> tuple[int, str]:
    """The code and reason the server closes with next."""
    message = ws.receive()
    assert message["type"] == "websocket.close", message
    return message["code"], message["reason"]


def receive_init(ws: WebSocketTestSession) -> tuple[dict[str, Any], bytes]:
    header = ws.receive_json()
    assert header["type"] == "init", header
    return header, ws.receive_bytes()


def decoded_frames(data: bytes) -> int:
    with av.open(io.BytesIO(data), "r") as container:
        return sum(1 for _ in container.decode(video=0))


def test_operator_gets_the_init_segment_then_a_fragment_per_frame(
    client: TestClient, city: City, feeds: Feeds, clip: Path
) -> None:
    feed = feeds.feeds[WEST_STREET]
    player = FilePlayer(clip, feed, WEST_STREET)
    player.open()
    sign_in(client, "operator")
    with client.websocket_connect(f"/api/cameras/{city.street_west_id}/live") as ws:
        wait_for_viewers(feed, 1)
        player.send()  # the test's thread is the camera's ingest thread
        header, init = receive_init(ws)
        assert header == {"type": "init", "codec": "avc1.64000c", "width": 320, "height": 180}
        assert init[4:8] == b"ftyp"
        parts = [ws.receive_bytes() for _ in range(SPEC.frames - 1)]
        assert all(part[4:8] == b"moof" for part in parts)
        assert decoded_frames(init + b"".join(parts)) == SPEC.frames - 1

        player.close()
        assert ws.receive_bytes()[4:8] == b"moof"  # the last frame, flushed on close
        assert ws.receive_json() == {"type": "offline"}
    wait_for_viewers(feed, 0)  # leaving unsubscribes: the muxer stops with the next packet


def test_watching_live_is_audited_once_per_connection(
    client: TestClient, city: City, feeds: Feeds, database: Database
) -> None:
    sign_in(client, "operator")
    with client.websocket_connect(f"/api/cameras/{city.street_west_id}/live"):
        wait_for_viewers(feeds.feeds[WEST_STREET], 1)
    sign_in(client, "water")
    with client.websocket_connect(f"/api/cameras/{city.street_west_id}/live") as ws:
        assert closed_with(ws)[0] == 4404
    with database.session() as session:
        views = session.scalars(select(AuditEntry).where(AuditEntry.action == "video.live")).all()
        assert [(v.actor, v.target, v.details) for v in views] == [
            ("operator", f"camera:{city.street_west_id}", {"camera": WEST_STREET})
        ], "a refused attempt is not a view"


def test_timing_messages_say_when_each_frame_arrived(
    client: TestClient, city: City, feeds: Feeds, clip: Path
) -> None:
    feed = feeds.feeds[WEST_STREET]
    player = FilePlayer(clip, feed, WEST_STREET)
    player.open()
    sign_in(client, "admin")
    with client.websocket_connect(f"/api/cameras/{city.street_west_id}/live?timing=1") as ws:
        wait_for_viewers(feed, 1)
        player.send(4)
        receive_init(ws)
        for index in range(3):
            timing = ws.receive_json()
            assert timing == {
                "type": "t",
                "pts": pytest.approx(index / SPEC.fps),
                "arrived": player.sent[index].arrived,
            }
            assert ws.receive_bytes()[4:8] == b"moof"
    player.close()


def test_a_reconnecting_camera_resets_the_viewer(
    client: TestClient, city: City, feeds: Feeds, clip: Path
) -> None:
    feed = feeds.feeds[WEST_STREET]
    player = FilePlayer(clip, feed, WEST_STREET)
    sign_in(client, "admin")
    with client.websocket_connect(f"/api/cameras/{city.street_west_id}/live") as ws:
        wait_for_viewers(feed, 1)
        assert ws.receive_json() == {"type": "offline"}  # not connected yet
        player.open()
        player.send(2)
        receive_init(ws)
        ws.receive_bytes()
        player.close()
        ws.receive_bytes()
        assert ws.receive_json() == {"type": "offline"}
        player.open()
        player.send(2)
        assert ws.receive_json() == {"type": "reset"}
        receive_init(ws)
        assert ws.receive_bytes()[4:8] == b"moof"
    player.close()


def test_anonymous_viewer_is_refused_with_4401(client: TestClient, city: City) -> None:
    with client.websocket_connect(f"/api/cameras/{city.street_west_id}/live") as ws:
        assert closed_with(ws) == (4401, "sign in first")


def test_camera_outside_the_scope_is_refused_like_a_missing_one(
    client: TestClient, city: City
) -> None:
    sign_in(client, "water")  # the water company sees only its pump station's camera
    for camera_id in (city.street_west_id, 999_999):
        with client.websocket_connect(f"/api/cameras/{camera_id}/live") as ws:
            assert closed_with(ws) == (4404, NOT_FOUND)


def test_an_analyst_sees_cameras_on_the_map_not_through_them(
    client: TestClient, city: City, database: Database
) -> None:
    with database.session() as session:
        f.add_user(session, "analyst", Role.ANALYST)
    sign_in(client, "analyst")
    with client.websocket_connect(f"/api/cameras/{city.street_west_id}/live") as ws:
        assert closed_with(ws) == (4403, "your role may not watch live video")
    assert client.get(f"/api/cameras/{city.street_west_id}/snapshot.jpg").status_code == 403
    assert client.get(f"/api/cameras/{city.street_west_id}").status_code == 200, "on the map"


def test_camera_without_a_live_feed_is_closed_with_4503(client: TestClient, city: City) -> None:
    sign_in(client, "water")
    with client.websocket_connect(f"/api/cameras/{city.water_camera_id}/live") as ws:
        assert closed_with(ws) == (4503, "no live stream of this camera on this server")


def test_bearer_token_opens_the_live_view(
    client: TestClient, city: City, feeds: Feeds, clip: Path
) -> None:
    token = client.post(
        "/api/auth/login", json={"username": "admin", "password": f.PASSWORD, "issue_token": True}
    ).json()["token"]
    client.cookies.clear()
    player = FilePlayer(clip, feeds.feeds[WEST_STREET], WEST_STREET)
    player.open()
    with client.websocket_connect(
        f"/api/cameras/{city.street_west_id}/live", headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        wait_for_viewers(feeds.feeds[WEST_STREET], 1)
        player.send(2)
        assert receive_init(ws)[0]["codec"] == "avc1.64000c"
    player.close()


def test_a_page_on_another_site_cannot_borrow_the_session(client: TestClient, city: City) -> None:
    sign_in(client, "admin")
    with client.websocket_connect(
        f"/api/cameras/{city.street_west_id}/live", headers={"Origin": "https://evil.example"}
    ) as ws:
        code, _ = closed_with(ws)
        assert code == 4403


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"Origin": "https://cams.city.example", "Sec-Fetch-Site": "same-site"}, 4403),
        # behind a proxy that rewrites Host, the browser's own word decides
        ({"Origin": "https://occ.city.example:8443", "Sec-Fetch-Site": "same-origin"}, 4503),
    ],
)
def test_the_browser_says_whether_a_page_is_the_consoles(
    client: TestClient, city: City, headers: dict[str, str], code: int
) -> None:
    sign_in(client, "water")
    with client.websocket_connect(
        f"/api/cameras/{city.water_camera_id}/live", headers={**headers, "Host": "occ.city.example"}
    ) as ws:
        assert closed_with(ws)[0] == code  # 4503: let in, and this test server has no feed


def test_signing_out_ends_an_open_live_view(
    client: TestClient, city: City, feeds: Feeds, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live_api, "RECHECK_SECONDS", 0.05)
    sign_in(client, "admin")
    with client.websocket_connect(f"/api/cameras/{city.street_west_id}/live") as ws:
        assert ws.receive_json() == {"type": "offline"}
        client.post("/api/auth/logout")
        assert closed_with(ws) == (4401, "sign in first")
    wait_for_viewers(feeds.feeds[WEST_STREET], 0)
