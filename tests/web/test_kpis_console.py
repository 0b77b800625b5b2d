"""The KPIs screen under headless Chromium: an analyst reads every figure of the city worked
out by hand in ``tests.insights.kpi_city``; an akimat sees only its own district."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from safecity.api.app import create_app
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from tests import factories as f
from tests.insights.kpi_city import build
from tests.support.live_server import serve_app
from tests.web.conftest import Watched, watched_console

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROUTE = "#/kpis?from=2026-03-01&to=2026-03-02"


@pytest.fixture(scope="module")
def kpi_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("kpis")
    database = Database(f"sqlite:///{data_dir / 'safecity.db'}")
    migrate.upgrade(database)
    build(database)
    app = create_app(Settings(data_dir=data_dir, timezone="Asia/Almaty"), database)
    with serve_app(app) as url:
        yield url
    database.dispose()


@pytest.fixture
def console_for(browser: Browser, kpi_url: str) -> Iterator[Callable[[], Watched]]:
    """A console as tall as the screen's six cards, so one screenshot shows them all."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(watched_console(browser, kpi_url, viewport=TALL))


TALL = {"width": 1600, "height": 2000}


def sign_in(console: Watched, username: str) -> Page:
    page = console.page
    console.goto(ROUTE)
    page.fill("#login-username", username)
    page.fill("#login-password", f.PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#kpi-results")).to_have_attribute("data-state", "shown")
    return page


def test_an_analyst_reads_every_kpi_of_the_period(
    console_for: Callable[[], Watched], screenshots: Path
) -> None:
    page = sign_in(console_for(), "analyst")
    expect(page.locator('.nav-link[data-nav="kpis"]')).to_have_attribute("aria-current", "page")
    clearance = page.locator("#kpi-clearance")
    expect(clearance.locator(".kpi-figure")).to_have_text("60.0 %")
    expect(clearance).to_contain_text("3 of 5 crimes solved")
    expect(page.locator("#kpi-video .kpi-figure")).to_have_text("50.0 %")
    expect(page.locator("#kpi-video")).to_contain_text("2 of 4 incidents")
    expect(page.locator("#kpi-recording")).to_contain_text("2 of 3 active cameras recorded")
    expect(page.locator("#kpi-recording")).to_contain_text("Retention deleted 5 segments")
    expect(page.locator("#kpi-response .kpi-figure")).to_have_text("30 s")  # P50 of 10, 30, 90
    expect(page.locator("#kpi-incidents")).to_contain_text("0.60")  # west: 3 per 50,000
    expect(page.locator("#kpi-flows .kpi-figure")).to_have_text("13")
    page.mouse.move(1, 1)
    page.screenshot(path=screenshots / "kpis-analyst.png")
    page.locator("#kpi-flows").screenshot(path=screenshots / "kpis-flows.png")


def test_an_akimat_sees_only_its_district_and_a_period_before_the_counts(
    console_for: Callable[[], Watched], screenshots: Path
) -> None:
    page = sign_in(console_for(), "akimat-west")
    rows = page.locator("#kpi-incidents tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("West")
    expect(page.locator("#kpi-clearance .kpi-figure")).to_have_text("50.0 %")
    page.mouse.move(1, 1)
    page.screenshot(path=screenshots / "kpis-akimat.png")
    page.fill("#kpi-from", "2025-01-01")
    page.fill("#kpi-to", "2025-01-31")
    page.click("#kpi-show")
    expect(page.locator("#kpi-flows")).to_contain_text("No counts")
    expect(page.locator("#kpi-clearance .kpi-figure")).to_have_text("—")
    page.fill("#kpi-to", "2024-12-01")
    page.click("#kpi-show")
    expect(page.locator("#kpi-message")).to_have_text("To must not come before From.")
