"""The camera requests board in the console, under headless Chromium: an akimat asks for a
camera by clicking the map, the programme office decides and links the installed camera, an
analyst reads every request and changes none.

A small city of its own: two districts, the west akimat, the police with an east unit, a
camera in each district, and requests in several statuses stored through the service.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.models import OrganizationKind, PoliceUnit
from safecity.planning.requests import service
from safecity.planning.requests.models import CameraRequest, Urgency
from safecity.planning.requests.rules import Draft
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from tests import factories as f
from tests.support.live_server import serve_app
from tests.web.conftest import OpenConsole, sign_in, watched_console

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@dataclass(frozen=True)
class RequestsCity:
    url: str
    reviewing: int  # west akimat's, under review
    approved: int  # west akimat's, approved
    police_east: int  # the police's, east: not the west akimat's to see


@pytest.fixture(scope="module")
def requests_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RequestsCity]:
    data_dir = tmp_path_factory.mktemp("requests")
    database = Database(f"sqlite:///{data_dir / 'safecity.db'}")
    migrate.upgrade(database)
    admin_actor = service.Actor("admin")
    with database.session() as s:
        west = f.add_district(s, "yesil", f.WEST)
        east = f.add_district(s, "almaty", f.EAST)
        akimat = f.add_organization(s, "akimat-yesil", OrganizationKind.AKIMAT, west)
        akimat.name = "Akimat of Yesil district"
        police = f.add_organization(s, "police", OrganizationKind.POLICE)
        police.name = "Police Department"
        unit = PoliceUnit(code="east-1", name="East unit", organization=police, districts=[east])
        s.add(unit)
        f.add_user(s, "admin", Role.ADMIN)
        f.add_user(s, "analyst", Role.ANALYST)
        f.add_user(s, "akimat-yesil", Role.AKIMAT, akimat)
        f.add_camera(s, "YES-0001", west)
        f.add_camera(s, "ALM-0001", east)

        def ask(
            org_id: int, district_id: int, lat: float, lon: float, why: str, urgency: Urgency
        ) -> int:
            draft = Draft(org_id, district_id, why, urgency, latitude=lat, longitude=lon)
            return service.store_request(s, service.Actor("seed"), draft).id

        reviewing = ask(
            akimat.id,
            west.id,
            51.13,
            71.33,
            "Courtyard of Kabanbay Batyr Ave 64: car break-ins every week since spring.",
            Urgency.HIGH,
        )
        approved = ask(
            akimat.id,
            west.id,
            51.17,
            71.36,
            "Unlit path across Central Park: two assaults since May.",
            Urgency.URGENT,
        )
        ask(
            akimat.id,
            west.id,
            51.12,
            71.38,
            "School No. 12 back gate: drug dealing reported after classes.",
            Urgency.NORMAL,
        )
        police_east = ask(
            police.id,
            east.id,
            51.15,
            71.45,
            "Taxi rank at the bus station: robberies at night.",
            Urgency.HIGH,
        )
        for request_id in (reviewing, approved, police_east):
            row = s.get(CameraRequest, request_id)
            assert row is not None
            service.move(s, row, admin_actor, "review")
        row = s.get(CameraRequest, approved)
        assert row is not None
        service.move(s, row, admin_actor, "approve", reason="In the 2027 installation plan.")
    app = create_app(Settings(data_dir=data_dir), database)
    with serve_app(app) as url:
        yield RequestsCity(url, reviewing, approved, police_east)
    database.dispose()


@pytest.fixture
def console_for(browser: Browser, requests_city: RequestsCity) -> Iterator[OpenConsole]:
    with ExitStack() as stack:
        yield lambda: stack.enter_context(watched_console(browser, requests_city.url))


def column(page: Page, status: str):  # type: ignore[no-untyped-def]
    return page.locator(f'.board-column[data-status="{status}"] .request-card')


def test_an_akimat_asks_for_a_camera_by_clicking_the_map(
    console_for: OpenConsole, requests_city: RequestsCity, screenshots: Path
) -> None:
    page = sign_in(console_for(), "#/requests", "akimat-yesil")
    expect(page.locator('.nav-link[data-nav="requests"]')).to_have_attribute("aria-current", "page")
    expect(column(page, "under_review")).to_have_count(1)
    expect(column(page, "approved")).to_have_count(1)
    expect(page.locator(f'[data-request-id="{requests_city.police_east}"]')).to_have_count(0)
    expect(page.locator("#requests-count")).to_have_text("3 requests")
    page.mouse.move(1, 1)
    page.screenshot(path=screenshots / "requests-board-akimat.png")

    page.click("#request-new")
    form_map = page.locator("#request-form-map")
    expect(form_map).to_be_visible()
    expect(page.locator("#request-form-map .camera-dot")).to_have_count(1)  # its own district's
    box = form_map.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#request-latitude")).not_to_have_value("")
    latitude = float(page.locator("#request-latitude").input_value())
    longitude = float(page.locator("#request-longitude").input_value())
    assert 51.10 < latitude < 51.20 and 71.30 < longitude < 71.40  # inside Yesil (west)
    expect(page.locator("#request-form-map .camera-marker")).to_have_count(1)
    page.select_option("#request-urgency", "high")
    page.fill("#request-justification", "Bus stop by the market: bag snatching in the evenings.")
    page.mouse.move(1, 1)
    page.screenshot(path=screenshots / "requests-new-form.png")
    page.click("#request-submit")

    detail = page.locator("#request-detail")
    expect(detail).to_have_attribute("data-status", "submitted")
    expect(detail).to_contain_text("Bus stop by the market")
    expect(detail).to_contain_text("Akimat of Yesil district")
    expect(column(page, "submitted")).to_have_count(2)
    expect(page.locator("#request-actions button")).to_have_count(0)  # an akimat decides nothing


def test_an_akimat_is_told_when_the_point_is_outside_its_district(
    console_for: OpenConsole,
) -> None:
    page = sign_in(console_for(), "#/requests?new=1", "akimat-yesil")
    page.fill("#request-latitude", "51.15")
    page.fill("#request-longitude", "71.45")
    page.fill("#request-justification", "Across the border")
    page.click("#request-submit")
    expect(page.locator("#request-form-message")).to_have_text(
        "district: Almaty is outside your area"
    )


def test_the_programme_office_decides_and_links_the_installed_camera(
    console_for: OpenConsole, requests_city: RequestsCity, screenshots: Path
) -> None:
    page = sign_in(console_for(), f"#/requests?id={requests_city.reviewing}", "admin")
    detail = page.locator("#request-detail")
    expect(detail).to_have_attribute("data-status", "under_review")
    expect(page.locator("#request-actions button")).to_have_count(2)
    page.click('#request-actions button[data-move="reject"]')
    page.fill(".reason-input", "A camera within 40 m already covers the courtyard.")
    page.mouse.move(1, 1)
    page.screenshot(path=screenshots / "requests-reject.png")
    page.click('.reason-form button[type="submit"]')
    expect(detail).to_have_attribute("data-status", "rejected")
    expect(detail).to_contain_text("A camera within 40 m already covers the courtyard.")

    page.click(f'.request-card[data-request-id="{requests_city.approved}"]')
    expect(detail).to_have_attribute("data-status", "approved")
    page.click('#request-actions button[data-move="install"]')
    page.fill("#install-camera", "ALM-0001")
    page.click('.reason-form button[type="submit"]')
    expect(page.locator(".reason-form .form-error")).to_contain_text("another district")
    page.fill("#install-camera", "YES-0001")
    page.click('.reason-form button[type="submit"]')
    expect(detail).to_have_attribute("data-status", "installed")
    expect(detail.locator('a[href^="#/cameras/"]')).to_have_text("YES-0001")
    page.mouse.move(1, 1)
    page.screenshot(path=screenshots / "requests-installed-admin.png")


def test_an_analyst_reads_every_request_and_changes_none(
    console_for: OpenConsole, requests_city: RequestsCity, screenshots: Path
) -> None:
    page = sign_in(console_for(), f"#/requests?id={requests_city.police_east}", "analyst")
    expect(
        page.locator(f'.request-card[data-request-id="{requests_city.police_east}"]')
    ).to_be_visible()
    expect(page.locator("#request-detail")).to_contain_text("Police Department")
    expect(page.locator("#request-new")).to_have_count(0)
    expect(page.locator("#request-actions button")).to_have_count(0)
    page.select_option("#requests-district", label="Almaty")
    expect(page.locator(".request-card")).to_have_count(1)
    href = page.locator("#requests-export").get_attribute("href") or ""
    exported = page.evaluate("async (href) => (await fetch(href)).text()", href)
    assert exported.splitlines()[0].startswith("number,status,urgency,organization,district")
    assert len(exported.splitlines()) == 2 and ",Almaty," in exported.splitlines()[1]
    page.mouse.move(1, 1)
    page.screenshot(path=screenshots / "requests-analyst.png")
