"""The analyst's console: figures first, every screen in the menu usable, no live video offered.

An analyst reads the city's figures and sees cameras on the map, never through them: the
console must not greet them with a wall of "no access" tiles or links the server refuses.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Response, expect

from tests.web.conftest import Watched
from tests.web.test_console_browser import screenshot, sign_in

pytestmark = pytest.mark.slow

ANALYST_SCREENS = [
    "Incidents",
    "Events",
    "Figures",
    "Hotspots",
    "Requests",
    "Map",
    "Cameras",
    "KPIs",
    "Reports",
    "Placement",
]


def test_the_analyst_lands_on_figures_and_every_menu_screen_answers(
    console: Watched, screenshots: Path
) -> None:
    refused: list[str] = []

    def on_response(response: Response) -> None:
        if "/api/" in response.url and response.status in (401, 403, 404):
            refused.append(f"{response.status} {response.url}")

    console.goto()
    sign_in(console.page, "analyst")
    expect(console.page).to_have_url(re.compile(r".*#/figures(\?.*)?$"))
    console.page.on("response", on_response)  # from here on, as the signed-in analyst
    links = console.page.locator(".main-nav .nav-link")
    expect(links.first).to_be_visible()
    names = [text.strip() for text in links.all_inner_texts()]
    assert sorted(names) == sorted(ANALYST_SCREENS)
    assert "Video wall" not in names

    for name in names:
        console.page.locator(".main-nav .nav-link", has_text=name).click()
        expect(console.page.locator(".main-nav .nav-link.active")).to_have_text(name)
        console.settle()
        expect(console.page.locator("#view")).not_to_contain_text("No access")
    assert refused == [], f"the analyst's menu led to refusals: {refused}"

    console.page.locator(".main-nav .nav-link", has_text="Figures").click()
    console.settle()
    screenshot(console.page, screenshots / "analyst-figures.png")
