"""The video analytics in the console, under headless Chromium: alert thumbnails, what the
analytics saw on an incident, forensic search, the counts chart and analytics figures on the
camera page, and an administrator drawing rules over the live picture.

A small city of its own (two districts, a park site in the west, a camera with a live picture,
a police unit for the west), with analytics events, their snapshot files, an alert raised by
one of them and counts, all stored through the services the analytics pipeline uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from safecity.analytics.counts import CountRow, add_counts, count_bin
from safecity.analytics.event_store import record_event
from safecity.analytics.objects import Box, ObjectClass
from safecity.analytics.rule_store import replace_site_rules
from safecity.analytics.rules.definitions import ZoneIntrusion
from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.models import CameraHealth, OrganizationKind, PoliceUnit
from safecity.ops.alerts.analytics import AnalyticsEvent, take_event
from safecity.ops.alerts.intake import raise_alert
from safecity.ops.models import AlertSource
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from safecity.video.models import CameraStream, StreamStatus
from tests import factories as f
from tests.support.live_server import serve_app
from tests.web.conftest import OpenConsole, Watched, sign_in, watched_console
from tests.web.conftest import TestPatternSnapshots as PatternSnapshots

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WEST = (71.30, 51.10, 71.40, 51.17)
EAST = (71.40, 51.10, 71.50, 51.17)
OLDER_EVENTS = 50  # on the west street camera: more than one page of the search (48)
PEOPLE_BIN_AGO = 5  # the 15-minute bin, this many bins back, that holds PEOPLE_IN_BIN people
PEOPLE_IN_BIN = 37


@dataclass(frozen=True)
class AnalyticsCity:
    url: str
    database: Database
    park_camera: int  # west, in the park, live picture, analysed
    street_camera: int  # west, not analysed
    east_camera: int  # east: outside the west unit's scope
    intrusion_alert: int  # raised by the park camera's intrusion event
    health_alert: int  # a camera-health alert: no picture
    intrusion_event: int
    crossing_event: int
    east_event: int


def scene_jpeg(label: str, width: int = 640, height: int = 360) -> bytes:
    """A plaza at dusk with a person in a detection box: what an event's best snapshot shows."""
    picture = np.zeros((height, width, 3), np.uint8)
    picture[:] = np.linspace(70, 30, height, dtype=np.uint8)[:, None, None]
    picture[height // 2 :] = (58, 62, 66)
    for x in range(0, width, 48):
        cv2.line(picture, (x, height // 2), (x - 120, height), (80, 84, 90), 1)
    cv2.rectangle(picture, (40, 120), (190, 200), (90, 60, 40), -1)  # a kiosk
    cv2.circle(picture, (330, 170), 14, (150, 170, 200), -1)  # the person: head, body, legs
    cv2.rectangle(picture, (316, 186), (344, 250), (60, 90, 160), -1)
    cv2.rectangle(picture, (318, 250), (328, 290), (40, 40, 40), -1)
    cv2.rectangle(picture, (332, 250), (342, 290), (40, 40, 40), -1)
    cv2.rectangle(picture, (304, 148), (356, 296), (80, 220, 120), 2)
    cv2.putText(picture, label, (304, 142), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (80, 220, 120), 1)
    ok, encoded = cv2.imencode(".jpg", picture)
    assert ok
    return encoded.tobytes()


def _event(session: Any, camera_id: int, at: datetime, **fields: Any) -> int:
    values: dict[str, Any] = {
        "started_at": at - timedelta(seconds=4),
        "rule_name": "Park gate",
        "kind": "intrusion",
        "confidence": 0.87,
        "boxes": [Box(304, 148, 356, 296)],
        "frame_size": (640, 360),
        "clip_start": at - timedelta(seconds=10),
        "clip_end": at + timedelta(seconds=10),
        "object_class": ObjectClass.PERSON,
        "track_id": 7,
        **fields,
    }
    return record_event(session, camera_id=camera_id, at=at, **values).id


def _snapshot(media: Path, name: str, label: str) -> str:
    relative = f"snapshots/{name}.jpg"
    (media / relative).parent.mkdir(parents=True, exist_ok=True)
    (media / relative).write_bytes(scene_jpeg(label))
    return relative


@pytest.fixture(scope="module")
def analytics_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalyticsCity]:
    data_dir = tmp_path_factory.mktemp("analytics")
    settings = Settings(data_dir=data_dir)
    media = settings.media_path
    database = Database(f"sqlite:///{data_dir / 'safecity.db'}")
    migrate.upgrade(database)
    now = datetime.now(UTC)
    with database.session() as s:
        west = f.add_district(s, "yesil", WEST)
        east = f.add_district(s, "almaty", EAST)
        occ = f.add_organization(s, "astana-occ", OrganizationKind.OPERATOR_CENTER)
        police = f.add_organization(s, "astana-police", OrganizationKind.POLICE)
        unit = PoliceUnit(
            code="yesil-1", name="Yesil patrol 1", organization=police, districts=[west]
        )
        s.add(unit)
        s.flush()
        admin = f.add_user(s, "admin", Role.ADMIN, occ)
        f.add_user(s, "operator", Role.OPERATOR, occ)
        f.add_user(s, "officer-west", Role.POLICE_DUTY_OFFICER, police, police_unit=unit)
        f.add_user(s, "analyst", Role.ANALYST)
        park = f.add_site(s, "central-park", west)
        park.name = "Central Park"
        park_camera = f.add_camera(s, "YES-0001", west, park, health=CameraHealth.ONLINE)
        park_camera.name = "Central Park — main gate"
        street_camera = f.add_camera(s, "YES-0002", west, health=CameraHealth.ONLINE)
        street_camera.name = "Turan Ave / Kabanbay Batyr Ave"
        east_camera = f.add_camera(s, "ALM-0001", east, health=CameraHealth.ONLINE)
        east_camera.name = "Almaty market"
        s.add(
            CameraStream(
                camera_id=park_camera.id,
                status=StreamStatus.ONLINE,
                fps=25.0,
                bitrate_kbps=512.0,
                width=640,
                height=360,
                codec="h264",
                last_packet_at=now,
                connected_since=now - timedelta(hours=3),
                recording=True,
                analytics={
                    "decode_fps": 5.0,
                    "analysed_fps": 4.8,
                    "skipped_fps": 0.2,
                    "detector_ms": 41.5,
                    "detector_share": 0.35,
                    "motion_share": 0.062,
                    "regions": 1.4,
                },
                updated_at=now,
            )
        )
        replace_site_rules(
            s,
            park,
            [
                ZoneIntrusion(
                    name="Park closed at night", zone=[(0.05, 0.5), (0.4, 0.5), (0.4, 0.95)]
                )
            ],
            admin,
        )

        intrusion = _event(
            s,
            park_camera.id,
            now - timedelta(minutes=20),
            snapshot=_snapshot(media, "park-intrusion", "person 87%"),
        )
        crossing = _event(
            s,
            park_camera.id,
            now - timedelta(minutes=50),
            kind="line_crossing",
            rule_name="Gate line",
            object_class=ObjectClass.CAR,
            confidence=0.74,
            snapshot=_snapshot(media, "park-crossing", "car 74%"),
        )
        east_event = _event(
            s,
            east_camera.id,
            now - timedelta(minutes=35),
            kind="loitering",
            rule_name="Market stalls",
            snapshot=_snapshot(media, "east-loitering", "person 91%"),
        )
        for n in range(OLDER_EVENTS):
            _event(
                s,
                street_camera.id,
                now - timedelta(hours=2, minutes=n),
                kind="crowd",
                rule_name="Crosswalk",
                object_class=ObjectClass.PERSON,
                confidence=0.6,
            )
        outcome, alert = take_event(
            s,
            park_camera.code,
            AnalyticsEvent(
                kind="intrusion",
                confidence=0.87,
                at=now - timedelta(minutes=20),
                zone="Park gate",
                snapshot="snapshots/park-intrusion.jpg",
                details={"event_id": intrusion},
            ),
            zone=settings.zone,
        )
        assert alert is not None, outcome
        health, _ = raise_alert(
            s,
            source=AlertSource.CAMERA_HEALTH,
            kind="camera_offline",
            title="Camera stopped sending video",
            camera_id=street_camera.id,
        )

        latest = count_bin(now)
        rows = []
        for back in range(1, 96):
            start = latest - timedelta(minutes=15 * back)
            people = PEOPLE_IN_BIN if back == PEOPLE_BIN_AGO else (back * 7) % 23
            rows.append(CountRow(park_camera.id, start, ObjectClass.PERSON, people))
            rows.append(CountRow(park_camera.id, start, ObjectClass.CAR, (back * 5) % 11))
            rows.append(CountRow(park_camera.id, start, ObjectClass.BUS, back % 3))
        add_counts(s, rows)
        facts = AnalyticsCity(
            url="",
            database=database,
            park_camera=park_camera.id,
            street_camera=street_camera.id,
            east_camera=east_camera.id,
            intrusion_alert=alert.id,
            health_alert=health.id,
            intrusion_event=intrusion,
            crossing_event=crossing,
            east_event=east_event,
        )
    app = create_app(settings, database, snapshots=PatternSnapshots({"YES-0001"}))
    with serve_app(app) as url:
        yield AnalyticsCity(**{**facts.__dict__, "url": url})
    database.dispose()


@pytest.fixture
def console_for(browser: Browser, analytics_city: AnalyticsCity) -> Iterator[OpenConsole]:
    with ExitStack() as stack:
        yield lambda: stack.enter_context(watched_console(browser, analytics_city.url))


def screenshot(page: Page, path: Path, *, full_page: bool = False) -> None:
    page.mouse.move(1, 1)
    page.screenshot(path=path, full_page=full_page)


def api(page: Page, path: str, method: str = "GET", body: Any = None) -> Any:
    """Call the API with the page's session, as the console does."""
    return page.evaluate(
        """async ([path, method, body]) => {
            const response = await fetch(path, {method, headers: {'Content-Type': 'application/json'},
                body: body === null ? undefined : JSON.stringify(body)});
            return {status: response.status, body: await response.json()};
        }""",
        [path, method, body],
    )


def shown_picture(locator: Locator) -> None:
    """The thumbnail has loaded its picture (a real JPEG, decoded by the browser)."""
    expect(locator).to_have_attribute("data-state", "shown")
    assert locator.locator("img").evaluate("img => img.naturalWidth") == 640


# --- alerts and incidents --------------------------------------------------------------------


def test_an_analytics_alert_shows_its_snapshot_and_opens_it_large(
    console_for: OpenConsole, analytics_city: AnalyticsCity, screenshots: Path
) -> None:
    page = sign_in(console_for(), "#/alerts", "operator")
    row = page.locator(f'tr.alert-row[data-alert-id="{analytics_city.intrusion_alert}"]')
    thumb = row.locator(".cell-thumb .thumb")
    shown_picture(thumb)
    other = page.locator(f'tr.alert-row[data-alert-id="{analytics_city.health_alert}"] .thumb')
    expect(other).to_have_attribute("data-state", "none")  # neutral placeholder, no request
    screenshot(page, screenshots / "analytics-alert-thumbnails.png")

    thumb.click()
    dialog = page.locator("#picture-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".picture-frame")).to_have_attribute("data-state", "shown")
    assert page.locator("#picture-large").evaluate("img => img.naturalWidth") == 640
    expect(dialog).to_contain_text("Intrusion at camera YES-0001")
    screenshot(page, screenshots / "analytics-alert-preview.png")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_the_incident_shows_what_the_analytics_saw_and_leads_to_the_recording(
    console_for: OpenConsole, analytics_city: AnalyticsCity, screenshots: Path
) -> None:
    page = sign_in(console_for(), "#/incidents", "operator")
    created = api(
        page,
        "/api/incidents",
        "POST",
        {
            "alert_ids": [analytics_city.intrusion_alert],
            "type_code": "other",
            "summary": "Person in the closed park",
        },
    )
    assert created["status"] == 201, created
    page.goto(f"{analytics_city.url}/#/incidents/{created['body']['id']}")
    sighting = page.locator(
        f'#incident-sightings .sighting[data-event-id="{analytics_city.intrusion_event}"]'
    )
    expect(sighting).to_be_visible()
    shown_picture(sighting.locator(".thumb"))
    expect(sighting).to_contain_text("Zone intrusion")
    expect(sighting).to_contain_text("Park gate")
    play = sighting.locator(".sighting-play")
    expect(play).to_have_attribute(
        "href", re.compile(rf"^#/cameras/{analytics_city.park_camera}\?at=\d{{4}}-")
    )
    shown_picture(
        page.locator(f'#incident-alerts [data-alert-id="{analytics_city.intrusion_alert}"] .thumb')
    )
    screenshot(page, screenshots / "analytics-incident.png")

    play.click()
    expect(page).to_have_url(re.compile(rf"#/cameras/{analytics_city.park_camera}\?at="))
    expect(page.locator("#camera-code")).to_have_text("YES-0001")


# --- forensic search -------------------------------------------------------------------------


def test_a_duty_officer_finds_events_by_filters_within_their_districts(
    console_for: OpenConsole, analytics_city: AnalyticsCity, screenshots: Path
) -> None:
    page = sign_in(console_for(), "#/incidents", "officer-west")
    page.click('.nav-link[data-nav="events"]')
    cards = page.locator("#event-grid .event-card")
    newest = cards.first
    expect(newest).to_have_attribute("data-event-id", str(analytics_city.intrusion_event))
    expect(cards).to_have_count(48)  # a page; more remain
    expect(page.locator(f'.event-card[data-event-id="{analytics_city.east_event}"]')).to_have_count(
        0
    )
    shown_picture(newest.locator(".thumb"))
    expect(newest.locator(".event-play")).to_have_attribute(
        "href", re.compile(rf"^#/cameras/{analytics_city.park_camera}\?at=")
    )
    screenshot(page, screenshots / "analytics-search-grid.png")

    page.click("#events-more")
    expect(cards).to_have_count(2 + OLDER_EVENTS)

    page.select_option("#events-kind", "line_crossing")
    page.click("#events-search")
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-event-id", str(analytics_city.crossing_event))
    expect(cards.first).to_contain_text("Car")
    assert "kind=line_crossing" in page.url

    page.select_option("#events-kind", "")
    page.select_option("#events-class", "car")
    page.fill("#events-camera", "YES-0001")
    page.click("#events-search")
    expect(cards).to_have_count(1)
    page.select_option("#events-class", "")
    page.fill("#events-rule", "Park gate")
    page.click("#events-search")
    expect(cards).to_have_count(1)
    expect(cards.first).to_have_attribute("data-event-id", str(analytics_city.intrusion_event))

    # The east camera is not theirs: naming it finds nothing of it.
    page.fill("#events-rule", "")
    page.fill("#events-camera", "ALM-0001")
    page.click("#events-search")
    expect(page.locator("#events-message")).to_contain_text("No camera of yours matches")

    page.fill("#events-camera", "")
    page.click("#events-search")
    expect(cards).to_have_count(48)
    page.click('#events-layout [data-value="list"]')
    rows = page.locator("#event-table tr.event-row")
    expect(rows).to_have_count(48)
    expect(rows.first).to_contain_text("Park gate")
    screenshot(page, screenshots / "analytics-search-list.png")


def test_the_operator_sees_every_district_and_an_analyst_sees_events_without_pictures(
    console_for: OpenConsole, analytics_city: AnalyticsCity, screenshots: Path
) -> None:
    operator = sign_in(console_for(), "#/events?kind=loitering", "operator")
    east = operator.locator(f'.event-card[data-event-id="{analytics_city.east_event}"]')
    expect(east).to_be_visible()
    shown_picture(east.locator(".thumb"))

    analyst = sign_in(console_for(), "#/events", "analyst")
    row = analyst.locator(
        f'#event-table tr.event-row[data-event-id="{analytics_city.intrusion_event}"]'
    )
    expect(row).to_be_visible()  # a list: a grid of placeholders would say nothing
    expect(row.locator(".thumb")).to_have_attribute("data-state", "none")
    expect(row.locator(".thumb")).to_have_attribute("title", "Pictures are not part of your role")
    expect(analyst.locator(".event-play")).to_have_count(0)  # recordings are not theirs either
    screenshot(analyst, screenshots / "analytics-search-analyst.png")


# --- the camera page -------------------------------------------------------------------------


def test_the_camera_page_charts_its_counts_and_shows_the_analytics_figures(
    console_for: OpenConsole, analytics_city: AnalyticsCity, screenshots: Path
) -> None:
    page = sign_in(console_for(), f"#/cameras/{analytics_city.park_camera}", "operator")
    figures = page.locator("#analytics-figures")
    expect(figures.locator('[data-field="decode_fps"]')).to_have_text("5.0 fps")
    expect(figures.locator('[data-field="analysed_fps"]')).to_have_text("4.8 fps")
    expect(figures.locator('[data-field="skipped_fps"]')).to_have_text("0.2 fps")
    expect(figures.locator('[data-field="detector_ms"]')).to_contain_text("41.5 ms")
    expect(figures.locator('[data-field="motion_share"]')).to_have_text("6.2 % of the picture")
    page.locator(".health-panel").screenshot(path=screenshots / "analytics-health-figures.png")

    chart = page.locator("#counts-chart")
    expect(chart).to_be_visible()
    people = chart.locator('rect.count-bar[data-series="people"]')
    assert people.count() > 50
    peak = chart.locator(f'rect.count-bar[data-series="people"][data-count="{PEOPLE_IN_BIN}"]')
    expect(peak).to_have_count(1)
    vehicles = chart.locator('rect.count-bar[data-series="vehicles"]')
    assert vehicles.count() > 50
    peak.hover()
    expect(page.locator("#counts-readout")).to_contain_text(f"{PEOPLE_IN_BIN} people")
    page.locator("#counts-panel").scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "analytics-counts-chart.png")

    quarters = people.count()
    page.click('#counts-period [data-value="7d-1h"]')
    expect(chart.locator('rect.count-bar[data-series="people"]')).not_to_have_count(quarters)
    page.click("#counts-as-table")
    table = page.locator("#counts-table")
    expected_people = sum(
        PEOPLE_IN_BIN if back == PEOPLE_BIN_AGO else (back * 7) % 23 for back in range(1, 96)
    )
    expect(table.locator("tr.counts-total td").first).to_have_text(f"{expected_people:,}")
    page.locator("#counts-panel").screenshot(path=screenshots / "analytics-counts-table.png")

    page.click("#camera-events")  # the search, on this camera
    expect(page.locator("#events-camera")).to_have_value("YES-0001")
    expect(page.locator("#event-grid .event-card")).to_have_count(2)

    page.goto(f"{analytics_city.url}/#/cameras/{analytics_city.street_camera}")
    expect(page.locator("#counts-body")).to_contain_text("Not analysed")
    expect(page.locator("#analytics-figures")).to_have_count(0)


# --- the rule editor -------------------------------------------------------------------------


def click_at(page: Page, x: float, y: float, *, double: bool = False) -> None:
    """Click the rule canvas at (x, y) in shares of the picture."""
    box = page.locator("#rule-canvas").bounding_box()
    assert box is not None
    at = (box["x"] + x * box["width"], box["y"] + y * box["height"])
    if double:
        page.mouse.dblclick(*at)
    else:
        page.mouse.click(*at)


def open_editor(console: Watched, analytics_city: AnalyticsCity) -> Page:
    page = sign_in(console, f"#/cameras/{analytics_city.park_camera}", "admin")
    expect(page.locator("#rule-stage")).to_have_attribute("data-picture", "live")
    page.locator("#rule-editor").scroll_into_view_if_needed()
    return page


def test_the_admin_draws_a_zone_and_a_line_over_the_picture_and_saves_them(
    console_for: OpenConsole, analytics_city: AnalyticsCity, screenshots: Path
) -> None:
    page = open_editor(console_for(), analytics_city)
    expect(page.locator("#site-rules")).to_contain_text("Park closed at night")

    # Escape gives up a drawing: no mask is added.
    page.click("#mask-add")
    click_at(page, 0.1, 0.1)
    click_at(page, 0.2, 0.1)
    page.keyboard.press("Escape")
    expect(page.locator("#rule-drawing")).to_be_hidden()
    expect(page.locator("#rule-list .mask-item")).to_have_count(0)

    page.select_option("#rule-add", "intrusion")
    expect(page.locator("#rule-drawing")).to_be_visible()
    zone = [(0.2, 0.3), (0.6, 0.3), (0.7, 0.8)]
    for x, y in zone:
        click_at(page, x, y)
    click_at(page, 0.15, 0.8, double=True)
    expect(page.locator("#rule-zone-state")).to_have_text("Drawn: 4 corners")
    page.fill("#rule-name", "Closed yard")
    page.fill("#rule-seconds", "3")
    page.locator('#rule-classes input[value="car"]').check()

    page.select_option("#rule-add", "line_crossing")
    click_at(page, 0.1, 0.55)
    screenshot(page, screenshots / "analytics-rule-drawing.png")
    click_at(page, 0.9, 0.6)
    expect(page.locator("#rule-line-state")).to_have_text("Drawn from A to B")
    page.fill("#rule-name", "Pavement line")
    page.select_option("#rule-direction", "forward")
    # forward: from the left of A→B to its right, i.e. downward for a line drawn left to right
    arrow = page.locator('.shape-rule.selected .line-arrow[data-towards="right"]')
    expect(arrow).to_have_count(1)
    y1, y2 = (float(arrow.get_attribute(name) or 0) for name in ("y1", "y2"))
    assert y2 > y1

    page.click("#rule-window-add")
    page.locator('#rule-window-0-days input[value="sat"]').uncheck()
    page.locator('#rule-window-0-days input[value="sun"]').uncheck()

    page.click("#rules-save")
    expect(page.locator("#rules-message")).to_contain_text("Saved at")
    screenshot(page, screenshots / "analytics-rule-editor.png")

    stored = api(page, f"/api/cameras/{analytics_city.park_camera}/analytics/rules")
    assert stored["status"] == 200
    rules = {rule["name"]: rule for rule in stored["body"]["rules"]}
    yard = rules["Closed yard"]
    assert yard["kind"] == "intrusion"
    assert yard["seconds"] == 3
    assert sorted(yard["classes"]) == ["car", "person"]
    assert len(yard["zone"]) == 4
    for (x, y), (sx, sy) in zip([*zone, (0.15, 0.8)], yard["zone"], strict=True):
        assert abs(x - sx) < 0.01 and abs(y - sy) < 0.01, yard["zone"]
    line = rules["Pavement line"]
    assert line["direction"] == "forward"
    for (x, y), (sx, sy) in zip([(0.1, 0.55), (0.9, 0.6)], line["line"], strict=True):
        assert abs(x - sx) < 0.01 and abs(y - sy) < 0.01, line["line"]
    assert line["schedule"] == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "22:00:00", "end": "06:00:00"}
    ]


def test_a_zone_whose_edges_cross_is_refused_with_the_servers_words_beside_it(
    console_for: OpenConsole, analytics_city: AnalyticsCity, screenshots: Path
) -> None:
    page = open_editor(console_for(), analytics_city)
    before = api(page, f"/api/cameras/{analytics_city.park_camera}/analytics/rules")["body"]
    page.select_option("#rule-add", "loitering")
    for x, y in [(0.3, 0.2), (0.7, 0.7), (0.7, 0.2)]:
        click_at(page, x, y)
    click_at(page, 0.3, 0.7, double=True)  # a bow tie: the edges cross
    page.click("#rules-save")
    expect(page.locator("#rules-message")).to_contain_text("Not saved")
    problem = page.locator('#rule-form [data-field="zone"] .field-problem')
    expect(problem).to_contain_text("The zone's edges cross each other")
    expect(page.locator("#rule-list .rule-item.has-problem")).to_have_count(1)
    screenshot(page, screenshots / "analytics-rule-refused.png")
    after = api(page, f"/api/cameras/{analytics_city.park_camera}/analytics/rules")["body"]
    assert after == before  # nothing changed
