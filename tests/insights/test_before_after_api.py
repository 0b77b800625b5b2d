"""Before and after over the API: the control from the cameras' installation dates, the rate
ratio with its interval, each caller cut to their districts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.insights.models import CrimeRecord, CrimeSource
from safecity.store.engine import Database
from tests.insights.conftest import FiguresCity

COMPARED = {"period": "month", "before": "2026-02", "after": "2026-05"}
"""West's camera went in on 20 April, between these months."""


def _rows(district: str, count: int, month: int, place: str = "street") -> list[str]:
    return [
        f"{district}-{month}-{place}-{i},2026-{month:02d}-{i % 28 + 1:02d} 12:00,theft,{place},{district}"
        for i in range(count)
    ]


@pytest.fixture
def imported(signed_in: Callable[[str], TestClient]) -> None:
    """West (new cameras in April) 200 -> 150; east 180 -> 171 and north 120 -> 114 (control,
    together 300 -> 285): the DiD case worked by hand in test_statistics."""
    rows = ["code,time,kind,place_kind,district"]
    for district, before, after in (("west", 200, 150), ("east", 180, 171), ("north", 120, 114)):
        rows += _rows(district, before, 2) + _rows(district, after, 5)
    rows += _rows("west", 50, 5, "dwelling")
    response = signed_in("analyst").post(
        "/api/insights/crimes/import",
        content="\n".join(rows).encode(),
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text


def _before_after(client: TestClient, **params: Any) -> Any:
    response = client.get("/api/insights/before-after", params={**COMPARED, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_districts_that_got_cameras_are_compared_with_those_that_did_not(
    signed_in: Callable[[str], TestClient], imported: None
) -> None:
    result = _before_after(signed_in("analyst"), place="public")

    assert result["groups_from"] == "installations"
    assert result["treated"]["districts"] == ["West"]
    assert result["control"]["districts"] == ["East", "North"]
    assert result["treated"]["change"]["text"] == "\N{MINUS SIGN}25.0% (50 fewer of 200)"
    assert result["control"]["change"]["text"] == "\N{MINUS SIGN}5.0% (15 fewer of 300)"
    west = next(row for row in result["by_district"] if row["district"] == "West")
    assert (west["group"], west["new_cameras"]) == ("treated", 1)
    did = result["did"]
    assert did["irr"] == pytest.approx(0.78947, abs=1e-5)
    assert (did["ci_low"], did["ci_high"]) == (
        pytest.approx(0.6047, abs=1e-4),
        pytest.approx(1.0307, abs=1e-4),
    )
    assert did["significant"] is False
    assert did["expected_treated_after"] == pytest.approx(190.0)
    assert "cannot tell this from no difference" in did["text"]


def test_the_caller_may_name_treated_and_control(
    signed_in: Callable[[str], TestClient], imported: None, figures_city: FiguresCity
) -> None:
    result = _before_after(
        signed_in("analyst"), treated=[figures_city.east_id], control=[figures_city.north_id]
    )
    assert result["groups_from"] == "named"
    assert result["did"]["irr"] == pytest.approx((171 / 180) / (114 / 120))


def test_an_akimat_sees_its_district_alone_and_no_control(
    signed_in: Callable[[str], TestClient], imported: None, figures_city: FiguresCity
) -> None:
    client = signed_in("akimat-west")
    result = _before_after(client)
    assert [row["district"] for row in result["by_district"]] == ["West"]
    assert result["change"]["before"] == 200
    assert result["did"]["irr"] is None
    assert "no control districts" in result["did"]["reason"]
    statistics = client.get("/api/insights/statistics").json()
    assert statistics["total"] == 200 + 150 + 50
    assert [row["district"] for row in statistics["by_district"]] == ["West"]
    named = client.get(
        "/api/insights/before-after", params={**COMPARED, "control": [figures_city.east_id]}
    )
    assert named.status_code == 422
    assert "among those you may see" in named.json()["detail"]


@pytest.mark.parametrize(
    "path", ["/api/insights/statistics", "/api/insights/before-after", "/api/crimes/summary"]
)
def test_a_utility_company_may_not_read_crime_figures(
    signed_in: Callable[[str], TestClient], imported: None, path: str
) -> None:
    response = signed_in("water").get(path, params=COMPARED)
    assert response.status_code == 403
    assert "Utility company accounts may not read crime figures" in response.json()["detail"]


def test_an_occ_operator_reads_the_citys_figures(
    signed_in: Callable[[str], TestClient], imported: None
) -> None:
    client = signed_in("operator")
    assert client.get("/api/insights/statistics").json()["total"] == 200 + 150 + 50 + 300 + 285
    assert client.get("/api/crimes/summary").status_code == 200


def test_a_district_with_cameras_installed_inside_a_compared_period_is_left_out(
    signed_in: Callable[[str], TestClient], imported: None
) -> None:
    # West's camera went in on 20 April: inside 2026-Q2, so Q2 mixes before and after.
    result = _before_after(
        signed_in("analyst"), period="quarter", before="2026-Q1", after="2026-Q2"
    )
    assert result["treated"]["districts"] == []
    assert result["control"]["districts"] == ["East", "North"]
    west = next(row for row in result["by_district"] if row["district"] == "West")
    assert (west["group"], west["partly_treated"], west["new_cameras"]) == (None, True, 1)
    assert "Partly treated: West, left out" in " ".join(result["notes"])
    assert "adjacent" in " ".join(result["notes"])
    assert result["did"]["irr"] is None


def test_the_treated_district_got_its_cameras_between_the_periods(
    signed_in: Callable[[str], TestClient], imported: None
) -> None:
    result = _before_after(signed_in("analyst"))
    west = next(row for row in result["by_district"] if row["district"] == "West")
    assert (west["group"], west["partly_treated"]) == ("treated", False)
    assert any("from 2026-03-01 to 2026-04-30, between the periods" in n for n in result["notes"])


def _occ_record(database: Database, code: str, district_id: int, day: str) -> None:
    with database.session() as s:
        s.add(
            CrimeRecord(
                code=code,
                occurred_at=datetime.fromisoformat(f"{day}T07:00:00+00:00"),
                kind=CrimeKind.THEFT,
                place_kind=PlaceKind.STREET,
                district_id=district_id,
                solved=False,
                source=CrimeSource.OCC,
            )
        )


def test_the_figures_count_the_register_unless_asked_otherwise(
    signed_in: Callable[[str], TestClient],
    imported: None,
    database: Database,
    figures_city: FiguresCity,
) -> None:
    for i in range(40):  # the OCC sees crimes only where cameras watch: west, after
        _occ_record(database, f"OCC-{i}", figures_city.west_id, "2026-05-10")
    _occ_record(database, "OCC-old", figures_city.east_id, "2025-01-10")
    client = signed_in("analyst")
    register = client.get("/api/insights/statistics").json()
    assert (register["source"], register["total"]) == ("register", 985)
    assert register["records_begin"].startswith("2026-02")
    occ = client.get("/api/insights/statistics", params={"source": "occ"}).json()
    assert (occ["source"], occ["total"]) == ("occ", 41)
    both = client.get("/api/insights/statistics", params={"source": "all"}).json()
    assert (both["source"], both["total"]) == ("all", 1026)
    assert both["records_begin"].startswith("2025-01")
    result = _before_after(client, place="public")
    assert result["source"] == "register"
    assert result["treated"]["change"]["after"] == 150
    mixed = _before_after(client, place="public", source="all")
    assert (mixed["source"], mixed["treated"]["change"]["after"]) == ("all", 190)


def test_the_first_record_shown_is_the_first_in_the_callers_districts(
    signed_in: Callable[[str], TestClient],
    imported: None,
    database: Database,
    figures_city: FiguresCity,
) -> None:
    with database.session() as s:
        s.add(
            CrimeRecord(
                code="EAST-OLD",
                occurred_at=datetime(2024, 6, 1, 7, tzinfo=UTC),
                kind=CrimeKind.THEFT,
                place_kind=PlaceKind.STREET,
                district_id=figures_city.east_id,
                solved=False,
            )
        )
    analyst = signed_in("analyst").get("/api/insights/statistics").json()
    assert analyst["records_begin"].startswith("2024-06-01")
    akimat = signed_in("akimat-west").get("/api/insights/statistics").json()
    assert akimat["records_begin"].startswith("2026-02")


def test_since_equal_to_until_is_refused(
    signed_in: Callable[[str], TestClient], imported: None
) -> None:
    moment = "2026-02-15T00:00:00+05:00"
    response = signed_in("analyst").get(
        "/api/insights/statistics", params={"since": moment, "until": moment}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "until must be after since"


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"before": "2026-05", "after": "2026-02"}, "must come after"),
        ({"period": "quarter", "before": "2026-Q5", "after": "2026-Q2"}, "is not a quarter"),
        ({"period": "month", "before": "2026-Q1", "after": "2026-Q2"}, "is not a month"),
    ],
)
def test_periods_that_cannot_be_compared_are_refused(
    signed_in: Callable[[str], TestClient], params: dict[str, str], says: str
) -> None:
    response = signed_in("analyst").get("/api/insights/before-after", params={**COMPARED, **params})
    assert response.status_code == 422
    assert says in response.json()["detail"]


def test_statistics_by_month_with_the_change_from_a_year_before(
    signed_in: Callable[[str], TestClient], imported: None
) -> None:
    statistics = (
        signed_in("analyst")
        .get(
            "/api/insights/statistics",
            params={"period": "month", "since": "2026-02-01T00:00:00+05:00", "place": "street"},
        )
        .json()
    )
    months = {row["label"]: row for row in statistics["periods"]}
    assert list(months) == ["2026-02", "2026-03", "2026-04", "2026-05"]
    assert months["2026-02"]["count"] == 500
    assert months["2026-02"]["previous"] is None  # before the first record: no comparison
    assert months["2026-02"]["year_ago"] is None
    assert months["2026-05"]["previous"]["text"] == "from none to 435 (no percentage from zero)"
    assert {row["place_kind"] for row in statistics["by_place"]} == {"street"}
