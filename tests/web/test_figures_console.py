"""The analyst's Figures screen under headless Chromium: counts by period with their changes,
before and after with absolute numbers, the control and its rate ratio, and the caveats; an
akimat sees its district alone; an operator is not offered the screen.

A city of its own: west got a camera in April 2026, east and north none; a year of records
imported through the crime records service as a police file would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.models import OrganizationKind
from safecity.insights.crimes.file import parse_csv
from safecity.insights.crimes.store import ImportOutcome, import_file
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from tests import factories as f
from tests.support.live_server import serve_app
from tests.web.conftest import watched_console

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NORTH = (71.30, 51.20, 71.50, 51.30)
ZONE = "Asia/Almaty"


@dataclass(frozen=True)
class FiguresServer:
    url: str


def _rows(district: str, count: int, month: int, place: str, year: int = 2026) -> list[str]:
    kinds = ("theft", "robbery", "hooliganism", "fraud")
    return [
        f"{district}-{year}-{month}-{place}-{i},{year}-{month:02d}-{i % 28 + 1:02d} {i % 24:02d}:10,"
        f"{kinds[i % 4]},{place},{district}"
        for i in range(count)
    ]


@pytest.fixture(scope="module")
def figures_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FiguresServer]:
    data_dir = tmp_path_factory.mktemp("figures")
    database = Database(f"sqlite:///{data_dir / 'safecity.db'}")
    migrate.upgrade(database)
    settings = Settings(data_dir=data_dir, timezone=ZONE)
    rows = ["code,time,kind,place_kind,district"]
    # A few in the last quarter of 2025 (records begin there), then public-place crimes in
    # the first and third quarters of 2026, west's cameras going in between (the hand-worked
    # DiD: west 200 -> 150, the control 300 -> 285), and dwellings that the public-place figure
    # leaves out.
    for district in ("west", "east", "north"):
        rows += _rows(district, 40, 11, "street", 2025)
    for district, before, after in (("west", 200, 150), ("east", 180, 171), ("north", 120, 114)):
        rows += _rows(district, before // 2, 2, "street") + _rows(
            district, before - before // 2, 3, "public_place"
        )
        rows += _rows(district, after, 8, "street")
        rows += _rows(district, 60, 2, "dwelling") + _rows(district, 30, 8, "dwelling")
    with database.session() as s:
        west = f.add_district(s, "west", f.WEST)
        f.add_district(s, "east", f.EAST)
        north = f.add_district(s, "north", NORTH)
        f.add_camera(s, "W-NEW", west, installed_at=date(2026, 4, 20))
        f.add_camera(s, "N-OLD", north, installed_at=date(2020, 1, 1))
        f.add_user(s, "analyst", Role.ANALYST)
        f.add_user(s, "operator", Role.OPERATOR)
        akimat = f.add_organization(s, "akimat-west", OrganizationKind.AKIMAT, west)
        f.add_user(s, "akimat-west", Role.AKIMAT, akimat)
        report = import_file(
            s,
            parse_csv("\n".join(rows).encode()),
            zone=settings.zone,
            now=datetime(2026, 12, 1, tzinfo=UTC),
        )
        assert report.outcome is ImportOutcome.WRITTEN, report.validation.problems[:3]
    with serve_app(create_app(settings, database)) as url:
        yield FiguresServer(url)
    database.dispose()


def _sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/#/login")
    page.fill("#login-username", username)
    page.fill("#login-password", f.PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#feed-state")).to_have_attribute("data-state", "live")


def test_the_analyst_reads_counts_before_and_after_and_the_caveats(
    browser: Browser, figures_server: FiguresServer, screenshots: Path
) -> None:
    with watched_console(browser, figures_server.url) as console:
        page = console.page
        _sign_in(page, figures_server.url, "analyst")
        page.click("a[data-nav='figures']")
        expect(
            page.locator("#figures-periods-table tr[data-period='2026-Q1'] td.num")
        ).to_have_text("680")
        expect(page.locator("#figures-chart rect.figure-bar")).to_have_count(4)
        expect(page.locator("#figures-source")).to_have_value("register")
        page.select_option("#figures-place", "public")
        expect(page.locator("#figures-total")).to_have_text("1,055 crimes")
        q3 = page.locator("#figures-periods-table tr[data-period='2026-Q3']")
        expect(q3).to_contain_text("from none to 435")
        expect(page.locator("#figures-before")).to_have_value("2026-Q1")
        expect(page.locator("#figures-after")).to_have_value("2026-Q3")
        expect(page.locator("#figures-change")).to_have_text(
            "500 → 435, \N{MINUS SIGN}13.0% (65 fewer of 500)"
        )
        expect(page.locator("#figures-irr")).to_have_text("0.79 (95% CI 0.60–1.03)")
        expect(page.locator("#figures-did-text")).to_contain_text(
            "cannot tell this from no difference"
        )
        expect(page.locator("#figures-did [data-group='treated']")).to_contain_text("West")
        expect(page.locator("#figures-did [data-group='control']")).to_contain_text("East, North")
        expect(page.locator("#figures-districts-table tr[data-district='West']")).to_contain_text(
            "new cameras"
        )
        caveats = page.locator("#figures-caveats-list")
        expect(caveats).to_contain_text("A drop alone does not show the cameras caused it")
        expect(caveats).to_contain_text("13–16%")
        expect(caveats).to_contain_text("Regression to the mean")
        expect(caveats).to_contain_text("Displacement")
        expect(caveats).to_contain_text("Recording practice")
        assert "place=public" in page.url and "before=2026-Q1" in page.url
        page.mouse.move(1, 1)
        page.screenshot(path=screenshots / "figures-analyst.png")
        page.locator("#figures-before-after").screenshot(
            path=screenshots / "figures-before-after.png"
        )
        page.locator("#figures-caveats").screenshot(path=screenshots / "figures-caveats.png")

        page.locator("#figures-period button[data-value='month']").click()
        expect(page.locator("#figures-periods-table tr[data-period='2026-08']")).to_contain_text(
            "from none to 435"
        )
        # The OCC's incidents instead of the register: none were closed in this city.
        page.select_option("#figures-source", "occ")
        expect(page.locator("#figures-total")).to_have_text("0 crimes")
        assert "source=occ" in page.url


def test_an_akimat_sees_its_district_and_an_operator_no_figures(
    browser: Browser, figures_server: FiguresServer, screenshots: Path
) -> None:
    with watched_console(browser, figures_server.url) as console:
        page = console.page
        _sign_in(page, figures_server.url, "akimat-west")
        page.click("a[data-nav='figures']")
        expect(page.locator("#figures-by-district tbody tr")).to_have_count(1)
        expect(page.locator("#figures-by-district")).to_contain_text("West")
        expect(page.locator("#figures-did-text")).to_contain_text("No difference-in-differences")
        page.mouse.move(1, 1)
        page.screenshot(path=screenshots / "figures-akimat.png")
    with watched_console(browser, figures_server.url) as console:
        page = console.page
        _sign_in(page, figures_server.url, "operator")
        expect(page.locator("a[data-nav='figures']")).to_have_count(0)
        page.goto(f"{figures_server.url}/#/figures")
        expect(page.locator(".page")).to_contain_text("Crime figures are not part of your role")
