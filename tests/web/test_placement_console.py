"""The Placement screen under headless Chromium, over the whole demo city: the plan drawn on
the map with the figures beside it, a new budget and range, a grid too fine refused in words,
an akimat who plans only its district, and a role that does not plan.

The demo city (1,100 cameras, a year of crime records) is seeded into a temporary database,
with a dozen open requests filed in code: some where crime in public places is, some at
schools and parks, at every urgency.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from safecity.api.app import create_app
from safecity.city.crime_register import PUBLIC_PLACE_KINDS
from safecity.city.models import District, Organization, OrganizationKind, Site, SiteKind
from safecity.demo.city import DEMO_PASSWORD, build_demo_city
from safecity.demo.seed import seed_demo_city
from safecity.insights.models import CrimeRecord
from safecity.planning.requests.models import CameraRequest, RequestStatus, Urgency
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from tests.support.live_server import serve_app
from tests.web.conftest import Watched, watched_console

pytestmark = [pytest.mark.browser, pytest.mark.slow]

URGENCIES = [Urgency.URGENT, Urgency.HIGH, Urgency.NORMAL, Urgency.LOW]


@dataclass(frozen=True)
class DemoServer:
    url: str
    yesil_name: str
    open_requests: int
    """The demo's open requests and the test's, all with a point: each is drawn on the map."""


def _file_requests(database: Database) -> None:
    rng = np.random.default_rng(5)
    with database.session() as s:
        akimats = {
            org.district_id: org.id
            for org in s.scalars(
                select(Organization).where(Organization.kind == OrganizationKind.AKIMAT)
            )
            if org.district_id is not None
        }
        crimes = s.execute(
            select(CrimeRecord.latitude, CrimeRecord.longitude, CrimeRecord.district_id)
            .where(CrimeRecord.place_kind.in_(sorted(PUBLIC_PLACE_KINDS)))
            .order_by(CrimeRecord.id)
        ).all()
        schools = s.execute(
            select(Site.latitude, Site.longitude, Site.district_id)
            .where(Site.kind.in_([SiteKind.SCHOOL, SiteKind.PARK]))
            .order_by(Site.id)
        ).all()
        places = [crimes[int(i)] for i in rng.choice(len(crimes), 8, replace=False)]
        places += [schools[int(i)] for i in rng.choice(len(schools), 6, replace=False)]
        for number, (lat, lon, district_id) in enumerate(places, start=1):
            s.add(
                CameraRequest(
                    number=f"REQ-T-{number:03d}",
                    organization_id=akimats[district_id],
                    district_id=district_id,
                    latitude=lat + float(rng.uniform(-0.0004, 0.0004)),
                    longitude=lon + float(rng.uniform(-0.0006, 0.0006)),
                    justification="Residents ask for a camera here.",
                    urgency=URGENCIES[number % 4],
                    status=[RequestStatus.SUBMITTED, RequestStatus.UNDER_REVIEW][number % 2],
                    submitted_at=datetime(2026, 6, 1, tzinfo=UTC) + timedelta(days=number),
                )
            )


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    data_dir = tmp_path_factory.mktemp("placement")
    database = Database(f"sqlite:///{data_dir / 'safecity.db'}")
    migrate.upgrade(database)
    seed_demo_city(database, build_demo_city())
    _file_requests(database)
    with database.session() as s:
        yesil = s.scalars(select(District.name).where(District.code == "yesil")).one()
        open_requests = s.scalar(
            select(func.count())
            .select_from(CameraRequest)
            .where(
                CameraRequest.status.in_(
                    [RequestStatus.SUBMITTED, RequestStatus.UNDER_REVIEW, RequestStatus.APPROVED]
                ),
                CameraRequest.latitude.is_not(None),
            )
        )
    assert open_requests is not None and open_requests >= 14  # the test's own and the demo's
    app = create_app(Settings(data_dir=data_dir), database)
    with serve_app(app) as url:
        yield DemoServer(url, yesil, open_requests)
    database.dispose()


@pytest.fixture
def console(browser: Browser, demo_server: DemoServer) -> Iterator[Watched]:
    with watched_console(browser, demo_server.url) as watched:
        yield watched


def _sign_in(console: Watched, username: str, route: str = "#/placement") -> Page:
    page = console.page
    console.goto(route)
    page.fill("#login-username", username)
    page.fill("#login-password", DEMO_PASSWORD)
    page.click("#login-submit")
    return page


def _planned(page: Page) -> None:
    expect(page.locator("#placement-status")).to_have_attribute(
        "data-state", "done", timeout=60_000
    )


def _screenshot(page: Page, path: Path) -> None:
    page.mouse.move(1, 1)
    page.screenshot(path=path)


def _share(page: Page, plan: str) -> float:
    text = page.locator(f'.coverage-row[data-plan="{plan}"] .coverage-share').inner_text()
    return float(text.rstrip("%"))


def test_an_analyst_plans_new_cameras_over_the_city_map(
    console: Watched, demo_server: DemoServer, screenshots: Path
) -> None:
    page = _sign_in(console, "analyst", "#/map")
    page.locator('.nav-link[data-nav="placement"]').click()
    expect(page).to_have_url(re.compile(r"#/placement$"))

    _planned(page)

    # Ten sites drawn and listed, every open request on the map, a range per camera.
    expect(page.locator("#placement-map .site-mark")).to_have_count(10)
    expect(page.locator("#placement-sites > li")).to_have_count(10)
    expect(page.locator("#placement-map .request-mark")).to_have_count(demo_server.open_requests)
    expect(page.locator("#placement-map .request-mark.in-plan")).to_have_count(10)
    assert page.locator("#placement-map .camera-range").count() > 1000
    assert page.locator("#placement-map .demand-dot.demand-open").count() > 100
    before, optimised, requests = (_share(page, p) for p in ("before", "optimised", "requests"))
    assert before < requests <= optimised
    expect(page.locator("#placement-ratio")).to_contain_text("× the weight the requests' plan adds")
    expect(page.locator("#placement-solver")).to_contain_text("optimal")
    _screenshot(page, screenshots / "placement-city.png")

    page.fill("#placement-budget", "25")
    page.fill("#placement-radius", "150")
    page.click("#placement-run")
    expect(page.locator("#placement-status")).to_have_attribute("data-state", "running")
    expect(page.locator("#placement-run")).to_be_disabled()
    _planned(page)

    expect(page.locator("#placement-map .site-mark")).to_have_count(25)
    expect(page).to_have_url(re.compile(r"budget=25.*radius_m=150|radius_m=150.*budget=25"))
    assert _share(page, "optimised") > optimised
    # Zoomed in on the first site: its range, the demand it takes, the requests about it.
    for _ in range(4):
        page.locator('#placement-map .site-mark[data-site="1"] .site-core').hover()
        page.mouse.wheel(0, -400)
    page.wait_for_timeout(300)
    _screenshot(page, screenshots / "placement-city-25.png")


def test_a_grid_too_fine_is_refused_in_words(console: Watched, screenshots: Path) -> None:
    page = _sign_in(console, "analyst")
    _planned(page)

    page.fill("#placement-grid", "10")
    page.click("#placement-run")

    expect(page.locator("#placement-error")).to_contain_text("use a spacing of at least")
    expect(page.locator("#placement-status")).to_have_attribute("data-state", "failed")
    expect(page.locator("#placement-run")).to_be_enabled()
    _screenshot(page, screenshots / "placement-refused.png")


def test_an_akimat_plans_only_its_district(
    console: Watched, demo_server: DemoServer, screenshots: Path
) -> None:
    page = _sign_in(console, "akimat.yesil")
    _planned(page)

    districts = page.locator("#placement-sites .placement-what strong").all_inner_texts()
    assert districts and set(districts) == {demo_server.yesil_name}
    options = page.locator("#placement-district option").all_inner_texts()
    assert options == ["All my districts", demo_server.yesil_name]
    _screenshot(page, screenshots / "placement-akimat.png")


def test_an_operator_is_not_offered_placement(console: Watched) -> None:
    page = _sign_in(console, "operator", "#/map")
    expect(page.locator('.nav-link[data-nav="map"]')).to_be_visible()

    expect(page.locator('.nav-link[data-nav="placement"]')).to_have_count(0)
