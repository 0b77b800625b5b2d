"""The console under a real browser: a city of 1,100+ cameras in a temporary SQLite database,
served by the real app from a background thread, driven by the system's headless Chromium.

Chromium is the Debian package at /usr/bin/chromium, never a `playwright install` download.
Without it these tests are skipped with the reason, except under CI=true, where a missing
browser fails the run instead of hiding it.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    ViewportSize,
    expect,
    sync_playwright,
)
from shapely.geometry import Point, shape
from sqlalchemy.orm import Session

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.models import (
    Camera,
    CameraHealth,
    CameraStatus,
    District,
    OrganizationKind,
    SiteKind,
)
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from tests import factories as f
from tests.support.live_server import serve_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() == "true"
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
VIEWPORT: ViewportSize = {"width": 1600, "height": 900}

# The city: a 3 × 2 grid of cells near Astana with wavy shared borders; the two southern-east
# cells form one district, so not every district is a quadrilateral.
WEST_LON, NORTH_LAT = 71.30, 51.22
CELL_LON, CELL_LAT = 0.10, 0.07
DISTRICTS: list[tuple[str, str, list[tuple[int, int]], int]] = [
    # code, camera-code prefix, lattice corners clockwise from north-west, cameras
    ("saryarka", "SAR", [(0, 0), (1, 0), (1, 1), (0, 1)], 214),
    ("baikonyr", "BAI", [(1, 0), (2, 0), (2, 1), (1, 1)], 187),
    ("almaty", "ALM", [(2, 0), (3, 0), (3, 1), (2, 1)], 241),
    ("yesil", "YES", [(0, 1), (1, 1), (1, 2), (0, 2)], 268),
    ("nura", "NUR", [(1, 1), (2, 1), (3, 1), (3, 2), (2, 2), (1, 2)], 194),
]
STREETS = [
    "Kabanbay Batyr Ave", "Turan Ave", "Mangilik El Ave", "Kenesary St", "Respublika Ave",
    "Abai Ave", "Saryarka Ave", "Bogenbay Batyr Ave", "Seifullin St", "Beibitshilik St",
    "Tauelsizdik Ave", "Syganak St", "Dostyk St", "Sauran St", "Akmeshit St", "Kunaev St",
    "Orynbor St", "Zhenis Ave", "Imanov St", "Auezov St", "Kazhymukan St", "Ualikhanov St",
]  # fmt: skip
SITES: list[tuple[SiteKind, str]] = [
    (SiteKind.PARK, "Central Park"),
    (SiteKind.SCHOOL, "School No. 12"),
    (SiteKind.MARKET, "Shapagat Market"),
    (SiteKind.TRANSPORT_HUB, "Nurly Zhol Station"),
    (SiteKind.SQUARE, "Independence Square"),
    (SiteKind.HOSPITAL, "City Hospital No. 2"),
    (SiteKind.YARD, "Residential yard, block 7"),
    (SiteKind.PARK, "Botanical Garden"),
    (SiteKind.TRANSPORT_HUB, "Sayakhat Bus Terminal"),
    (SiteKind.SCHOOL, "Lyceum No. 3"),
]
VENDORS = [
    ("Hikvision", "DS-2CD2387G2-LU", "V5.7.3 build 220112"),
    ("Dahua", "IPC-HFW5442E-ZE", "V2.820.0000000.5.R"),
    ("Axis", "P1465-LE", "10.12.182"),
    ("Hanwha", "XNO-8080R", "2.21.02"),
    ("Uniview", "IPC2328SB-DZK", "GIPC-B6202.11.5"),
]


@dataclass(frozen=True)
class CameraFacts:
    id: int
    code: str
    district_id: int


@dataclass(frozen=True)
class City:
    """What the tests need to know about the city they look at."""

    district_ids: dict[str, int]
    cameras_per_district: dict[int, int]
    camera_count: int
    live_camera: CameraFacts  # has a live picture; stands apart on the map so it can be clicked
    dark_camera: CameraFacts  # no live picture
    utility_camera_ids: frozenset[int]  # the water company's cameras
    outside_utility: CameraFacts  # a camera the water company may not see
    admin_name: str
    utility_name: str


@dataclass(frozen=True)
class LiveServer:
    url: str
    city: City


# --- building the city -------------------------------------------------------------------------


def _vertex(i: int, j: int) -> tuple[float, float]:
    """A lattice corner, nudged so borders are not a chessboard (same nudge for every caller)."""
    rng = random.Random(f"vertex-{i}-{j}")
    return (
        WEST_LON + i * CELL_LON + rng.uniform(-0.012, 0.012),
        NORTH_LAT - j * CELL_LAT + rng.uniform(-0.008, 0.008),
    )


def _edge(a: tuple[int, int], b: tuple[int, int]) -> list[tuple[float, float]]:
    """Points from corner a up to (not including) b, with a wiggle both neighbours share."""
    first, last = sorted([a, b])
    rng = random.Random(f"edge-{first}-{last}")
    start, end = _vertex(*first), _vertex(*last)
    horizontal = first[1] == last[1]
    points = [start]
    for step in range(1, 5):
        t = step / 5
        lon = start[0] + (end[0] - start[0]) * t
        lat = start[1] + (end[1] - start[1]) * t
        if horizontal:
            lat += rng.uniform(-0.004, 0.004)
        else:
            lon += rng.uniform(-0.006, 0.006)
        points.append((lon, lat))
    return points if (first, last) == (a, b) else [end, *reversed(points[1:])]


def _polygon(corners: list[tuple[int, int]]) -> dict[str, Any]:
    ring: list[tuple[float, float]] = []
    for index, corner in enumerate(corners):
        ring.extend(_edge(corner, corners[(index + 1) % len(corners)]))
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [[[lon, lat] for lon, lat in reversed(ring)]]}


class _Placer:
    """Random camera positions inside a district, along a few avenues, away from reserved spots."""

    def __init__(self, geometry: dict[str, Any], rng: random.Random) -> None:
        self.area = shape(geometry)
        self.rng = rng
        west, south, east, north = self.area.bounds
        self.bounds = (west, south, east, north)
        self.avenues = [
            (rng.uniform(west, east), rng.uniform(south, north), rng.uniform(0, 3.14))
            for _ in range(4)
        ]
        self.reserved: list[tuple[float, float, float]] = []

    def reserve(self, lon: float, lat: float, radius: float) -> None:
        self.reserved.append((lon, lat, radius))

    def _free(self, lon: float, lat: float) -> bool:
        inside = self.area.contains(Point(lon, lat))
        return inside and all((lon - x) ** 2 + (lat - y) ** 2 > r**2 for x, y, r in self.reserved)

    def near(self, lon: float, lat: float, spread: float) -> tuple[float, float]:
        for _ in range(200):
            candidate = (lon + self.rng.gauss(0, spread), lat + self.rng.gauss(0, spread * 0.65))
            if self._free(*candidate):
                return candidate
        return self.anywhere()

    def anywhere(self) -> tuple[float, float]:
        west, south, east, north = self.bounds
        while True:
            if self.rng.random() < 0.6:
                x, y, angle = self.rng.choice(self.avenues)
                t = self.rng.uniform(-0.08, 0.08)
                lon = x + t * np.cos(angle) + self.rng.gauss(0, 0.0012)
                lat = y + t * np.sin(angle) * 0.65 + self.rng.gauss(0, 0.0008)
            else:
                lon, lat = self.rng.uniform(west, east), self.rng.uniform(south, north)
            if self._free(lon, lat):
                return float(lon), float(lat)


def _registry_fields(rng: random.Random, code: str, octet: int) -> dict[str, Any]:
    vendor, model, firmware = rng.choice(VENDORS)
    host = f"10.{octet}.{rng.randint(0, 255)}.{rng.randint(2, 254)}"
    return {
        "vendor": vendor,
        "model": model,
        "firmware": firmware,
        "installed_at": date(2019, 1, 1) + timedelta(days=rng.randint(0, 6 * 365)),
        "main_stream_url": f"rtsp://viewer:Vw-{code}@{host}:554/Streaming/Channels/101",
        "sub_stream_url": f"rtsp://viewer:Vw-{code}@{host}:554/Streaming/Channels/102",
    }


def _set_state(camera: Camera, rng: random.Random, now: datetime, *, offline: bool) -> None:
    roll = rng.random()
    if offline or roll < 0.07:
        camera.health = CameraHealth.OFFLINE
        camera.last_seen_at = now - timedelta(seconds=rng.randint(600, 3 * 86400))
    elif roll < 0.09:
        camera.status = CameraStatus.MAINTENANCE
        camera.health = CameraHealth.OFFLINE
        camera.last_seen_at = now - timedelta(hours=rng.randint(2, 30))
    elif roll < 0.10:
        camera.status = CameraStatus.PLANNED
    elif roll < 0.14:
        camera.health = CameraHealth.UNKNOWN
    else:
        camera.health = CameraHealth.ONLINE
        camera.last_seen_at = now - timedelta(seconds=rng.randint(1, 40))


def _add_camera(
    session: Session,
    code: str,
    district: District,
    position: tuple[float, float],
    rng: random.Random,
    octet: int,
    now: datetime,
    *,
    name: str,
    site: Any = None,
    offline: bool = False,
) -> Camera:
    camera = f.add_camera(session, code, district, site)
    camera.longitude, camera.latitude = position
    camera.name = name
    street = rng.choice(STREETS)
    camera.address = f"{street} {rng.randint(1, 140)}"
    for key, value in _registry_fields(rng, code, octet).items():
        setattr(camera, key, value)
    _set_state(camera, rng, now, offline=offline)
    return camera


def build_city(database: Database) -> City:
    rng = random.Random(20240607)
    now = datetime.now(UTC)
    with database.session() as session:
        occ = f.add_organization(session, "astana-occ", OrganizationKind.OPERATOR_CENTER)
        occ.name = "Astana OCC"
        water = f.add_organization(session, "astana-su-arnasy", OrganizationKind.UTILITY)
        water.name = "Astana Su Arnasy"
        admin = f.add_user(session, "admin", Role.ADMIN, occ)
        admin.full_name = "Aigerim Bekova"
        utility = f.add_user(session, "water", Role.UTILITY, water)
        utility.full_name = "Daniyar Seitkali"
        analyst = f.add_user(session, "analyst", Role.ANALYST, occ)
        analyst.full_name = "Saule Omarova"

        district_ids: dict[str, int] = {}
        counts: dict[int, int] = {}
        cameras: dict[str, list[Camera]] = {}
        utility_ids: set[int] = set()
        site_number = 0
        for octet, (code, prefix, corners, total) in enumerate(DISTRICTS, start=1):
            geometry = _polygon(corners)
            district = f.add_district(session, code, shape(geometry).bounds)
            district.geometry = geometry  # wavy borders instead of the factory's square
            session.flush()
            district_ids[code] = district.id
            placer = _Placer(district.geometry, rng)
            centre = placer.area.representative_point()
            # A clear spot for the camera the tests click on, so no neighbour covers its dot.
            placer.reserve(centre.x, centre.y, 0.006)
            made: list[Camera] = []

            def number(made: list[Camera] = made, prefix: str = prefix) -> str:
                return f"{prefix}-{len(made) + 1:04d}"

            if code == "yesil":
                made.append(
                    _add_camera(
                        session,
                        number(),
                        district,
                        (centre.x, centre.y),
                        rng,
                        octet,
                        now,
                        name="Mangilik El Ave / Turan Ave — north-east",
                    )
                )
                made[0].status, made[0].health = CameraStatus.ACTIVE, CameraHealth.ONLINE
                made[0].last_seen_at = now
            owned = {"yesil": "Pumping station No. 3", "nura": "Water treatment plant"}
            site_specs = [SITES[(site_number + k) % len(SITES)] for k in range(3)]
            if code in owned:
                site_specs.append((SiteKind.UTILITY_FACILITY, owned[code]))
            for kind, site_name in site_specs:
                site_number += 1
                site = f.add_site(
                    session, f"site-{site_number:03d}", district,
                    owner=water if kind is SiteKind.UTILITY_FACILITY else None, kind=kind,
                )  # fmt: skip
                site.name = site_name
                site.longitude, site.latitude = placer.anywhere()
                # One market lost its uplink: a red cluster, as on a real night shift.
                dark_site = site_name == "Shapagat Market"
                for k in range(rng.randint(5, 9)):
                    camera = _add_camera(
                        session, number(), district,
                        placer.near(site.longitude, site.latitude, 0.0015), rng, octet, now,
                        name=f"{site_name} — camera {k + 1}", site=site, offline=dark_site,
                    )  # fmt: skip
                    made.append(camera)
                    if site.owner is water:
                        utility_ids.add(camera.id)
            while len(made) < total:
                a, b = rng.sample(STREETS, 2)
                made.append(
                    _add_camera(
                        session,
                        number(),
                        district,
                        placer.anywhere(),
                        rng,
                        octet,
                        now,
                        name=f"{a} / {b}",
                    )
                )
            cameras[code] = made
            counts[district.id] = len(made)
        session.flush()

        live = cameras["yesil"][0]
        dark = next(c for c in cameras["yesil"][1:] if c.site is None)
        outside = cameras["almaty"][0]
        return City(
            district_ids=district_ids,
            cameras_per_district=counts,
            camera_count=sum(counts.values()),
            live_camera=CameraFacts(live.id, live.code, live.district_id),
            dark_camera=CameraFacts(dark.id, dark.code, dark.district_id),
            utility_camera_ids=frozenset(utility_ids),
            outside_utility=CameraFacts(outside.id, outside.code, outside.district_id),
            admin_name=admin.full_name,
            utility_name=utility.full_name,
        )


# --- live pictures ----------------------------------------------------------------------------


class TestPatternSnapshots:
    """Colour bars with a moving stripe for the chosen cameras; no live picture for the rest."""

    def __init__(self, codes: set[str]) -> None:
        self.codes = codes
        self.served = 0

    def snapshot_jpeg(self, camera_code: str) -> bytes | None:
        if camera_code not in self.codes:
            return None
        self.served += 1
        return _test_pattern_jpeg(self.served)


def _test_pattern_jpeg(frame_number: int, width: int = 640, height: int = 360) -> bytes:
    picture = np.zeros((height, width, 3), np.uint8)
    bars = [(192, 192, 192), (192, 192, 0), (0, 192, 192), (0, 192, 0), (192, 0, 192)]
    bars += [(192, 0, 0), (0, 0, 192)]
    bar_width = width // len(bars)
    for index, colour in enumerate(bars):
        picture[: height * 2 // 3, index * bar_width : (index + 1) * bar_width] = colour
    picture[height * 2 // 3 :] = np.linspace(16, 235, width, dtype=np.uint8)[None, :, None]
    stripe = (frame_number * 37) % width
    picture[:, stripe : stripe + 10] = 255
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuvj420p"
    codec.time_base = Fraction(1, 25)
    frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuvj420p")
    return b"".join(bytes(packet) for packet in [*codec.encode(frame), *codec.encode(None)])


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real app on a free 127.0.0.1 port, in a background thread, for the whole session."""
    data_dir = tmp_path_factory.mktemp("console")
    database = Database(f"sqlite:///{data_dir / 'safecity.db'}")
    migrate.upgrade(database)
    city = build_city(database)
    snapshots = TestPatternSnapshots({city.live_camera.code})
    app = create_app(Settings(data_dir=data_dir), database, snapshots=snapshots)

    try:
        with serve_app(app) as url:
            yield LiveServer(url=url, city=city)
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found: install the Debian 'chromium' package to run browser tests"
        if IN_CI:
            pytest.fail(f"CI=true requires Chromium. {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Watched:
    """A page plus what it did that a test should never see: requests leaving the server,
    script errors, and Content-Security-Policy violations."""

    page: Page
    base_url: str
    foreign_requests: list[str]
    problems: list[str]
    api_in_flight: set[Request] = field(default_factory=set)

    def goto(self, hash_route: str = "") -> None:
        self.page.goto(f"{self.base_url}/{hash_route}")

    def settle(self, quiet_ms: int = 300, timeout_ms: int = 15_000) -> None:
        """Wait until the live feed is open and no API call (the feed's stream aside) has been
        in flight for ``quiet_ms``: the calls a screen makes by itself after sign-in (say the
        alert count on the feed opening) are done, so a test's next step races none of them."""
        expect(self.page.locator("#feed-state")).to_have_attribute("data-state", "live")
        waited = quiet = 0
        while quiet < quiet_ms:
            if waited > timeout_ms:
                pending = sorted(request.url for request in self.api_in_flight)
                raise AssertionError(f"API calls still in flight after {timeout_ms} ms: {pending}")
            self.page.wait_for_timeout(50)
            waited += 50
            quiet = quiet + 50 if not self.api_in_flight else 0


@contextmanager
def watched_console(browser: Browser, base_url: str, **context: Any) -> Iterator[Watched]:
    """A fresh browser context (no cookies) on a console at ``base_url``; on leaving, fails the
    test if the page loaded anything from elsewhere (HTTP or WebSocket), broke the CSP or threw
    a script error. ``context`` goes to ``browser.new_context`` (viewport, time zone, …)."""
    context.setdefault("viewport", VIEWPORT)
    context.setdefault("device_scale_factor", 1)
    browser_context = browser.new_context(**context)
    page = browser_context.new_page()
    watched = Watched(page, base_url, [], [])
    own = (base_url, base_url.replace("http://", "ws://", 1), "data:", "blob:")

    def on_request(request: Request) -> None:
        if not request.url.startswith(own):
            watched.foreign_requests.append(request.url)
        elif "/api/" in request.url and "/api/ops/feed" not in request.url:
            watched.api_in_flight.add(request)

    def on_request_done(request: Request) -> None:
        watched.api_in_flight.discard(request)

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Uncaught" in message.text:
            watched.problems.append(message.text)

    page.on("request", on_request)
    page.on("requestfinished", on_request_done)
    page.on("requestfailed", on_request_done)
    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.problems.append(f"page error: {error}"))
    yield watched
    browser_context.close()
    assert not watched.foreign_requests, (
        f"the console loaded from outside: {watched.foreign_requests}"
    )
    assert not watched.problems, f"browser reported: {watched.problems}"


@pytest.fixture
def console(browser: Browser, console_server: LiveServer) -> Iterator[Watched]:
    """A fresh browser context (no cookies) on the console, watched for leaks and errors."""
    with watched_console(browser, console_server.url) as watched:
        yield watched


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


OpenConsole = Callable[[], Watched]
"""Opens one more watched console on a test's own city (several users side by side)."""


def sign_in(console: Watched, route: str, username: str) -> Page:
    """Sign ``username`` in at ``route`` and wait for the live feed: the console is ready."""
    page = console.page
    console.goto(route)
    page.fill("#login-username", username)
    page.fill("#login-password", f.PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#feed-state")).to_have_attribute("data-state", "live")
    return page
