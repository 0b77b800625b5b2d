"""Live video in the console under headless Chromium: real H.264 played at real time into live
feeds, remuxed to fragmented MP4 and played by the page with Media Source Extensions.

Screenshots land in test-artifacts/screenshots/: live-detail.png, wall.png, wall-3x3.png and
wall-picked.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.models import CameraHealth, OrganizationKind, SiteKind
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.video.ingest.synthetic import VideoJob, VideoSpec, write_street_videos
from safecity.video.ingest.worker import IngestWorker
from safecity.video.live.feed import LiveFeed
from tests import factories as f
from tests.support.live_server import serve_app
from tests.web.conftest import Watched, watched_console
from tests.web.test_console_browser import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SPEC = VideoSpec(width=640, height=360, fps=15, seconds=6, gop_seconds=1)
PARK_CAMERAS = ["PARK-01", "PARK-02", "PARK-03", "PARK-04", "PARK-05", "PARK-06", "PARK-07"]
CAMERA_NAMES = [
    "North gate",
    "Fountain",
    "Playground",
    "East alley",
    "Skate park",
    "South gate",
    "Car park",
]
STREAMING = PARK_CAMERAS[:5]
SILENT = "PARK-06"  # ingested, but the camera is not sending: offline
NOT_INGESTED = "PARK-07"  # no live feed on this server at all


@dataclass(frozen=True)
class LiveCity:
    url: str
    camera_ids: dict[str, int]
    site_id: int


class Feeds:
    def __init__(self, codes: list[str]) -> None:
        self.feeds = {code: LiveFeed(code) for code in codes}

    def live_feed(self, camera_code: str) -> LiveFeed | None:
        return self.feeds.get(camera_code)


@pytest.fixture(scope="module")
def live_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCity]:
    """A park with seven cameras, five of them streaming live, served by the real app."""
    data_dir = tmp_path_factory.mktemp("live-console")
    database = Database(f"sqlite:///{data_dir / 'safecity.db'}")
    migrate.upgrade(database)
    with database.session() as session:
        occ = f.add_organization(session, "astana-occ", OrganizationKind.OPERATOR_CENTER)
        occ.name = "Astana OCC"
        admin = f.add_user(session, "admin", Role.ADMIN, occ)
        admin.full_name = "Aigerim Bekova"
        district = f.add_district(session, "yesil", f.WEST)
        park = f.add_site(session, "central-park", district)
        park.name, park.kind = "Central Park", SiteKind.PARK
        camera_ids = {}
        for code, name in zip(PARK_CAMERAS, CAMERA_NAMES, strict=True):
            camera = f.add_camera(session, code, district, park)
            camera.name, camera.health = name, CameraHealth.ONLINE
            session.flush()
            camera_ids[code] = camera.id
        site_id = park.id

    clips = write_street_videos(
        [VideoJob(data_dir / f"{code}.mp4", code, seed) for seed, code in enumerate(STREAMING)],
        SPEC,
    )
    feeds = Feeds([*STREAMING, SILENT])
    streams = [
        IngestWorker(code, clip.as_uri(), [feeds.feeds[code]])
        for clip, code in zip(clips, STREAMING, strict=True)
    ]
    for stream in streams:
        stream.start()
    app = create_app(Settings(data_dir=data_dir), database, live=feeds)
    try:
        with serve_app(app) as url:
            yield LiveCity(url, camera_ids, site_id)
    finally:
        for stream in streams:
            stream.stop()
        database.dispose()


@pytest.fixture
def console(browser: Browser, live_city: LiveCity) -> Iterator[Watched]:
    """A fresh browser context on the console, watched for outside requests, CSP violations
    and script errors (as the console tests' fixture of the same name)."""
    with watched_console(browser, live_city.url) as watched:
        yield watched


def playing_times(videos: Locator) -> list[float]:
    times = videos.evaluate_all("videos => videos.map(video => video.currentTime)")
    return [float(seconds) for seconds in times]


def assert_playing(page: Page, videos: Locator, count: int) -> None:
    """Every video is live and its playhead moves: real MSE playback, not a still picture."""
    expect(videos).to_have_count(count)
    expect(page.locator('.live-player[data-state="live"]')).to_have_count(count, timeout=15_000)
    before = playing_times(videos)
    page.wait_for_timeout(1500)
    after = playing_times(videos)
    assert all(later - earlier > 0.8 for earlier, later in zip(before, after, strict=True)), (
        before,
        after,
    )
    # At the live edge: what is on screen is within a second of the newest frame received.
    lags = videos.evaluate_all(
        "videos => videos.map(v => v.buffered.end(v.buffered.length - 1) - v.currentTime)"
    )
    assert all(lag < 1.0 for lag in lags), lags


def test_camera_page_plays_the_live_stream(
    console: Watched, live_city: LiveCity, screenshots: Path
) -> None:
    page = console.page
    camera_id = live_city.camera_ids["PARK-02"]
    console.goto(f"#/cameras/{camera_id}")
    sign_in(page, "admin")
    expect(page.locator("#camera-code")).to_have_text("PARK-02")
    player = page.locator("#camera-live .live-player")
    assert_playing(page, player.locator("video"), 1)
    expect(player.locator(".live-badge")).to_have_text("Live")
    expect(page.locator("#camera-snapshot")).to_have_count(0)  # live video, not snapshots
    screenshot(page, screenshots / "live-detail.png")


def test_wall_shows_a_site_in_a_grid_of_four_and_says_what_did_not_fit(
    console: Watched, live_city: LiveCity, screenshots: Path
) -> None:
    page = console.page
    console.goto(f"#/wall?site={live_city.site_id}&grid=4")
    sign_in(page, "admin")
    expect(page.locator("nav .nav-link.active")).to_have_text("Video wall")
    tiles = page.locator("#wall-grid .wall-tile")
    expect(tiles).to_have_count(4)
    assert_playing(page, page.locator("#wall-grid video"), 4)
    expect(page.locator("#wall-note")).to_have_text(
        "4 of 7 cameras at Central Park shown · 3 left out: choose a larger grid"
    )
    expect(page.locator("#wall-grid-4")).to_have_attribute("aria-pressed", "true")
    expect(tiles.first.locator(".live-name")).to_have_text("PARK-01 · North gate")
    page.wait_for_timeout(500)
    screenshot(page, screenshots / "wall.png")

    page.click("#wall-grid-9")  # all seven fit now, two slots stay empty
    expect(page.locator("#wall-grid .live-player")).to_have_count(7)
    expect(page.locator("#wall-grid .wall-empty")).to_have_count(2)
    expect(page.locator("#wall-note")).to_have_text("7 cameras at Central Park")
    expect(page.locator('.live-player[data-state="live"]')).to_have_count(5, timeout=15_000)
    silent = page.locator(f'.live-player[data-camera-id="{live_city.camera_ids[SILENT]}"]')
    expect(silent).to_have_attribute("data-state", "offline")
    expect(silent.locator(".live-message")).to_contain_text("not sending video")
    absent = page.locator(f'.live-player[data-camera-id="{live_city.camera_ids[NOT_INGESTED]}"]')
    expect(absent).to_have_attribute("data-state", "unavailable")
    expect(absent.locator(".live-badge")).to_have_text("No live stream")
    page.wait_for_timeout(500)
    screenshot(page, screenshots / "wall-3x3.png")


def test_cameras_ticked_in_the_list_open_on_the_wall(
    console: Watched, live_city: LiveCity, screenshots: Path
) -> None:
    page = console.page
    console.goto("#/cameras")
    sign_in(page, "admin")
    expect(page.locator("#camera-table tr.camera-row")).to_have_count(len(PARK_CAMERAS))
    for code in ("PARK-03", "PARK-05"):
        page.locator(f'input.wall-pick[data-camera-id="{live_city.camera_ids[code]}"]').check()
    expect(page.locator("#wall-picked")).to_have_text("2 of 16 picked")
    page.click("#open-wall")

    expect(page).to_have_url(re.compile(r"#/wall\?cameras=\d+(%2C|,)\d+$"))
    expect(page.locator("#wall-grid .wall-tile")).to_have_count(4)  # the smallest grid: 2 × 2
    assert_playing(page, page.locator("#wall-grid video"), 2)
    names = page.locator("#wall-grid .live-name").all_inner_texts()
    assert names == ["PARK-03 · Playground", "PARK-05 · Skate park"]
    page.wait_for_timeout(500)
    screenshot(page, screenshots / "wall-picked.png")

    # The navigation link comes back to the same wall.
    page.click("nav >> text=Cameras")
    page.click("nav >> text=Video wall")
    expect(page.locator("#wall-grid .live-name")).to_have_count(2)
