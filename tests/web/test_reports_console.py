"""The Reports screen under headless Chromium: an analyst picks a quarter and downloads the
city's PDF; an akimat sees only its own district to pick; an operator has no Reports link."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pypdfium2
import pytest
from playwright.sync_api import Browser, Page, expect

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from tests import factories as f
from tests.insights.reports_city import ALMATY, YESIL, build_report_city
from tests.support.live_server import serve_app
from tests.web.conftest import Watched, watched_console

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def reports_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("reports")
    database = Database(f"sqlite:///{data_dir / 'safecity.db'}")
    migrate.upgrade(database)
    build_report_city(database)
    with database.session() as session:
        f.add_user(session, "operator", Role.OPERATOR)
    settings = Settings(data_dir=data_dir, timezone="Asia/Almaty", city_name="Астана")
    try:
        with serve_app(create_app(settings, database)) as url:
            yield url
    finally:
        database.dispose()


@pytest.fixture
def console(browser: Browser, reports_url: str) -> Iterator[Watched]:
    with watched_console(browser, reports_url, accept_downloads=True) as watched:
        yield watched


def sign_in(console: Watched, username: str) -> Page:
    page = console.page
    console.goto("#/reports")
    page.fill("#login-username", username)
    page.fill("#login-password", f.PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#feed-state")).to_have_attribute("data-state", "live")
    return page


def test_analyst_downloads_the_city_report_for_a_quarter(
    console: Watched, screenshots: Path, tmp_path: Path
) -> None:
    page = sign_in(console, "analyst")
    expect(page.locator("#reports-title")).to_have_text("Reports")
    expect(page.locator('.nav-link[data-nav="reports"]')).to_have_attribute("aria-current", "page")
    district = page.locator("#report-district")
    expect(district.locator("option")).to_have_text(["Whole city", ALMATY, YESIL])
    page.select_option("#report-kind", "quarter")
    page.select_option("#report-year", "2026")
    page.select_option("#report-quarter", "3")
    expect(page.locator("#report-month")).to_be_hidden()
    page.mouse.move(1, 1)
    page.screenshot(path=screenshots / "reports-form.png")
    with page.expect_download() as download_info:
        page.click("#report-download")
    download = download_info.value
    assert download.suggested_filename == "safecity-report-city-2026-Q3.pdf"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    text = pypdfium2.PdfDocument(saved.read_bytes())[0].get_textpage().get_text_range()
    assert "City safety report, Q3 2026" in text
    expect(page.locator("#report-message")).to_have_text(
        "Downloaded safecity-report-city-2026-Q3.pdf."
    )
    page.mouse.move(1, 1)
    page.screenshot(path=screenshots / "reports-downloaded.png")


def test_akimat_picks_only_its_district_and_gets_html(console: Watched) -> None:
    page = sign_in(console, "akimat-yesil")
    expect(page.locator("#report-district option")).to_have_text(["All my districts", YESIL])
    page.select_option("#report-kind", "month")
    page.select_option("#report-year", "2026")
    page.select_option("#report-month", "09")
    page.check("#report-format-html")
    with page.expect_download() as download_info:
        page.click("#report-download")
    assert download_info.value.suggested_filename == "safecity-report-yesil-2026-09.html"


def test_operator_has_no_reports_link(console: Watched) -> None:
    page = sign_in(console, "operator")
    expect(page.locator('.nav-link[data-nav="map"]')).to_be_visible()
    expect(page.locator('.nav-link[data-nav="reports"]')).to_have_count(0)
    expect(page.locator(".page")).to_contain_text("Reports are for analysts")
