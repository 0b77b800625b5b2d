"""The Hotspots screen under headless Chromium: an analyst's map of Gi* classes over kernel
density with the near-repeat result in words, its filters, and a district akimat who sees
only their district.

A city of its own: West and East, a market in the West where a quarter of the West's crimes
happen, and a run of near repeats (a crime, then another within ~60 m and four days).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, expect

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.models import OrganizationKind
from safecity.insights.models import CrimeRecord
from safecity.settings import Settings
from safecity.store import migrate
from safecity.store.engine import Database
from tests import factories as f
from tests.support.live_server import serve_app
from tests.web.conftest import OpenConsole, sign_in, watched_console

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MARKET = (71.335, 51.165)
WEST_CRIMES = 400 + 150 + 2 * 120  # spread out, at the market, near-repeat pairs
EAST_CRIMES = 250
WITHOUT_POSITION = 7


@dataclass(frozen=True)
class HotspotCity:
    url: str


@pytest.fixture(scope="module")
def hotspot_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HotspotCity]:
    folder = tmp_path_factory.mktemp("hotspots")
    database = Database(f"sqlite:///{folder / 'safecity.db'}")
    migrate.upgrade(database)
    rng = np.random.default_rng(2026)
    now = datetime.now(UTC)
    with database.session() as s:
        west = f.add_district(s, "west", f.WEST)
        east = f.add_district(s, "east", f.EAST)
        occ = f.add_organization(s, "occ", OrganizationKind.OPERATOR_CENTER)
        akimat = f.add_organization(s, "akimat-west", OrganizationKind.AKIMAT, west)
        f.add_user(s, "analyst", Role.ANALYST, occ)
        f.add_user(s, "operator", Role.OPERATOR, occ)
        f.add_user(s, "akimat-west", Role.AKIMAT, akimat)

        def days_ago(n: int) -> np.ndarray:
            return rng.uniform(1, 360, n)

        spread_lon, spread_lat = rng.uniform(71.30, 71.40, 400), rng.uniform(51.10, 51.20, 400)
        market_lon = rng.normal(MARKET[0], 0.0015, 150)
        market_lat = rng.normal(MARKET[1], 0.001, 150)
        first_lon, first_lat = rng.uniform(71.31, 71.39, 120), rng.uniform(51.11, 51.19, 120)
        first_days = days_ago(120)
        rows = [
            *zip(spread_lon, spread_lat, days_ago(400), [west.id] * 400, strict=True),
            *zip(market_lon, market_lat, days_ago(150), [west.id] * 150, strict=True),
            *zip(first_lon, first_lat, first_days, [west.id] * 120, strict=True),
            *zip(
                first_lon + rng.normal(0, 0.0006, 120),
                first_lat + rng.normal(0, 0.0004, 120),
                first_days - rng.uniform(0.1, 4, 120),
                [west.id] * 120,
                strict=True,
            ),
            *zip(
                rng.uniform(71.40, 71.50, 250),
                rng.uniform(51.10, 51.20, 250),
                days_ago(250),
                [east.id] * 250,
                strict=True,
            ),
        ]
        kinds = [CrimeKind.THEFT, CrimeKind.ROBBERY, CrimeKind.HOOLIGANISM]
        s.add_all(
            CrimeRecord(
                code=f"ERDR-{index:05d}",
                occurred_at=now - timedelta(days=float(ago)),
                kind=kinds[index % 3],
                place_kind=PlaceKind.DWELLING if index % 5 == 0 else PlaceKind.STREET,
                latitude=float(lat),
                longitude=float(lon),
                district_id=district_id,
            )
            for index, (lon, lat, ago, district_id) in enumerate(rows)
        )
        s.add_all(
            CrimeRecord(
                code=f"NOPOS-{index}",
                occurred_at=now - timedelta(days=10 + index),
                kind=CrimeKind.THEFT,
                place_kind=PlaceKind.STREET,
                district_id=west.id,
            )
            for index in range(WITHOUT_POSITION)
        )
    app = create_app(Settings(data_dir=folder), database)
    with serve_app(app) as url:
        yield HotspotCity(url)
    database.dispose()


@pytest.fixture
def console_for(browser: Browser, hotspot_city: HotspotCity) -> Iterator[OpenConsole]:
    with ExitStack() as stack:
        yield lambda: stack.enter_context(watched_console(browser, hotspot_city.url))


def test_the_analyst_sees_the_market_as_a_hot_spot_and_the_near_repeats_in_words(
    console_for: OpenConsole, screenshots: Path
) -> None:
    page = sign_in(console_for(), "#/map", "analyst")
    page.click("a.nav-link[data-nav='hotspots']")

    expect(page.locator("#hotspots-status")).to_have_text(
        f"{WEST_CRIMES + EAST_CRIMES:,} crimes mapped"
    )
    hot = page.locator("#hotspots-cells path.class-hot_99")
    expect(hot).to_have_count(1)
    assert int(hot.get_attribute("data-cells") or 0) >= 2
    assert page.locator("#hotspots-density path").count() >= 3
    expect(page.locator("#hotspots-legend li[data-class='hot_99'] .legend-count")).not_to_have_text(
        "0"
    )
    words = page.locator("#hotspots-near-repeat .near-repeat-words")
    expect(words).to_contain_text(
        "Near repeats: after a crime, more follow within 200 m and 14 days"
    )
    expect(page.locator("#hotspots-notes")).to_contain_text(
        f"{WITHOUT_POSITION} records have only a district"
    )
    page.mouse.move(1, 1)
    page.screenshot(path=screenshots / "hotspots-analyst.png")

    page.select_option("#hotspots-kind", "robbery")
    page.check("#hotspots-public")
    expect(page.locator("#hotspots-status")).to_have_text(re.compile(r"^[0-9,]+ crimes mapped$"))
    assert "kind=robbery" in page.url and "public_only=true" in page.url
    robbery_in_public = int(
        page.locator("#hotspots-status").inner_text().split()[0].replace(",", "")
    )
    assert 0 < robbery_in_public < (WEST_CRIMES + EAST_CRIMES) / 3
    page.screenshot(path=screenshots / "hotspots-filtered.png")


def test_a_district_akimat_maps_only_its_district_and_an_operator_has_no_hotspots(
    console_for: OpenConsole, screenshots: Path
) -> None:
    page = sign_in(console_for(), "#/hotspots", "akimat-west")
    expect(page.locator("#hotspots-status")).to_have_text(f"{WEST_CRIMES:,} crimes mapped")
    expect(page.locator("#hotspots-cells path.class-hot_99")).to_have_count(1)
    page.mouse.move(1, 1)
    page.screenshot(path=screenshots / "hotspots-akimat-west.png")

    operator = sign_in(console_for(), "#/map", "operator")
    expect(operator.locator("a.nav-link[data-nav='map']")).to_be_visible()
    expect(operator.locator("a.nav-link[data-nav='hotspots']")).to_have_count(0)
