"""The OCC screens in headless Chromium: the alert feed, incidents and a police unit's queue,
all kept live by the ops feed (Server-Sent Events) without a reload.

A small city of its own (two districts, a police unit each, an operator and the two units'
duty officers), served by the real app, so what the tests raise stays out of the 1,100-camera
city the other console tests count.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.models import CameraHealth, OrganizationKind, PoliceUnit
from safecity.ops.alerts.intake import raise_alert
from safecity.ops.models import AlertSource
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from tests import factories as f
from tests.support.live_server import serve_app
from tests.web.conftest import Watched, watched_console

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WEST = (71.30, 51.10, 71.40, 51.17)
EAST = (71.40, 51.10, 71.50, 51.17)


@dataclass(frozen=True)
class OccCity:
    url: str
    database: Database
    west_camera: int
    west_camera_code: str
    east_camera: int
    west_unit: str


@pytest.fixture(scope="module")
def occ_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OccCity]:
    data_dir = tmp_path_factory.mktemp("occ")
    database = Database(f"sqlite:///{data_dir / 'safecity.db'}")
    migrate.upgrade(database)
    with database.session() as s:
        west = f.add_district(s, "yesil", WEST)
        east = f.add_district(s, "almaty", EAST)
        occ = f.add_organization(s, "astana-occ", OrganizationKind.OPERATOR_CENTER)
        police = f.add_organization(s, "astana-police", OrganizationKind.POLICE)
        west_unit = PoliceUnit(
            code="yesil-1", name="Yesil patrol 1", organization=police, districts=[west]
        )
        east_unit = PoliceUnit(
            code="almaty-1", name="Almaty patrol 1", organization=police, districts=[east]
        )
        s.add_all([west_unit, east_unit])
        s.flush()
        f.add_user(s, "operator", Role.OPERATOR, occ)
        f.add_user(s, "officer-west", Role.POLICE_DUTY_OFFICER, police, police_unit=west_unit)
        f.add_user(s, "officer-east", Role.POLICE_DUTY_OFFICER, police, police_unit=east_unit)
        west_camera = f.add_camera(s, "YES-0001", west, health=CameraHealth.ONLINE)
        west_camera.name = "Turan Ave / Kabanbay Batyr Ave"
        west_camera.longitude, west_camera.latitude = 71.33, 51.15
        for n in range(2, 6):
            camera = f.add_camera(s, f"YES-{n:04d}", west)
            camera.longitude, camera.latitude = 71.31 + n * 0.015, 51.12
        east_camera = f.add_camera(s, "ALM-0001", east, health=CameraHealth.ONLINE)
        east_camera.longitude, east_camera.latitude = 71.46, 51.12
        facts = (west_camera.id, west_camera.code, east_camera.id, west_unit.name)
    app = create_app(Settings(data_dir=data_dir), database)
    with serve_app(app) as url:
        yield OccCity(url, database, *facts)
    database.dispose()


OpenConsole = Callable[[], Watched]


@pytest.fixture
def console_for(browser: Browser, occ_city: OccCity) -> Iterator[OpenConsole]:
    """Opens watched consoles (a browser context each: one person at their desk); all are
    closed, and checked for leaks and script errors, when the test ends."""
    with ExitStack() as stack:
        yield lambda: stack.enter_context(watched_console(browser, occ_city.url))


def sign_in(console: Watched, route: str, username: str) -> Page:
    page = console.page
    console.goto(route)
    page.fill("#login-username", username)
    page.fill("#login-password", f.PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#feed-state")).to_have_attribute("data-state", "live")
    # A marker a reload would wipe: everything below must arrive without one.
    page.evaluate("window.__noReload = true")
    return page


def still_same_page(page: Page) -> bool:
    return bool(page.evaluate("window.__noReload === true"))


def raise_camera_alert(occ_city: OccCity, camera_id: int, title: str) -> int:
    """What the camera-health worker does: an alert committed straight to the database."""
    with occ_city.database.session() as s:
        alert, _ = raise_alert(
            s,
            source=AlertSource.CAMERA_HEALTH,
            kind="camera_offline",
            title=title,
            camera_id=camera_id,
        )
        return alert.id


def screenshot(page: Page, path: Path) -> None:
    page.mouse.move(1, 1)
    page.screenshot(path=path)


def test_an_alert_becomes_an_incident_that_the_police_unit_accepts_all_live(
    console_for: OpenConsole, occ_city: OccCity, screenshots: Path
) -> None:
    operator = sign_in(console_for(), "#/alerts", "operator")
    expect(operator.locator("#alert-count")).to_contain_text("0 shown")

    alert_id = raise_camera_alert(occ_city, occ_city.west_camera, "Camera stopped sending video")
    row = operator.locator(f'tr.alert-row[data-alert-id="{alert_id}"]')
    expect(row).to_be_visible()
    expect(row).to_have_class(re.compile(r"\brow-fresh\b"))
    expect(row.locator(".camera-link")).to_have_text(occ_city.west_camera_code)
    # one click to live video and the recording from just before the alert
    expect(row.locator(".camera-link")).to_have_attribute(
        "href", re.compile(r"^#/cameras/\d+\?at=\d{4}-\d\d-\d\dT")
    )
    expect(row.locator(".cell-source")).to_have_text("Camera health")
    expect(operator.locator("#alerts-badge")).to_have_text("1")

    # The same failure again within the minute is folded into the row, not a second one.
    raise_camera_alert(occ_city, occ_city.west_camera, "Camera stopped sending video")
    expect(row.locator(".repeat-count")).to_have_text("×2")
    expect(operator.locator("tr.alert-row")).to_have_count(1)
    assert still_same_page(operator)
    screenshot(operator, screenshots / "occ-alerts.png")

    row.locator("input.alert-pick").check()
    operator.click("#open-incident")
    operator.select_option("#incident-type", "theft")
    expect(operator.locator("#incident-sop-preview li").first).to_have_text(
        "Review the camera footage around the reported time"
    )
    operator.fill("#incident-summary", "Camera went dark during a reported bag snatch")
    screenshot(operator, screenshots / "occ-open-incident.png")
    operator.click("#incident-submit")
    expect(operator).to_have_url(re.compile(r"#/incidents/\d+$"))
    expect(operator.locator("#incident-status")).to_have_text("New")
    expect(operator.locator("#incident-type")).to_have_text("Theft")
    expect(operator.locator(f'#incident-alerts [data-alert-id="{alert_id}"]')).to_contain_text(
        "Camera stopped sending video"
    )
    camera_link = operator.locator(f'#incident-cameras [data-camera-id="{occ_city.west_camera}"]')
    expect(camera_link.locator(".camera-link")).to_have_text(occ_city.west_camera_code)
    expect(operator.locator("#alerts-badge")).to_be_hidden()  # the alert is handled now
    operator.evaluate("window.__noReload = true")

    officer = sign_in(console_for(), "#/incidents", "officer-west")
    expect(officer.locator('.nav-link[data-nav="incidents"]')).to_have_text("My queue")
    expect(officer.locator("#incidents-title")).to_have_text("My queue")
    expect(officer.locator("tr.incident-row")).to_have_count(0)
    other = sign_in(console_for(), "#/incidents", "officer-east")

    expect(operator.locator("#dispatch-unit")).to_contain_text(occ_city.west_unit)
    operator.click("#transition-dispatch")
    expect(operator.locator("#incident-status")).to_have_text("Dispatched")
    expect(operator.locator("#incident-unit")).to_have_text(occ_city.west_unit)

    queued = officer.locator("tr.incident-row")
    expect(queued).to_have_count(1)
    expect(queued.locator(".cell-status")).to_have_text("Dispatched")
    expect(queued.locator(".cell-summary")).to_have_text(
        "Camera went dark during a reported bag snatch"
    )
    expect(other.locator("#incident-count")).to_have_text("0 incidents")  # not their unit's
    screenshot(officer, screenshots / "occ-police-queue.png")
    queued.locator('button[data-transition="accept"]').click()
    expect(queued.locator(".cell-status")).to_have_text("Accepted")
    expect(queued.locator('button[data-transition="arrive"]')).to_be_visible()

    expect(operator.locator("#incident-status")).to_have_text("Accepted")
    timeline = operator.locator("#incident-timeline .timeline-item")
    expect(timeline.first).to_contain_text("Accepted")
    expect(timeline.first).to_contain_text("officer-west")
    expect(operator.locator('#incident-times dd[data-field="accepted_at"]')).not_to_have_text("—")
    assert still_same_page(operator)
    assert still_same_page(officer)
    assert still_same_page(other)
    screenshot(operator, screenshots / "occ-incident.png")


def test_a_rejected_dispatch_returns_to_the_occ_with_its_reason(
    console_for: OpenConsole, occ_city: OccCity
) -> None:
    with occ_city.database.session() as s:
        alert, _ = raise_alert(
            s,
            source=AlertSource.MANUAL,
            kind="fight",
            title="Fight outside the market",
            camera_id=occ_city.west_camera,
            dedup_key="reject-test",
        )
        alert_id = alert.id
    operator = sign_in(console_for(), "#/alerts?view=new", "operator")
    operator.locator(f'tr[data-alert-id="{alert_id}"] input.alert-pick').check()
    operator.click("#open-incident")
    operator.select_option("#incident-type", "assault")
    expect(operator.locator("#incident-priority")).to_have_value("1")
    operator.click("#incident-submit")
    operator.click("#transition-dispatch")
    expect(operator.locator("#incident-status")).to_have_text("Dispatched")
    number = operator.locator("#incident-number").inner_text()

    officer = sign_in(console_for(), "#/incidents", "officer-west")
    row = officer.locator("tr.incident-row", has_text=number)
    row.locator('button[data-transition="reject"]').click()
    confirm = row.locator(".reason-form button[type=submit]")
    expect(confirm).to_be_disabled()  # a rejection needs its reason
    row.locator(".reason-form textarea").fill("Unit tied up at a traffic accident")
    confirm.click()
    expect(row).to_have_count(0)  # out of the unit's queue, live

    expect(operator.locator("#incident-status")).to_have_text("New")
    expect(operator.locator("#incident-unit")).to_have_text("Not dispatched")
    rejected = operator.locator("#incident-timeline .timeline-item").first
    expect(rejected).to_contain_text("Rejected by Yesil patrol 1")
    expect(rejected).to_contain_text("Unit tied up at a traffic accident")
    expect(operator.locator("#transition-dispatch")).to_be_visible()
    assert still_same_page(operator)


def test_operator_works_the_procedure_notes_and_materials(
    console_for: OpenConsole, occ_city: OccCity, screenshots: Path
) -> None:
    operator = sign_in(console_for(), "#/incidents", "operator")
    with operator.expect_response("**/api/incidents") as created:
        operator.evaluate(
            """camera => fetch('/api/incidents', {method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({type_code: 'fire', camera_ids: [camera],
                                      summary: 'Smoke from a kiosk roof'})})""",
            occ_city.west_camera,
        )
    assert created.value.status == 201
    row = operator.locator("tr.incident-row", has_text="Smoke from a kiosk roof")
    expect(row).to_be_visible()  # arrived through the feed
    row.locator(".cell-summary").click()
    expect(operator.locator("#incident-type")).to_have_text("Fire")

    steps = operator.locator("#incident-sop .sop-step")
    expect(steps).to_have_count(4)
    steps.nth(0).locator(".sop-done").click()
    expect(steps.nth(0)).to_have_attribute("data-state", "done")
    expect(steps.nth(0).locator(".sop-mark")).to_contain_text("Done by operator")
    steps.nth(2).locator(".sop-skip").click()
    steps.nth(2).locator(".reason-form textarea").fill("The fire service is already there")
    steps.nth(2).locator(".reason-form button[type=submit]").click()
    expect(steps.nth(2)).to_have_attribute("data-state", "skipped")
    expect(steps.nth(2)).to_contain_text("The fire service is already there")

    operator.fill("#note-text", "Caller says nobody is inside")
    operator.click("#note-submit")
    note = operator.locator("#incident-timeline .timeline-item.kind-note").first
    expect(note).to_contain_text("Caller says nobody is inside")
    expect(operator.locator("#note-text")).to_have_value("")

    operator.set_input_files(
        "#attachment-file",
        {"name": "caller.txt", "mimeType": "text/plain", "buffer": b"Caller: kiosk owner\n"},
    )
    operator.fill("#attachment-description", "The caller's statement")
    operator.click("#attachment-submit")
    attached = operator.locator("#attachment-list .material")
    expect(attached).to_have_count(1)
    expect(attached.locator(".material-name")).to_have_text("caller.txt")
    expect(attached).to_contain_text("The caller's statement")

    operator.fill("#clip-note", "Smoke first seen")
    operator.click("#clip-submit")
    clip = operator.locator("#clip-list .material")
    expect(clip).to_have_count(1)
    expect(clip.locator(".camera-link")).to_have_text(occ_city.west_camera_code)
    expect(clip).to_contain_text("Smoke first seen")
    operator.mouse.move(1, 1)
    operator.screenshot(path=screenshots / "occ-incident-materials.png", full_page=True)


def test_the_map_shows_open_incidents_and_new_alerts_live(
    console_for: OpenConsole, occ_city: OccCity, screenshots: Path
) -> None:
    operator = sign_in(console_for(), "#/map", "operator")
    expect(operator.locator("#map-incident-count")).not_to_have_text("…")
    alert_id = raise_camera_alert(occ_city, occ_city.east_camera, "Camera ALM-0001 offline")
    marker = operator.locator(f'.alert-marker[data-alert-id="{alert_id}"]')
    expect(marker).to_have_count(1)
    expect(marker).to_have_class(re.compile(r"\bfresh\b"))
    marker.locator(".ops-core").hover()
    expect(operator.locator(".map-tooltip")).to_contain_text("Camera ALM-0001 offline")
    assert still_same_page(operator)
    screenshot(operator, screenshots / "occ-map.png")
    marker.locator(".ops-core").click()
    expect(operator).to_have_url(re.compile(rf"#/cameras/{occ_city.east_camera}$"))


def test_operators_run_the_shift_beside_the_alert_feed(
    console_for: OpenConsole, screenshots: Path
) -> None:
    operator = sign_in(console_for(), "#/alerts", "operator")
    expect(operator.locator("#shift-body")).to_contain_text("No shift on.")
    operator.click("#start-shift")
    expect(operator.locator("#shift-summary")).to_contain_text("Supervisor: operator")
    expect(operator.locator("#shift-operators")).to_have_text("operator")
    expect(operator.locator("#escalation-list")).to_have_text("None open.")
    screenshot(operator, screenshots / "occ-shift.png")

    operator.click("#end-shift")
    operator.fill("#handover-note", "Camera YES-0001 keeps dropping; the vendor is called")
    operator.click("#end-shift-submit")
    expect(operator.locator("#shift-body")).to_contain_text("No shift on.")


def test_the_feed_reconnects_and_catches_up_on_what_it_missed(
    console_for: OpenConsole, occ_city: OccCity
) -> None:
    console = console_for()
    page = console.page
    feed = "**/api/ops/feed"
    page.route(feed, lambda route: route.fulfill(status=503, body="restarting"))
    console.goto("#/alerts")
    page.fill("#login-username", "operator")
    page.fill("#login-password", f.PASSWORD)
    page.click("#login-submit")
    expect(page.locator("#feed-state")).to_have_attribute("data-state", "reconnecting")
    expect(page.locator("#feed-state")).to_have_text("Reconnecting…")
    expect(page.locator("#alert-count")).to_be_visible()
    page.evaluate("window.__noReload = true")

    with occ_city.database.session() as s:
        alert, _ = raise_alert(
            s,
            source=AlertSource.MANUAL,
            kind="crowd",
            title="Crowd gathering at the station",
            camera_id=occ_city.east_camera,
            dedup_key="while-the-feed-was-down",
        )
        alert_id = alert.id
    row = page.locator(f'tr.alert-row[data-alert-id="{alert_id}"]')
    expect(row).to_have_count(0)  # nothing pushed while the feed is down

    page.unroute(feed)
    # The console retries on its own (after 2, 5, 10, then every 30 s) and refetches once the
    # stream is open; on a loaded machine the unroute may just miss the 10 s retry.
    expect(page.locator("#feed-state")).to_have_attribute("data-state", "live", timeout=45_000)
    expect(row).to_be_visible()
    assert still_same_page(page)
