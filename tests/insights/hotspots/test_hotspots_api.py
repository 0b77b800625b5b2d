"""GET /api/insights/hotspots and /near-repeat: cut to the caller's districts, bad input refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from shapely.geometry import Point, shape
from sqlalchemy import select

from safecity.auth.roles import Scope
from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.models import District
from safecity.insights.hotspots import near_repeat
from safecity.insights.hotspots.figure import hotspot_figure
from safecity.insights.hotspots.schemas import HotspotClass, HotspotQuery
from safecity.insights.hotspots.service import hotspot_analysis
from safecity.insights.models import CrimeRecord
from safecity.store.engine import Database
from tests.api.conftest import City

SignIn = Callable[[str], TestClient]
CLUSTER = (71.33, 51.17)
WEST_POSITIONED = 300 + 120 + 2  # background, cluster, and two of the city fixture's three
EAST_POSITIONED = 200 + 1
WEST_WITHOUT_POSITION = 5


@pytest.fixture
def crimes(database: Database, city: City) -> None:
    """West: 300 crimes spread out and 120 round a market; east: 200 spread out; five west
    records with only a district. A tenth of them in dwellings."""
    rng = np.random.default_rng(17)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    points = [
        *[(city.west_id, lon, lat) for lon, lat in zip(rng.uniform(71.30, 71.40, 300), rng.uniform(51.10, 51.20, 300), strict=True)],
        *[(city.west_id, lon, lat) for lon, lat in zip(rng.normal(CLUSTER[0], 0.0012, 120), rng.normal(CLUSTER[1], 0.0008, 120), strict=True)],
        *[(city.east_id, lon, lat) for lon, lat in zip(rng.uniform(71.40, 71.50, 200), rng.uniform(51.10, 51.20, 200), strict=True)],
        *[(city.west_id, None, None)] * WEST_WITHOUT_POSITION,
    ]  # fmt: skip
    with database.session() as session:
        session.add_all(
            CrimeRecord(
                code=f"T-{index}",
                occurred_at=start + timedelta(hours=int(rng.integers(0, 24 * 300))),
                kind=CrimeKind.THEFT,
                place_kind=PlaceKind.DWELLING if index % 10 == 0 else PlaceKind.STREET,
                latitude=None if lat is None else float(lat),
                longitude=None if lon is None else float(lon),
                district_id=district_id,
            )
            for index, (district_id, lon, lat) in enumerate(points)
        )


def _hotspots(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/insights/hotspots", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _centre_longitudes(body: dict[str, Any]) -> list[float]:
    return [shape(f["geometry"]).centroid.x for f in body["features"]]


@pytest.mark.usefixtures("crimes")
def test_city_wide_map_finds_the_market_and_counts_records_without_position(
    signed_in: SignIn,
) -> None:
    body = _hotspots(signed_in("admin"), cell_m=250)

    assert body["type"] == "FeatureCollection"
    summary = body["summary"]
    assert summary["records"] == WEST_POSITIONED + EAST_POSITIONED
    assert summary["without_position"] == WEST_WITHOUT_POSITION
    assert "5 records have only a district" in summary["notes"][0]
    market = [f for f in body["features"] if shape(f["geometry"]).contains(Point(CLUSTER))]
    assert len(market) == 1
    properties = market[0]["properties"]
    assert properties["class"] == "hot_99"
    assert properties["p_fdr"] < 0.01 and properties["z"] > 3 and properties["count"] > 20
    assert summary["classes"]["hot_99"] >= 1
    assert sum(f["properties"]["count"] for f in body["features"]) == summary["records"]
    assert summary["seconds"] < 5


@pytest.mark.usefixtures("crimes")
def test_a_district_user_analyses_only_their_districts(signed_in: SignIn) -> None:
    west = _hotspots(signed_in("akimat-west"))
    assert west["summary"]["records"] == WEST_POSITIONED
    assert west["summary"]["without_position"] == WEST_WITHOUT_POSITION
    assert max(_centre_longitudes(west)) < 71.40  # the grid covers West alone

    east = _hotspots(signed_in("officer-east"))
    assert east["summary"]["records"] == EAST_POSITIONED
    assert min(_centre_longitudes(east)) > 71.40
    assert east["summary"]["classes"]["hot_99"] == 0  # the market is not theirs

    unlinked = _hotspots(signed_in("orphan-officer"))  # an officer without a unit: no district
    assert unlinked["summary"]["records"] == 0 and unlinked["features"] == []


@pytest.mark.usefixtures("crimes")
@pytest.mark.parametrize("path", ["/api/insights/hotspots", "/api/insights/near-repeat"])
def test_a_utility_company_and_an_operator_may_not_analyse_crimes(
    signed_in: SignIn, path: str
) -> None:
    params = {"permutations": 19} if path.endswith("near-repeat") else {}
    assert signed_in("admin").get(path, params=params).status_code == 200
    for username in ("water", "operator"):
        response = signed_in(username).get(path, params=params)
        assert response.status_code == 403, response.text
        assert "administrators, analysts, akimats and police duty officers" in response.text


@pytest.mark.usefixtures("crimes")
def test_a_district_outside_ones_scope_is_not_found(signed_in: SignIn, city: City) -> None:
    client = signed_in("akimat-west")
    response = client.get("/api/insights/hotspots", params={"district_id": city.east_id})
    assert response.status_code == 404
    assert response.json()["detail"] == f"no district {city.east_id} among yours"
    assert _hotspots(client, district_id=city.west_id)["summary"]["records"] == WEST_POSITIONED


@pytest.mark.usefixtures("crimes")
def test_filters_narrow_the_records(signed_in: SignIn) -> None:
    client = signed_in("admin")
    public = _hotspots(client, public_only=True)["summary"]["records"]
    assert 0.8 * (WEST_POSITIONED + EAST_POSITIONED) < public < WEST_POSITIONED + EAST_POSITIONED
    assert _hotspots(client, kind="robbery")["summary"]["records"] == 0
    early = _hotspots(client, since="2026-01-01T00:00:00Z", until="2026-02-01T00:00:00Z")
    assert 0 < early["summary"]["records"] < 100


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"cell_m": 10}, "greater than or equal to 50"),
        ({"cell_m": 50}, "choose cells of at least"),
        ({"cell_m": 250, "band_m": 100}, "band_m must be from one to three cells"),
        ({"cell_m": 100, "band_m": 300}, "links for Gi*"),
        ({"district_id": 2**40}, "less than or equal to"),
        ({"since": "0001-01-01T00:00:00+14:00"}, "must be between"),
        (
            {"since": "2026-03-01T00:00:00Z", "until": "2026-02-01T00:00:00Z"},
            "until must be after since",
        ),
        ({"kind": "burglary"}, "theft"),
        ({"bandwidth_m": "nan"}, "finite"),
    ],
)
def test_bad_hotspot_queries_are_refused_in_words(
    signed_in: SignIn, params: dict[str, Any], words: str
) -> None:
    response = signed_in("admin").get("/api/insights/hotspots", params=params)
    assert response.status_code == 422, response.text
    assert words in response.text


def test_hotspots_need_a_signed_in_user(client: TestClient) -> None:
    assert client.get("/api/insights/hotspots").status_code == 401
    assert client.get("/api/insights/near-repeat").status_code == 401


@pytest.mark.usefixtures("crimes")
def test_near_repeat_runs_on_the_callers_districts(signed_in: SignIn) -> None:
    client = signed_in("akimat-west")
    response = client.get(
        "/api/insights/near-repeat", params={"distance_m": 300, "days": 14, "permutations": 99}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["records"] == WEST_POSITIONED
    assert body["without_position"] == WEST_WITHOUT_POSITION
    assert body["space_pairs"] >= body["observed"] >= 0
    assert body["expected"] == pytest.approx(
        body["space_pairs"] * body["time_pairs"] / body["pairs"], rel=1e-3
    )
    assert 0.01 <= body["p_value"] <= 1 and body["permutations"] == 99
    assert "within 300 m and 14 days" in body["summary"]
    again = client.get(
        "/api/insights/near-repeat", params={"distance_m": 300, "days": 14, "permutations": 99}
    ).json()
    assert again["p_value"] == body["p_value"]  # seeded


@pytest.mark.parametrize(
    "params", [{"distance_m": 5}, {"days": 0}, {"permutations": 5}, {"distance_m": "inf"}]
)
def test_bad_near_repeat_queries_are_refused(signed_in: SignIn, params: dict[str, Any]) -> None:
    response = signed_in("admin").get("/api/insights/near-repeat", params=params)
    assert response.status_code == 422, response.text


@pytest.mark.usefixtures("crimes")
def test_near_repeat_refuses_more_work_than_its_budget(
    signed_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(near_repeat, "MAX_PERMUTATION_WORK", 10_000)
    response = signed_in("admin").get(
        "/api/insights/near-repeat", params={"distance_m": 2000, "permutations": 9999}
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "9,999 permutations" in detail and "fewer permutations" in detail


@pytest.mark.usefixtures("crimes")
def test_the_report_figure_draws_the_hot_cells_over_the_districts(
    database: Database, city: City, tmp_path: Path
) -> None:
    with database.session() as session:
        analysis = hotspot_analysis(session, Scope(city_wide=True), HotspotQuery())
        outlines = [(d.name, d.geometry) for d in session.scalars(select(District))]
    assert analysis.summary.classes[HotspotClass.HOT_99] >= 1

    figure = hotspot_figure(analysis, outlines)
    path = tmp_path / "hotspots.png"
    figure.savefig(path)

    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    hot = np.array([0xB2, 0x18, 0x2B])
    assert (np.abs(pixels.astype(int) - hot).sum(axis=1) < 12).sum() > 20
