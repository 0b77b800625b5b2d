"""GET /api/insights/kpis against the city of ``kpi_city``, every figure worked out by hand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safecity.api.app import create_app
from safecity.auth.roles import Scope
from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.insights.kpis.store import KpiQuery, city_kpis
from safecity.insights.models import CrimeRecord, CrimeSource
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.insights.kpi_city import PERIOD, SINCE, T0, UNTIL, Ids, build


@pytest.fixture
def ids(database: Database) -> Ids:
    return build(database)


@pytest.fixture
def client(database: Database, ids: Ids, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path, timezone="Asia/Almaty"), database)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def signed_in(client: TestClient) -> Callable[[str], TestClient]:
    def sign_in(username: str) -> TestClient:
        response = client.post(
            "/api/auth/login", json={"username": username, "password": f.PASSWORD}
        )
        assert response.status_code == 200, response.text
        return client

    return sign_in


def kpis(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/insights/kpis", params={**PERIOD, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["district"]["name"]: row for row in rows}


def test_clearance_counts_crimes_registered_in_the_period_and_solved_by_now(
    signed_in: Callable[[str], TestClient],
) -> None:
    clearance = kpis(signed_in("analyst"))["clearance"]
    assert "solved by now" in clearance["definition"]
    assert clearance["total"] == {"registered": 5, "solved": 3, "rate": pytest.approx(0.6)}
    rows = by_name(clearance["by_district"])
    assert (rows["West"]["registered"], rows["West"]["solved"], rows["West"]["rate"]) == (4, 2, 0.5)
    assert (rows["East"]["registered"], rows["East"]["solved"], rows["East"]["rate"]) == (1, 1, 1.0)
    kinds = {row["kind"]: (row["registered"], row["solved"]) for row in clearance["by_kind"]}
    assert kinds == {"theft": (3, 2), "assault": (1, 1), "fraud": (1, 0)}
    assert [(p["period"], p["registered"], p["solved"]) for p in clearance["by_period"]] == [
        ("2026-03", 5, 3)
    ]


def test_clearance_counts_register_records_alone(
    signed_in: Callable[[str], TestClient], database: Database, ids: Ids
) -> None:
    with database.session() as s:
        s.add(
            CrimeRecord(
                code="OCC-1",
                occurred_at=T0 + timedelta(hours=1),
                kind=CrimeKind.THEFT,
                place_kind=PlaceKind.STREET,
                district_id=ids.west,
                solved=False,
                source=CrimeSource.OCC,
            )
        )
    clearance = kpis(signed_in("analyst"))["clearance"]
    assert "Only records from the police register count" in clearance["definition"]
    assert clearance["total"] == {"registered": 5, "solved": 3, "rate": pytest.approx(0.6)}


@pytest.mark.parametrize("since", ["1969-12-31T00:00:00+00:00", "1900-01-02T00:00:00+00:00"])
def test_a_period_before_1970_is_refused(
    signed_in: Callable[[str], TestClient], since: str
) -> None:
    response = signed_in("analyst").get(
        "/api/insights/kpis", params={"since": since, "until": "1970-03-01T00:00:00+00:00"}
    )
    assert response.status_code == 422
    assert "since must be on or after 1970-01-01" in response.text


def test_a_period_outside_safecitys_era_is_refused(signed_in: Callable[[str], TestClient]) -> None:
    response = signed_in("analyst").get(
        "/api/insights/kpis", params={"since": "1800-01-01T00:00:00+00:00", "until": UNTIL}
    )
    assert response.status_code == 422


def test_video_use_counts_linked_clips_and_exports_naming_the_incident(
    signed_in: Callable[[str], TestClient],
) -> None:
    video = kpis(signed_in("analyst"))["video_use"]
    assert video["total"] == {
        "incidents": 4,
        "with_video": 2,
        "with_clips": 1,
        "with_exports": 1,
        "share": 0.5,
    }
    rows = by_name(video["by_district"])
    assert (rows["West"]["incidents"], rows["West"]["with_video"]) == (3, 2)
    assert (rows["East"]["incidents"], rows["East"]["with_video"], rows["East"]["share"]) == (
        1,
        0,
        0.0,
    )


def test_recording_completeness_and_uptime_from_segments_with_a_gap(
    signed_in: Callable[[str], TestClient],
) -> None:
    recording = kpis(signed_in("analyst"))["recording"]
    west = by_name(recording["by_district"])["West"]
    # W1 expected the whole 172,800 s (48 h), W2 from its installation day: 86,400 s (24 h).
    assert west["active_cameras"] == 2 and west["cameras_recorded"] == 1
    assert west["expected_seconds"] == pytest.approx(259_200)
    assert west["recorded_seconds"] == pytest.approx(2100, abs=0.01)
    assert west["completeness"] == pytest.approx(2100 / 259_200, rel=1e-6)
    assert (west["expected_hours"], west["hours_up"]) == (72, 2)
    assert west["uptime"] == pytest.approx(2 / 72)
    east = by_name(recording["by_district"])["East"]
    assert east["recorded_seconds"] == pytest.approx(100, abs=0.01)
    assert (east["expected_hours"], east["hours_up"]) == (48, 1)
    assert recording["total"]["recorded_seconds"] == pytest.approx(2200, abs=0.01)
    assert recording["purged_segments"] == 5


def test_operator_response_percentiles_with_pending_steps(
    signed_in: Callable[[str], TestClient],
) -> None:
    response = kpis(signed_in("analyst"))["response"]
    west = by_name(response["by_district"])["West"]
    assert west["acknowledge"] == {
        "count": 2,
        "pending": 1,
        "p50_seconds": 60.0,
        "p90_seconds": 84.0,
    }
    assert west["dispatch"] == {
        "count": 2,
        "pending": 1,
        "p50_seconds": 360.0,
        "p90_seconds": 552.0,
    }
    assert west["accept"] == {"count": 1, "pending": 1, "p50_seconds": 300.0, "p90_seconds": 300.0}
    total = response["total"]
    assert total["dispatch"]["count"] == 3
    assert total["dispatch"]["p50_seconds"] == pytest.approx(120.0)
    assert total["dispatch"]["p90_seconds"] == pytest.approx(504.0)
    assert total["acknowledge"]["count"] == 3 and total["acknowledge"]["pending"] == 1


def test_incidents_per_district_and_per_10000_residents(
    signed_in: Callable[[str], TestClient],
) -> None:
    incidents = kpis(signed_in("analyst"))["incidents"]
    assert incidents["total"] == 4
    rows = by_name(incidents["by_district"])
    assert (rows["West"]["incidents"], rows["West"]["per_10k"]) == (3, pytest.approx(0.6))
    assert (rows["East"]["incidents"], rows["East"]["per_10k"]) == (1, pytest.approx(0.1))


def test_flows_of_people_and_vehicles_by_the_citys_hour(
    signed_in: Callable[[str], TestClient],
) -> None:
    flows = kpis(signed_in("analyst"))["flows"]
    assert flows["present"] is True
    assert (flows["people"], flows["vehicles"]) == (13, 5)
    west = by_name(flows["by_district"])["West"]
    assert west["people"] == 8 and west["vehicles"] == 5
    assert west["people_by_hour"][15] == 8 and sum(west["people_by_hour"]) == 8
    assert west["vehicles_by_hour"][15] == 5
    assert by_name(flows["by_district"])["East"]["people_by_hour"][8] == 5


def test_flows_say_no_counts_when_there_are_none(signed_in: Callable[[str], TestClient]) -> None:
    flows = kpis(signed_in("analyst"), since="2025-01-01T00:00:00Z", until="2025-02-01T00:00:00Z")[
        "flows"
    ]
    assert flows["present"] is False and flows["people"] == 0


def test_an_akimat_sees_only_its_district(signed_in: Callable[[str], TestClient], ids: Ids) -> None:
    client = signed_in("akimat-west")
    body = kpis(client)
    for group in ("clearance", "video_use", "recording", "response", "incidents", "flows"):
        assert [row["district"]["name"] for row in body[group]["by_district"]] == ["West"], group
    assert body["clearance"]["total"]["registered"] == 4
    assert body["incidents"]["total"] == 3
    assert body["response"]["total"]["acknowledge"]["count"] == 2
    refused = client.get("/api/insights/kpis", params={**PERIOD, "district_id": ids.east})
    assert refused.status_code == 404


def test_one_district_asked_for(signed_in: Callable[[str], TestClient], ids: Ids) -> None:
    body = kpis(signed_in("analyst"), district_id=ids.east)
    assert body["district_id"] == ids.east
    assert body["clearance"]["total"]["registered"] == 1
    assert [row["district"]["name"] for row in body["recording"]["by_district"]] == ["East"]


def test_until_before_since_is_refused(signed_in: Callable[[str], TestClient]) -> None:
    response = signed_in("analyst").get(
        "/api/insights/kpis", params={"since": UNTIL, "until": SINCE}
    )
    assert response.status_code == 422
    assert "until must come after since" in response.text


def test_a_time_without_zone_is_refused(signed_in: Callable[[str], TestClient]) -> None:
    response = signed_in("analyst").get(
        "/api/insights/kpis", params={"since": "2026-03-01T00:00:00", "until": UNTIL}
    )
    assert response.status_code == 422


def test_an_operator_may_not_read_kpis(signed_in: Callable[[str], TestClient]) -> None:
    assert signed_in("operator").get("/api/insights/kpis", params=PERIOD).status_code == 403


def test_city_kpis_is_callable_without_http(database: Database, ids: Ids, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, timezone="Asia/Almaty")
    with database.session() as session:
        report = city_kpis(
            session,
            Scope(district_ids=frozenset({ids.west})),
            settings,
            KpiQuery(T0, T0 + timedelta(days=2)),
        )
    assert report.clearance.total.registered == 4
    assert report.video_use.total.with_video == 2
