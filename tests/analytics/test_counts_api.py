"""Counts of city life: stored by adding (on SQLite and PostgreSQL alike) and read back
through the HTTP API in bins of 15 minutes, an hour or a city day, scoped like the camera."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from safecity.analytics.counts import CountError, CountRow, add_counts
from safecity.analytics.models import TrafficCount
from safecity.analytics.objects import ObjectClass
from safecity.store.engine import Database
from tests.analytics import stored_city
from tests.analytics.stored_city import SignIn
from tests.api.conftest import City

client = stored_city.client
city = stored_city.city
signed_in = stored_city.signed_in

NINE = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)  # 14:00 in Aktobe (UTC+5)
PERSON, CAR = ObjectClass.PERSON, ObjectClass.CAR


def _add(database: Database, rows: list[CountRow]) -> None:
    with database.session() as session:
        add_counts(session, rows)


def _counts(signed_in: SignIn, camera_id: int, **params: Any) -> Any:
    response = signed_in("operator").get(
        f"/api/cameras/{camera_id}/analytics/counts",
        params={
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in params.items()
        },
    )
    assert response.status_code == 200, response.text
    return response.json()


def _series(answer: Any) -> dict[tuple[str, str, str, str], list[int]]:
    return {
        (s["scope"], s["scope_name"], s["object_class"], s["direction"]): s["counts"]
        for s in answer["series"]
    }


def test_counts_sent_twice_for_a_bin_add_up(
    signed_in: SignIn, city: City, database: Database
) -> None:
    camera = city.street_west_id
    _add(database, [CountRow(camera, NINE, PERSON, 3), CountRow(camera, NINE, PERSON, 2)])
    _add(database, [CountRow(camera, NINE, PERSON, 4), CountRow(camera, NINE, CAR, 1)])

    answer = _counts(signed_in, camera, since=NINE, until=NINE + timedelta(minutes=30), bin="15m")

    assert answer["bins"] == ["2026-05-04T09:00:00Z", "2026-05-04T09:15:00Z"]
    assert answer["end"] == "2026-05-04T09:30:00Z"
    assert _series(answer) == {
        ("camera", "", "car", ""): [1, 0],
        ("camera", "", "person", ""): [9, 0],
    }


def test_hours_sum_their_quarters_and_days_are_the_citys(
    signed_in: SignIn, city: City, database: Database
) -> None:
    camera = city.street_west_id
    quarters = [NINE + timedelta(minutes=15 * index) for index in range(4 * 24)]
    _add(database, [CountRow(camera, start, PERSON, 1) for start in quarters])

    hours = _counts(signed_in, camera, since=NINE, until=NINE + timedelta(hours=3), bin="1h")
    days = _counts(signed_in, camera, since=NINE, until=NINE + timedelta(hours=24), bin="1d")

    assert _series(hours) == {("camera", "", "person", ""): [4, 4, 4]}
    # Aktobe's days begin at 19:00 UTC: 09:00–19:00 of the first day, 19:00–09:00 after.
    assert days["bins"] == ["2026-05-03T19:00:00Z", "2026-05-04T19:00:00Z"]
    assert days["end"] == "2026-05-05T19:00:00Z"
    assert _series(days) == {("camera", "", "person", ""): [40, 56]}


def test_zones_and_lines_are_counted_apart_when_asked(
    signed_in: SignIn, city: City, database: Database
) -> None:
    camera = city.street_west_id
    _add(
        database,
        [
            CountRow(camera, NINE, PERSON, 10),
            CountRow(camera, NINE, PERSON, 4, scope="zone", scope_name="Square"),
            CountRow(camera, NINE, PERSON, 3, scope="line", scope_name="Gate", direction="forward"),
            CountRow(
                camera, NINE, PERSON, 1, scope="line", scope_name="Gate", direction="backward"
            ),
        ],
    )
    until = NINE + timedelta(hours=1)

    plain = _counts(signed_in, camera, since=NINE, until=until)
    everything = _counts(signed_in, camera, since=NINE, until=until, by=["line", "zone", "camera"])

    assert _series(plain) == {("camera", "", "person", ""): [10]}
    assert _series(everything) == {
        ("camera", "", "person", ""): [10],
        ("zone", "Square", "person", ""): [4],
        ("line", "Gate", "person", "backward"): [1],
        ("line", "Gate", "person", "forward"): [3],
    }
    assert [s["scope"] for s in everything["series"]] == ["camera", "zone", "line", "line"]


def test_a_thousand_bins_and_more_are_stored_in_one_call(
    signed_in: SignIn, city: City, database: Database
) -> None:
    camera = city.street_east_id
    week = [NINE + timedelta(minutes=15 * index) for index in range(4 * 24 * 7)]
    _add(database, [CountRow(camera, start, klass, 2) for start in week for klass in (PERSON, CAR)])

    answer = _counts(signed_in, camera, since=NINE, until=NINE + timedelta(days=7), bin="1d")

    assert sum(_series(answer)[("camera", "", "person", "")]) == 2 * len(week)


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (CountRow(1, NINE + timedelta(minutes=7), PERSON, 1), "not the start of a 15-minute bin"),
        (CountRow(1, NINE, PERSON, -1), "a count is 0 or more"),
        (CountRow(1, NINE, PERSON, 1, scope="zone"), "a zone or line count names its rule"),
        (CountRow(1, NINE, PERSON, 1, scope="line", scope_name="Gate"), "has a direction"),
        (CountRow(1, NINE, PERSON, 1, direction="forward"), "others have none"),
    ],
)
def test_rows_that_make_no_sense_are_refused_and_none_of_the_call_is_stored(
    database: Database, city: City, row: CountRow, words: str
) -> None:
    good = CountRow(city.street_west_id, NINE, PERSON, 5)
    with pytest.raises(CountError, match=words):
        _add(database, [good, row])
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(TrafficCount)) == 0


def test_counts_are_scoped_like_the_camera(
    signed_in: SignIn, city: City, database: Database
) -> None:
    _add(database, [CountRow(city.power_camera_id, NINE, PERSON, 1)])
    params = {"since": NINE.isoformat(), "until": (NINE + timedelta(hours=1)).isoformat()}
    water = signed_in("water")

    mine = water.get(f"/api/cameras/{city.water_camera_id}/analytics/counts", params=params)
    forbidden = water.get(f"/api/cameras/{city.power_camera_id}/analytics/counts", params=params)
    missing = water.get("/api/cameras/999999/analytics/counts", params=params)

    assert mine.status_code == 200 and mine.json()["series"] == []
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() == missing.json()
    analyst = signed_in("analyst")
    path = f"/api/cameras/{city.power_camera_id}/analytics/counts"
    assert analyst.get(path, params=params).status_code == 200  # figures are what they work with


@pytest.mark.parametrize(
    ("since", "until", "size", "words"),
    [
        (NINE, NINE, "1h", "until must come after since"),
        (NINE, NINE + timedelta(days=30), "15m", "at most 1500 bins"),
        (NINE, NINE + timedelta(days=90), "1h", "at most 1500 bins"),
    ],
)
def test_a_range_that_cannot_be_answered_is_a_422_saying_why(
    signed_in: SignIn, city: City, since: datetime, until: datetime, size: str, words: str
) -> None:
    response = signed_in("operator").get(
        f"/api/cameras/{city.street_west_id}/analytics/counts",
        params={"since": since.isoformat(), "until": until.isoformat(), "bin": size},
    )
    assert response.status_code == 422
    assert words in response.json()["detail"]
