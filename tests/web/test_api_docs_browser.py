"""The API documentation page (/docs) in headless Chromium: Swagger UI from this server only,
under the console's Content-Security-Policy, for a signed-in user (the default ``api.docs``).

Screenshots land in test-artifacts/screenshots/: api-docs.png (the list of operations) and
api-docs-try-it-out.png (GET /api/health tried from the page, with the session cookie)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from tests import factories as f
from tests.support.live_server import serve_app
from tests.web.conftest import watched_console

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def docs_server(tmp_path: Path) -> Iterator[str]:
    database = Database(f"sqlite:///{tmp_path / 'safecity.db'}")
    migrate.upgrade(database)
    with database.session() as session:
        f.add_user(session, "operator", Role.OPERATOR)
    try:
        with serve_app(create_app(Settings(data_dir=tmp_path), database)) as url:
            yield url
    finally:
        database.dispose()


def test_signed_in_user_reads_and_tries_the_api_docs_offline(
    browser: Browser, docs_server: str, screenshots: Path
) -> None:
    with watched_console(browser, docs_server) as watched:
        page = watched.page
        assert page.goto(f"{docs_server}/docs").status == 401, "not before signing in"

        login = page.request.post(
            f"{docs_server}/api/auth/login",
            data={"username": "operator", "password": f.PASSWORD},
        )
        assert login.ok, login.text()  # the browser context keeps the session cookie
        page.goto(f"{docs_server}/docs")
        expect(page.locator(".info .title")).to_contain_text("SafeCity")
        health = page.locator(".opblock-get", has=page.locator('[data-path="/api/health"]'))
        expect(health).to_have_count(1)
        assert page.locator(".opblock").count() > 50, "every operation is listed"
        page.mouse.move(1, 1)
        page.screenshot(path=screenshots / "api-docs.png")

        health.locator(".opblock-summary").first.click()
        health.locator("button.try-out__btn").click()
        health.locator("button.execute").click()
        status = health.locator(".live-responses-table tbody .response-col_status").first
        expect(status).to_have_text("200")
        page.mouse.move(1, 1)
        page.screenshot(path=screenshots / "api-docs-try-it-out.png")
    # Leaving watched_console failed the test on any request to another host, any CSP report
    # and any script error.
