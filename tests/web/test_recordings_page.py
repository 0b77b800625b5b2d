"""The camera page's video archive under headless Chromium: stream health, the day's timeline
of real recordings with its gaps, playback from a click, clip download, evidence export and
legal holds, each shown only to the roles that may use it.

The recordings are real fragmented MP4 made fast by tests/support/recording.py: yesterday (in
the city's time zone) 08:00–09:00 and 09:45–11:15, so the day has two ranges and three gaps
(before, between, after). The browser runs in New York while the city is Astana (UTC+5): every
time on screen must be the city's.

Screenshots land in test-artifacts/screenshots/: camera-recordings.png (1920 × 1080),
camera-recordings-1280.png (1280 × 800), camera-health.png and evidence-export.png.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.models import CameraHealth, OrganizationKind, PoliceUnit, SiteKind
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.video.ingest.synthetic import VideoSpec
from safecity.video.models import CameraStream, StreamStatus
from tests import factories as f
from tests.support.live_server import serve_app
from tests.support.recording import record, street_clip
from tests.web.conftest import TestPatternSnapshots as PatternSnapshots
from tests.web.conftest import Watched, watched_console
from tests.web.test_console_browser import screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CITY_ZONE = ZoneInfo("Asia/Almaty")
BROWSER_ZONE = "America/New_York"
WIDE: ViewportSize = {"width": 1920, "height": 1080}
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
SOURCE = VideoSpec(width=320, height=180, fps=5, seconds=120, gop_seconds=2)
CAMERA = "REC-01"  # recorded, healthy, at the water company's pumping station
REFUSED = "REC-02"  # the camera refuses the password in its URL
NEVER = "REC-03"  # never ingested
TIME_SHOWN = re.compile(r"Recorded (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})$")


@dataclass(frozen=True)
class ArchiveCity:
    url: str
    database: Database
    camera_ids: dict[str, int]
    day: date  # yesterday in the city
    ranges: list[tuple[datetime, datetime]]


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, clock(hour, minute), CITY_ZONE)


def _record_range(
    database: Database, media: Path, camera_id: int, source: Path, start: datetime, end: datetime
) -> None:
    """Back-to-back recordings of the 2-minute source: one continuous range on the timeline."""
    at = start
    while at < end:
        record(database, media, camera_id, CAMERA, source, at)
        at += timedelta(seconds=SOURCE.seconds)


def _build(database: Database) -> tuple[dict[str, int], date]:
    with database.session() as session:
        occ = f.add_organization(session, "astana-occ", OrganizationKind.OPERATOR_CENTER)
        water = f.add_organization(session, "astana-su-arnasy", OrganizationKind.UTILITY)
        police = f.add_organization(session, "astana-police", OrganizationKind.POLICE)
        district = f.add_district(session, "yesil", f.WEST)
        unit = PoliceUnit(code="yesil-1", name="Yesil unit 1", organization=police)
        unit.districts = [district]
        session.add(unit)
        station = f.add_site(
            session, "pump-3", district, owner=water, kind=SiteKind.UTILITY_FACILITY
        )
        station.name = "Pumping station No. 3"
        for username, role, org in [
            ("admin", Role.ADMIN, occ),
            ("operator", Role.OPERATOR, occ),
            ("analyst", Role.ANALYST, occ),
            ("water", Role.UTILITY, water),
        ]:
            f.add_user(session, username, role, org).full_name = f"{username.title()} User"
        officer = f.add_user(session, "officer", Role.POLICE_DUTY_OFFICER, police, unit)
        officer.full_name = "Officer Duty"
        ids: dict[str, int] = {}
        names = {CAMERA: "Pump hall entrance", REFUSED: "Fence, north", NEVER: "Gate"}
        for code, name in names.items():
            camera = f.add_camera(session, code, district, station)
            camera.name, camera.health = name, CameraHealth.ONLINE
            session.flush()
            ids[code] = camera.id
        now = datetime.now(UTC)
        session.add(
            CameraStream(
                camera_id=ids[CAMERA], status=StreamStatus.ONLINE, fps=25.0, bitrate_kbps=4096.0,
                width=1920, height=1080, codec="h264", last_packet_at=now,
                connected_since=now - timedelta(hours=6, minutes=12), reconnects=2, gaps=3,
                recording=True, updated_at=now,
            )
        )  # fmt: skip
        session.add(
            CameraStream(
                camera_id=ids[REFUSED], status=StreamStatus.UNAUTHORIZED,
                detail="the camera refused the user or password", reconnects=41,
                recording=False, updated_at=now,
            )
        )  # fmt: skip
    day = datetime.now(CITY_ZONE).date() - timedelta(days=1)
    return ids, day


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchiveCity]:
    """A pumping station's three cameras, one with a recorded day, served by the real app."""
    data_dir = tmp_path_factory.mktemp("archive-console")
    settings = Settings(data_dir=data_dir, timezone="Asia/Almaty")
    database = Database(f"sqlite:///{data_dir / 'safecity.db'}")
    migrate.upgrade(database)
    source = street_clip(data_dir / "clips", SOURCE, CAMERA)
    ids, day = _build(database)
    ranges = [(_at(day, 8), _at(day, 9)), (_at(day, 9, 45), _at(day, 11, 15))]
    for start, end in ranges:
        _record_range(database, settings.media_path, ids[CAMERA], source, start, end)

    app = create_app(settings, database, snapshots=PatternSnapshots({CAMERA}))
    try:
        with serve_app(app) as url:
            yield ArchiveCity(url, database, ids, day, ranges)
    finally:
        database.dispose()


@pytest.fixture
def console(browser: Browser, archive: ArchiveCity) -> Iterator[Watched]:
    """A fresh browser context in another time zone than the city's, watched for outside
    requests, CSP violations and script errors (as the console tests' fixture)."""
    with watched_console(browser, archive.url, viewport=WIDE, timezone_id=BROWSER_ZONE) as watched:
        yield watched


def open_camera(console: Watched, archive: ArchiveCity, username: str, code: str = CAMERA) -> Page:
    page = console.page
    console.goto(f"#/cameras/{archive.camera_ids[code]}")
    sign_in(page, username)
    expect(page.locator("#camera-code")).to_have_text(code)
    return page


def open_recorded_day(page: Page, archive: ArchiveCity) -> None:
    """Wait for today's (city) timeline, then step back to the recorded day."""
    today = archive.day + timedelta(days=1)
    expect(page.locator("#recordings")).to_have_attribute("data-ranges", re.compile(r"\d"))
    expect(page.locator("#rec-day")).to_have_value(today.isoformat())
    page.click("#rec-prev")
    expect(page.locator("#rec-day")).to_have_value(archive.day.isoformat())
    expect(page.locator("#recordings")).to_have_attribute("data-day", archive.day.isoformat())
    expect(page.locator("#timeline .tl-range")).to_have_count(2)


def click_timeline(page: Page, archive: ArchiveCity, when: datetime) -> None:
    box = page.locator("#timeline").bounding_box()
    assert box is not None
    share = (when - _at(archive.day, 0)) / timedelta(days=1)
    page.mouse.click(box["x"] + box["width"] * share, box["y"] + box["height"] / 2)


def shown_recorded_time(page: Page) -> datetime:
    found = TIME_SHOWN.match(page.locator("#rec-time").inner_text())
    assert found, page.locator("#rec-time").inner_text()
    return datetime.strptime(found[1], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CITY_ZONE)


def video_time(page: Page) -> float:
    return float(page.locator("#rec-video").evaluate("video => video.currentTime"))


def assert_plays_from(page: Page, expected: datetime, *, within: timedelta) -> None:
    """The recorded video moves, and the label says (in city time) what moment is on screen."""
    expect(page.locator("#rec-time")).to_have_text(TIME_SHOWN)
    page.wait_for_function(
        "() => { const v = document.querySelector('#rec-video');"
        " return !v.paused && v.readyState >= 3; }"
    )
    first_shown = shown_recorded_time(page)
    assert abs(first_shown - expected) <= within, (first_shown, expected)
    before = video_time(page)
    page.wait_for_timeout(1500)
    after = video_time(page)
    assert after - before > 0.8, (before, after)
    assert shown_recorded_time(page) - first_shown >= timedelta(seconds=1)


def test_the_timeline_shows_two_ranges_and_the_gaps_and_a_click_plays(
    console: Watched, archive: ArchiveCity, screenshots: Path
) -> None:
    page = open_camera(console, archive, "operator")
    open_recorded_day(page, archive)
    expect(page.locator("#timeline .tl-gap")).to_have_count(3)
    expect(page.locator("#rec-summary")).to_have_text("2 h 30 min recorded, 3 gaps")
    # Named when the server gives the zone's name, else learnt from where the server cut the day.
    expect(page.locator("#rec-zone")).to_have_text(
        re.compile(r"^Times in (Asia/Almaty|UTC\+05:00)$")
    )

    # Hovering says the time under the pointer and whether anything was recorded then.
    box = page.locator("#timeline").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * (9.375 / 24), box["y"] + 10)
    expect(page.locator("#timeline-tooltip")).to_have_text(re.compile(r"^09:2\d:\d\d · gap"))

    moment = _at(archive.day, 10, 30)
    click_timeline(page, archive, moment)
    expect(page.locator("#rec-idle")).to_be_hidden()
    assert_plays_from(page, moment, within=timedelta(minutes=2))
    expect(page.locator("#timeline .tl-window")).to_be_visible()
    expect(page.locator("#clip-from")).to_have_value(
        re.compile(rf"^{archive.day}[ T]10:(29|30|31)")
    )
    page.wait_for_timeout(300)
    page.evaluate("document.querySelector('#recordings').scrollIntoView({block: 'start'})")
    screenshot(page, screenshots / "camera-recordings.png")

    # A click in a gap plays from where the recording resumes, and says so.
    click_timeline(page, archive, _at(archive.day, 9, 20))
    expect(page.locator("#rec-note")).to_contain_text("playing from 09:45:00")
    assert_plays_from(page, _at(archive.day, 9, 45), within=timedelta(seconds=3))


def test_a_link_to_a_moment_opens_its_day_and_plays_from_it(
    console: Watched, archive: ArchiveCity
) -> None:
    """What an alert's or incident's camera link does: ``#/cameras/<id>?at=<ISO time>``."""
    moment = _at(archive.day, 10, 5)
    page = console.page
    console.goto(f"#/cameras/{archive.camera_ids[CAMERA]}?at={moment.astimezone(UTC).isoformat()}")
    sign_in(page, "operator")
    expect(page.locator("#rec-day")).to_have_value(archive.day.isoformat())
    assert_plays_from(page, moment, within=timedelta(seconds=15))


def test_the_timeline_works_from_the_keyboard_and_at_1280_by_800(
    console: Watched, archive: ArchiveCity, screenshots: Path
) -> None:
    page = open_camera(console, archive, "officer")
    page.set_viewport_size(LAPTOP)
    open_recorded_day(page, archive)
    page.focus("#rec-today")
    page.keyboard.press("Tab")  # the cursor starts where the day's recording starts
    expect(page.locator("#timeline")).to_be_focused()
    expect(page.locator("#timeline")).to_have_attribute("aria-valuetext", "08:00:00 · recorded")
    page.keyboard.press("PageDown")
    page.keyboard.press("Shift+ArrowRight")
    expect(page.locator("#timeline")).to_have_attribute(
        "aria-valuetext", "09:10:00 · gap: nothing recorded"
    )
    page.keyboard.press("PageDown")
    page.keyboard.press("Enter")
    assert_plays_from(page, _at(archive.day, 10, 10), within=timedelta(seconds=3))

    overflow = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.querySelector('.page-camera').scrollWidth,"
        " document.querySelector('.page-camera').clientWidth]"
    )
    assert overflow[0] <= LAPTOP["width"] and overflow[1] <= overflow[2], overflow
    page.evaluate("document.querySelector('#recordings').scrollIntoView({block: 'start'})")
    screenshot(page, screenshots / "camera-recordings-1280.png")


def test_at_the_end_of_a_recording_playback_offers_the_next(
    console: Watched, archive: ArchiveCity
) -> None:
    page = open_camera(console, archive, "operator")
    open_recorded_day(page, archive)
    page.focus("#rec-today")
    page.keyboard.press("Tab")
    page.keyboard.press("PageDown")  # 09:00, just after the first recording
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Enter")  # 08:59: its last minute
    assert_plays_from(page, _at(archive.day, 8, 59), within=timedelta(seconds=3))
    page.locator("#rec-video").evaluate("video => { video.playbackRate = 16; }")
    expect(page.locator("#rec-note")).to_contain_text(
        "The recording stops at 09:00:00.", timeout=15_000
    )
    page.click("#rec-resume")
    expect(page.locator("#rec-resume")).to_have_count(0)
    assert_plays_from(page, _at(archive.day, 9, 45), within=timedelta(seconds=3))


def test_a_clip_of_a_chosen_range_downloads(console: Watched, archive: ArchiveCity) -> None:
    page = open_camera(console, archive, "water")  # utility companies watch their own sites
    open_recorded_day(page, archive)
    page.fill("#clip-from", "yesterday 09:20")
    page.click("#clip-download")
    expect(page.locator("#clip-message")).to_have_text(
        "Give From and To as date and time, like 2026-11-27 14:03:00."
    )
    page.fill("#clip-from", f"{archive.day} 09:20:00")
    page.fill("#clip-to", f"{archive.day} 09:30:00")
    page.click("#clip-download")
    expect(page.locator("#clip-message")).to_have_text(
        f"Camera {CAMERA} has no recording between {archive.day} 09:20:00 and {archive.day} 09:30:00."
    )

    page.fill("#clip-from", f"{archive.day}T08:10:00")
    page.fill("#clip-to", f"{archive.day}T08:11:00")
    with page.expect_download() as download:
        page.click("#clip-download")
    assert download.value.suggested_filename.startswith(f"{CAMERA}_")
    assert download.value.suggested_filename.endswith(".mp4")
    # ...but they may not take evidence out, nor see the holds.
    expect(page.locator("#evidence")).to_have_count(0)
    expect(page.locator("#holds")).to_have_count(0)


def test_the_health_panel_shows_the_stream_and_keeps_it_current(
    console: Watched, archive: ArchiveCity, screenshots: Path
) -> None:
    page = open_camera(console, archive, "admin")
    health = page.locator("#stream-health")
    expect(page.locator("#stream-status")).to_have_text("Online")
    expect(page.locator("#stream-detail")).to_have_text("video is arriving")
    expect(health.locator('[data-field="fps"]')).to_have_text("25.0 fps")
    expect(health.locator('[data-field="bitrate"]')).to_have_text("4.1 Mbit/s")
    expect(health.locator('[data-field="picture"]')).to_have_text("1920 × 1080 · H.264")
    expect(health.locator('[data-field="last_packet"]')).to_have_text(re.compile(r"^\d+ s ago$"))
    expect(health.locator('[data-field="connected_since"]')).to_contain_text("(6 h ago)")
    expect(health.locator('[data-field="reconnects"]')).to_have_text("2")
    expect(health.locator('[data-field="gaps"]')).to_have_text("3")
    expect(health.locator('[data-field="recording"]')).to_have_text("On")
    page.wait_for_timeout(500)
    screenshot(page, screenshots / "camera-health.png")

    # The panel refreshes itself (every 5 s) while the page is open.
    with archive.database.session() as session:
        row = session.get(CameraStream, archive.camera_ids[CAMERA])
        assert row is not None
        row.fps, row.reconnects, row.updated_at = 12.5, 3, datetime.now(UTC)
    expect(health.locator('[data-field="fps"]')).to_have_text("12.5 fps", timeout=12_000)
    expect(health.locator('[data-field="reconnects"]')).to_have_text("3")

    console.goto(f"#/cameras/{archive.camera_ids[REFUSED]}")
    expect(page.locator("#stream-status")).to_have_text("Unauthorized")
    expect(page.locator("#stream-detail")).to_have_text("the camera refused the user or password")
    expect(page.locator(".stream-advice")).to_contain_text("Fix the user or password")
    expect(health.locator('[data-field="fps"]')).to_have_text("—")
    expect(health.locator('[data-field="recording"]')).to_have_text("Off")

    console.goto(f"#/cameras/{archive.camera_ids[NEVER]}")
    expect(page.locator("#stream-none")).to_contain_text("never received this camera's stream")
    expect(page.locator("#rec-none")).to_contain_text("No recordings of this camera are kept")
    expect(page.locator("#timeline")).to_be_hidden()


def test_evidence_export_creates_a_package_that_appears_in_the_list(
    console: Watched, archive: ArchiveCity, screenshots: Path
) -> None:
    page = open_camera(console, archive, "officer")
    open_recorded_day(page, archive)
    click_timeline(page, archive, _at(archive.day, 8, 20))
    expect(page.locator("#rec-time")).to_have_text(TIME_SHOWN)
    # The form follows the window being played.
    expect(page.locator("#evidence-from")).to_have_value(
        re.compile(rf"^{archive.day} 08:(19|20|21)")
    )
    expect(page.locator("#evidence-to")).to_have_value(re.compile(rf"^{archive.day} 08:(34|35|36)"))

    page.click("#evidence-submit")
    expect(page.locator("#evidence-message")).to_have_text(
        "Give a reason: the case or request number and what the video is for."
    )
    page.fill("#evidence-from", f"{archive.day} 09:10:00")
    page.fill("#evidence-to", f"{archive.day} 09:20:00")
    page.fill("#evidence-reason", "Case 2026-114, court request 77")
    page.click("#evidence-submit")
    expect(page.locator("#evidence-message")).to_have_text(re.compile(r"^Not exported: \S"))
    expect(page.locator("#evidence-result")).to_be_hidden()

    page.fill("#evidence-from", f"{archive.day} 08:20:00")
    page.fill("#evidence-to", f"{archive.day} 08:21:00")
    page.click("#evidence-submit")
    result = page.locator("#evidence-result")
    expect(result).to_be_visible(timeout=20_000)
    key = page.request.get(f"{archive.url}/api/evidence/public-key").json()
    expect(page.locator("#evidence-fingerprint")).to_have_text(key["fingerprint_sha256"])
    expect(result.locator('[data-field="range"]')).to_contain_text(f"{archive.day} 08:2")
    rows = page.locator("#evidence-list .evidence-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Case 2026-114, court request 77")
    expect(rows.first).to_contain_text("officer")
    # The export pinned its recordings with a hold.
    pinned = page.locator("#hold-list .hold-item", has_text="Case 2026-114, court request 77")
    expect(pinned).to_have_count(1)
    expect(pinned).to_contain_text("Evidence")
    with page.expect_download() as download:
        page.click("#evidence-download")
    assert download.value.suggested_filename.startswith("evidence-")
    page.evaluate("document.querySelector('#evidence').scrollIntoView({block: 'center'})")
    screenshot(page, screenshots / "evidence-export.png")


def test_holds_are_placed_and_released_by_the_occ(
    console: Watched, archive: ArchiveCity, screenshots: Path
) -> None:
    page = open_camera(console, archive, "operator")
    open_recorded_day(page, archive)
    items = page.locator("#hold-list .hold-item")
    expect(page.locator("#hold-list")).to_have_attribute("data-count", re.compile(r"^\d+$"))
    before = items.count()
    page.fill("#hold-from", f"{archive.day} 10:00:00")
    page.fill("#hold-to", f"{archive.day} 10:30:00")
    page.fill("#hold-reason", "Fight reported\u202e at the gate")  # a bidi override
    page.click("#hold-submit")
    expect(page.locator("#hold-form-message")).to_have_text(
        "Not placed: Reason: must be text without control characters."
    )
    page.fill("#hold-reason", "Fight reported at the gate")
    page.fill("#hold-reference", "INC-2026-5512")
    page.click("#hold-submit")
    expect(items).to_have_count(before + 1)
    placed = items.filter(has_text="INC-2026-5512")
    expect(placed).to_contain_text("Manual")
    expect(placed).to_contain_text(f"{archive.day} 10:00:00 – 10:30:00")
    placed.get_by_role("button", name="Release").click()
    confirm = placed.get_by_role("button", name="Confirm release")
    confirm.click()
    expect(page.locator("#hold-message")).to_contain_text("Say why the hold is released")
    expect(placed.locator(".badge")).to_have_text("Active")
    placed.locator(".hold-release-reason").fill("Case closed by the court")
    page.evaluate("document.querySelector('#holds').scrollIntoView({block: 'center'})")
    screenshot(page, screenshots / "hold-release-reason.png")
    confirm.click()
    expect(placed.locator(".badge")).to_have_text("Released")
    expect(placed).to_contain_text("Case closed by the court")
    screenshot(page, screenshots / "hold-released.png")


def test_an_analyst_sees_the_health_but_no_video(console: Watched, archive: ArchiveCity) -> None:
    page = open_camera(console, archive, "analyst")
    expect(page.locator("#stream-status")).to_have_text("Online")
    expect(page.locator("#live-not-for-role")).to_be_visible()
    expect(page.locator("video")).to_have_count(0)
    expect(page.locator("#camera-fields")).to_be_visible()
    expect(page.locator("#recordings")).to_have_count(0)
    expect(page.locator("#evidence")).to_have_count(0)
    expect(page.locator("#holds")).to_have_count(0)
