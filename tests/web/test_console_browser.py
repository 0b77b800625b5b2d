"""The operator console in headless Chromium against the real app and a 1,100-camera city.

Screenshots land in test-artifacts/screenshots/ for a human to look at.
"""

from __future__ import annotations

import re
from importlib.metadata import metadata, version
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, expect

from tests import factories as f
from tests.web.conftest import LiveServer, Watched

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RENDER_BUDGET_MS = 1000


def sign_in(page: Page, username: str, password: str = f.PASSWORD) -> None:
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-submit")


def screenshot(page: Page, path: Path) -> None:
    page.mouse.move(1, 1)  # no hover highlight in the picture
    page.screenshot(path=path)


def camera_ids(page: Page, selector: str) -> set[int]:
    values = page.locator(selector).evaluate_all("nodes => nodes.map(n => n.dataset.cameraId)")
    return {int(value) for value in values}


def test_admin_signs_in_and_sees_every_district_and_camera_on_the_map(
    console: Watched, console_server: LiveServer, screenshots: Path
) -> None:
    city = console_server.city
    page = console.page
    console.goto()
    expect(page).to_have_url(re.compile(r"#/login"))

    with page.expect_response("**/api/auth/login") as login_answer:
        sign_in(page, "admin")
    # A browser never asks for the bearer token; the HttpOnly cookie is the session.
    login_body = login_answer.value.request.post_data_json
    assert login_body is not None
    assert not login_body.get("issue_token")
    assert login_answer.value.ok

    expect(page).to_have_url(re.compile(r"#/map$"))
    expect(page.locator("#user-name")).to_have_text(city.admin_name)
    expect(page.locator("#user-role")).to_have_text("Administrator · Astana OCC")
    expect(page.locator("#scope-chip")).to_have_text("City-wide")
    city_map = page.locator("svg#city-map")
    expect(city_map.locator("path.district")).to_have_count(len(city.district_ids))
    expect(city_map.locator("circle.camera-dot")).to_have_count(city.camera_count)
    yesil = city.district_ids["yesil"]
    expect(city_map.locator(f'text.district-label[data-district-id="{yesil}"]')).to_have_text(
        f"Yesil{city.cameras_per_district[yesil]} cameras"
    )
    expect(page.locator("#map-count")).to_have_text(f"{city.camera_count:,} cameras")
    expect(page.locator("#map-legend")).to_be_visible()
    expect(city_map).to_have_attribute("data-render-ms", re.compile(r"^\d"))
    render_ms = float(city_map.get_attribute("data-render-ms") or "nan")
    print(f"\n{city.camera_count} camera dots: drawn and painted in {render_ms:.1f} ms")
    assert render_ms < RENDER_BUDGET_MS
    screenshot(page, screenshots / "map.png")

    page.click("#sign-out")
    expect(page).to_have_url(re.compile(r"#/login$"))
    expect(page.locator("#app-header")).to_be_hidden()


def test_map_zooms_pans_and_opens_a_camera_on_click(
    console: Watched, console_server: LiveServer
) -> None:
    live = console_server.city.live_camera
    page = console.page
    console.goto("#/map")
    sign_in(page, "admin")
    city_map = page.locator("#city-map")
    dot = city_map.locator(f'.camera-dot[data-camera-id="{live.id}"]')
    expect(dot).to_be_visible()
    city_wide = city_map.get_attribute("viewBox") or ""

    box = dot.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -800)
    expect(city_map).not_to_have_attribute("viewBox", city_wide)
    zoomed = (city_map.get_attribute("viewBox") or "").split()
    assert float(zoomed[2]) < float(city_wide.split()[2]) / 2

    frame = page.locator(".map-frame").bounding_box()
    assert frame is not None
    page.mouse.move(frame["x"] + 200, frame["y"] + 200)
    page.mouse.down()
    page.mouse.move(frame["x"] + 260, frame["y"] + 240, steps=5)
    page.mouse.up()
    panned = (city_map.get_attribute("viewBox") or "").split()
    assert panned[0] != zoomed[0]
    expect(page).to_have_url(re.compile(r"#/map$"))  # a drag is not a click

    dot.hover()
    expect(page.locator(".map-tooltip")).to_contain_text(live.code)
    dot.click()
    expect(page).to_have_url(re.compile(rf"#/cameras/{live.id}$"))
    expect(page.locator("#camera-code")).to_have_text(live.code)


def test_the_about_box_says_the_version_and_the_licence(
    console: Watched, console_server: LiveServer, screenshots: Path
) -> None:
    page = console.page
    console.goto()
    sign_in(page, "admin")
    expect(page).to_have_url(re.compile(r"#/map$"))
    # What the server says is what the installed package says: pyproject.toml's version and
    # licence.
    installation = page.request.get(f"{console_server.url}/api/console").json()
    assert installation["version"] == version("safecity")
    assert installation["license"] == metadata("safecity")["License-Expression"] == "Apache-2.0"

    dialog = page.locator("#about-dialog")
    expect(dialog).to_be_hidden()
    page.click("#about-button")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#about-title")).to_have_text("SafeCity")
    expect(page.locator("#about-version")).to_have_text(installation["version"])
    expect(page.locator("#about-license")).to_have_text(installation["license"])
    expect(page.locator("#about-license a")).to_have_attribute(
        "href", "https://www.apache.org/licenses/LICENSE-2.0"
    )
    screenshot(page, screenshots / "about.png")
    page.click("#about-close")
    expect(dialog).to_be_hidden()
    page.click("#about-button")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_wrong_password_shows_the_error_and_stays_on_login(
    console: Watched, screenshots: Path
) -> None:
    page = console.page
    console.goto()
    held: list[Route] = []
    page.route("**/api/auth/login", lambda route: held.append(route))

    sign_in(page, "admin", "not-the-password")

    submit = page.locator("#login-submit")
    expect(submit).to_be_disabled()
    expect(submit).to_have_text("Signing in…")
    while not held:
        page.wait_for_timeout(20)
    held[0].continue_()
    expect(page.locator("#login-error")).to_have_text("Wrong username or password.")
    expect(submit).to_be_enabled()
    expect(page.locator("#login-password")).to_have_value("")
    expect(page).to_have_url(re.compile(r"#/login$"))
    expect(page.locator("#app-header")).to_be_hidden()
    screenshot(page, screenshots / "login-error.png")


def test_repeated_failures_show_the_throttle_message(console: Watched) -> None:
    page = console.page
    console.goto()
    error = page.locator("#login-error")
    for _ in range(5):
        sign_in(page, "someone-guessing", "guess")
        expect(page.locator("#login-submit")).to_be_enabled()
        expect(error).to_have_text("Wrong username or password.")
    sign_in(page, "someone-guessing", "guess")
    expect(error).to_have_text(
        re.compile(r"^Too many failed sign-ins for this user\. Try again in \d+ minutes\.$")
    )


def test_camera_list_filters_by_district_and_opens_the_camera(
    console: Watched, console_server: LiveServer, screenshots: Path
) -> None:
    city = console_server.city
    live = city.live_camera
    yesil = city.district_ids["yesil"]
    in_yesil = city.cameras_per_district[yesil]
    page = console.page
    console.goto()
    sign_in(page, "admin")
    expect(page).to_have_url(re.compile(r"#/map$"))
    page.click("nav >> text=Cameras")

    rows = page.locator("#camera-table tbody tr.camera-row")
    pager = page.locator("#pager-range")
    expect(pager).to_have_text(f"1–50 of {city.camera_count:,}")
    expect(rows).to_have_count(50)

    page.select_option("#filter-district", label="Yesil")

    expect(pager).to_have_text(f"1–50 of {in_yesil}")
    expect(page).to_have_url(re.compile(rf"#/cameras\?district_id={yesil}$"))
    assert set(rows.locator(".cell-district").all_inner_texts()) == {"Yesil"}
    page.click("#pager-next")
    expect(pager).to_have_text(f"51–100 of {in_yesil}")
    page.reload()  # the filters and the page live in the address
    expect(page.locator("#filter-district")).to_have_value(str(yesil))
    expect(pager).to_have_text(f"51–100 of {in_yesil}")
    page.click("#pager-prev")
    expect(pager).to_have_text(f"1–50 of {in_yesil}")
    screenshot(page, screenshots / "list.png")

    page.keyboard.press("/")
    expect(page.locator("#filter-q")).to_be_focused()
    page.keyboard.type(live.code)
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(rf"district_id={yesil}&q={live.code}$"))
    rows.first.locator(".cell-name").click()

    expect(page).to_have_url(re.compile(rf"#/cameras/{live.id}$"))
    expect(page.locator("#camera-code")).to_have_text(live.code)
    expect(page.locator('[data-field="district"]')).to_have_text("Yesil")
    expect(page.locator('[data-field="main_stream"]')).to_contain_text("viewer:••••@")
    snapshot = page.locator("#camera-snapshot")
    expect(snapshot).to_be_visible()
    expect(snapshot).to_have_attribute("src", re.compile(r"^blob:"))
    expect(snapshot).to_have_attribute("data-frame", re.compile(r"^[2-9]|\d\d"), timeout=6000)
    expect(page.locator("#snapshot-status")).to_contain_text("Live ·")
    expect(page.locator("#camera-minimap .camera-marker")).to_have_count(1)
    expect(
        page.locator(f'#camera-minimap path.district.selected[data-district-id="{yesil}"]')
    ).to_have_count(1)
    screenshot(page, screenshots / "detail.png")

    page.click("#back-to-list")
    expect(page).to_have_url(re.compile(rf"district_id={yesil}&q={live.code}$"))
    expect(rows).to_have_count(1)


def test_camera_without_a_stream_shows_no_live_picture(
    console: Watched, console_server: LiveServer, screenshots: Path
) -> None:
    dark = console_server.city.dark_camera
    page = console.page
    console.goto(f"#/cameras/{dark.id}")
    sign_in(page, "admin")  # the sign-in page brings the operator back to the camera

    expect(page.locator("#camera-code")).to_have_text(dark.code)
    expect(page.locator("#no-picture")).to_be_visible()
    expect(page.locator("#snapshot-status")).to_have_text("No live picture")
    expect(page.locator("#camera-snapshot")).to_be_hidden()
    screenshot(page, screenshots / "detail-no-picture.png")


def test_utility_company_sees_only_its_own_sites_cameras(
    console: Watched, console_server: LiveServer, screenshots: Path
) -> None:
    city = console_server.city
    own = city.utility_camera_ids
    page = console.page
    console.goto()
    sign_in(page, "water")

    expect(page.locator("#user-role")).to_have_text("Utility company · Astana Su Arnasy")
    expect(page.locator("#scope-chip")).to_have_text("Own sites only")
    dots = page.locator("#city-map .camera-dot")
    expect(dots).to_have_count(len(own))
    assert camera_ids(page, "#city-map .camera-dot") == own
    # The whole city is drawn for orientation; districts without their cameras are dimmed.
    expect(page.locator("#city-map path.district")).to_have_count(len(city.district_ids))
    expect(page.locator("#city-map path.district.out-of-scope")).to_have_count(3)
    screenshot(page, screenshots / "utility-map.png")

    page.click("nav >> text=Cameras")
    expect(page.locator("#pager-range")).to_have_text(f"1–{len(own)} of {len(own)}")
    assert camera_ids(page, "#camera-table tr.camera-row") == own
    expect(page.locator("#filter-district option")).to_have_text(["All districts", "Nura", "Yesil"])
    screenshot(page, screenshots / "utility-list.png")

    console.goto(f"#/cameras/{city.outside_utility.id}")
    expect(page.locator(".state-error")).to_contain_text("Not found, or not within your access.")


def test_expired_session_returns_to_sign_in_and_back(console: Watched) -> None:
    page = console.page
    console.goto("#/cameras?status=maintenance")
    sign_in(page, "admin")
    expect(page).to_have_url(re.compile(r"#/cameras\?status=maintenance$"))
    expect(page.locator("#filter-status")).to_have_value("maintenance")
    console.settle()  # nothing of the console's own (the feed opening) may meet the 401 first

    page.context.clear_cookies()  # the session ends on the server's side
    page.select_option("#filter-health", "offline")

    expect(page).to_have_url(re.compile(r"#/login\?next="))
    expect(page.locator("#app-header")).to_be_hidden()
    sign_in(page, "admin")
    expect(page).to_have_url(re.compile(r"#/cameras\?status=maintenance&health=offline$"))
    expect(page.locator("#filter-health")).to_have_value("offline")


def test_lost_connection_shows_a_banner_until_the_server_answers(console: Watched) -> None:
    page = console.page
    console.goto("#/cameras")
    sign_in(page, "admin")
    expect(page.locator("#camera-table tbody tr.camera-row")).to_have_count(50)
    banner = page.locator("#connection-banner")
    expect(banner).to_be_hidden()

    page.route("**/api/**", lambda route: route.abort())
    page.select_option("#filter-status", "active")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Connection to the SafeCity server lost")
    expect(page.locator("#camera-table")).to_be_visible()  # what was shown stays usable

    page.unroute("**/api/**")
    expect(banner).to_be_hidden(timeout=10_000)
