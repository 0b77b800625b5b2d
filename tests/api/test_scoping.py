"""A user sees only the cameras, sites and figures of their own part of the city; anything
else answers 404 exactly as if it did not exist."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.models import District, Site
from safecity.insights.models import CrimeRecord
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.api.conftest import City
from tests.audit.entries import audit_entries


def _codes(client: TestClient, path: str = "/api/cameras") -> set[str]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    items = body["items"] if isinstance(body, dict) else body
    return {item["code"] for item in items}


def test_operator_sees_every_camera(signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in("operator")
    assert _codes(client) == {"W-PUMP", "E-SUB", "W-STREET", "E-STREET"}
    assert client.get("/api/cameras").json()["total"] == 4


def test_utility_company_sees_only_cameras_on_its_own_sites(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("water")
    assert _codes(client) == {"W-PUMP"}
    assert _codes(client, "/api/map/cameras") == {"W-PUMP"}
    assert client.get(f"/api/cameras/{city.water_camera_id}").status_code == 200
    for foreign in (city.power_camera_id, city.street_west_id, city.street_east_id):
        response = client.get(f"/api/cameras/{foreign}")
        assert response.status_code == 404
        assert "code" not in response.json()
        assert client.get(f"/api/cameras/{foreign}/snapshot.jpg").status_code == 404
    sites = client.get("/api/sites").json()
    assert [site["code"] for site in sites["items"]] == ["pump-station"]


def test_forbidden_camera_looks_exactly_like_a_missing_one(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("water")
    forbidden = client.get(f"/api/cameras/{city.power_camera_id}")
    missing = client.get("/api/cameras/999999")
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() == missing.json()


def test_district_akimat_sees_its_district_only(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("akimat-west")
    assert _codes(client) == {"W-PUMP", "W-STREET"}
    assert client.get(f"/api/cameras/{city.street_east_id}").status_code == 404
    districts = {d["code"]: d for d in client.get("/api/districts").json()}
    assert districts["west"]["in_scope"] and districts["west"]["camera_count"] == 2
    assert not districts["east"]["in_scope"] and districts["east"]["camera_count"] == 0
    summary = client.get("/api/crimes/summary").json()
    assert summary["total"] == 2
    assert [g["district"] for g in summary["groups"]] == ["West"]


def test_duty_officer_sees_the_districts_of_their_unit(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("officer-east")
    assert _codes(client) == {"E-SUB", "E-STREET"}
    assert client.get(f"/api/cameras/{city.water_camera_id}").status_code == 404


def test_officer_without_a_unit_sees_nothing(signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in("orphan-officer")
    assert _codes(client) == set()
    assert client.get("/api/crimes/summary").json()["total"] == 0


def test_filters_cannot_widen_the_scope(signed_in: Callable[[str], TestClient], city: City) -> None:
    client = signed_in("akimat-west")
    assert _codes(client, f"/api/cameras?district_id={city.east_id}") == set()
    assert _codes(client, "/api/cameras?q=E-") == set()


def test_only_administrators_change_cameras(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("operator")
    denied = client.patch(f"/api/cameras/{city.street_west_id}", json={"name": "Renamed"})
    assert denied.status_code == 403
    client = signed_in("admin")
    assert client.get(f"/api/cameras/{city.street_west_id}").json()["name"] == "Camera W-STREET"


def test_moving_a_camera_moves_it_to_the_district_of_its_new_position(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("admin")
    moved = client.patch(
        f"/api/cameras/{city.street_west_id}", json={"latitude": 51.15, "longitude": 71.45}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["district_id"] == city.east_id
    outside = client.patch(f"/api/cameras/{city.street_west_id}", json={"longitude": 70.0})
    assert outside.status_code == 422
    assert client.get(f"/api/cameras/{city.street_west_id}").json()["district_id"] == city.east_id


def test_crime_summary_groups_by_quarter(signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in("admin")
    summary = client.get("/api/crimes/summary?group_by=quarter").json()
    assert summary["total"] == 3
    assert {g["quarter"]: g["count"] for g in summary["groups"]} == {
        "2026-Q1": 1,
        "2026-Q2": 1,
        "2026-Q4": 1,
    }


def test_stream_passwords_are_shown_to_no_one(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    for username in ("akimat-west", "admin"):
        seen = signed_in(username).get(f"/api/cameras/{city.street_west_id}").json()
        assert seen["main_stream_url"] == "rtsp://viewer:***@10.0.0.9:554/main"
        assert seen["sub_stream_url"] == "rtsp://viewer:***@10.0.0.9:554/sub"
        assert "s3cret" not in str(seen)


def test_police_units_are_those_covering_your_districts(
    signed_in: Callable[[str], TestClient],
) -> None:
    assert [u["code"] for u in signed_in("officer-east").get("/api/police-units").json()] == [
        "unit-east"
    ]
    assert signed_in("akimat-west").get("/api/police-units").json() == []
    assert signed_in("water").get("/api/police-units").json() == []
    assert [u["code"] for u in signed_in("operator").get("/api/police-units").json()] == [
        "unit-east"
    ]


def test_a_camera_does_not_name_a_site_you_may_not_see(
    signed_in: Callable[[str], TestClient], database: Database, city: City
) -> None:
    with database.session() as session:
        east = session.get(District, city.east_id)
        pump = session.scalars(select(Site).where(Site.code == "pump-station")).one()
        edge_id = f.add_camera(session, "E-EDGE", east, pump).id
    officer = signed_in("officer-east").get(f"/api/cameras/{edge_id}").json()
    assert officer["code"] == "E-EDGE" and officer["site"] is None
    listed = signed_in("officer-east").get("/api/cameras?q=e-edge").json()["items"]
    assert listed[0]["site"] is None
    assert (
        signed_in("water").get(f"/api/cameras/{edge_id}").json()["site"]["code"] == "pump-station"
    )


def test_sites_districts_and_map_follow_the_scope(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("water")
    sites = client.get("/api/sites").json()
    assert [s["code"] for s in sites["items"]] == ["pump-station"]
    assert sites["items"][0]["camera_count"] == 1
    substation_id = signed_in("admin").get("/api/sites?q=substation").json()["items"][0]["id"]
    client = signed_in("water")
    assert client.get(f"/api/sites/{substation_id}").status_code == 404
    counts = {d["code"]: d["camera_count"] for d in client.get("/api/districts").json()}
    assert counts == {"west": 1, "east": 0}
    assert _codes(client, "/api/map/cameras") == {"W-PUMP"}
    assert client.get(f"/api/cameras/{city.street_west_id}/snapshot.jpg").status_code == 404
    assert client.get(f"/api/cameras/{city.water_camera_id}/snapshot.jpg").status_code == 503


def test_search_treats_wildcards_as_plain_text(signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in("operator")
    assert _codes(client, "/api/cameras?q=%25") == set()
    assert _codes(client, "/api/cameras?q=_") == set()
    assert _codes(client, "/api/cameras?q=w-") == {"W-PUMP", "W-STREET"}


def test_patch_cannot_clear_required_fields(
    signed_in: Callable[[str], TestClient], city: City
) -> None:
    client = signed_in("admin")
    for field in ("name", "latitude", "status"):
        response = client.patch(f"/api/cameras/{city.street_west_id}", json={field: None})
        assert response.status_code == 422, field
        assert "cannot be empty" in response.text
    assert client.get(f"/api/cameras/{city.street_west_id}").json()["name"] == "Camera W-STREET"


def test_crime_period_needs_a_time_zone(signed_in: Callable[[str], TestClient]) -> None:
    client = signed_in("admin")
    assert client.get("/api/crimes/summary?since=2026-01-01T00:00:00").status_code == 422
    aware = client.get("/api/crimes/summary?since=2026-05-01T00:00:00%2B05:00")
    assert aware.status_code == 200 and aware.json()["total"] == 2


def test_quarters_are_counted_in_the_city_time_zone(database: Database, tmp_path: Path) -> None:
    with database.session() as session:
        west = f.add_district(session, "west", f.WEST)
        f.add_user(session, "analyst", Role.ANALYST)
        # 20:00 UTC on 31 March is already 1 April, 01:00, in Astana (UTC+5).
        session.add(
            CrimeRecord(
                code="CR-EDGE",
                occurred_at=datetime(2026, 3, 31, 20, 0, tzinfo=UTC),
                kind=CrimeKind.THEFT,
                place_kind=PlaceKind.STREET,
                latitude=51.15,
                longitude=71.35,
                district=west,
            )
        )
    for zone, quarter in (("UTC", "2026-Q1"), ("Asia/Almaty", "2026-Q2")):
        app = create_app(Settings(data_dir=tmp_path, timezone=zone), database)
        with TestClient(app) as client:
            client.post("/api/auth/login", json={"username": "analyst", "password": f.PASSWORD})
            groups = client.get("/api/crimes/summary?group_by=quarter").json()["groups"]
        assert groups == [{"district": None, "kind": None, "quarter": quarter, "count": 1}]


def test_a_camera_change_is_audited_with_the_changed_fields(
    signed_in: Callable[[str], TestClient], city: City, database: Database
) -> None:
    client = signed_in("admin")
    answer = client.patch(
        f"/api/cameras/{city.street_west_id}", json={"name": "Renamed", "address": None}
    )
    assert answer.status_code == 200, answer.text
    (entry,) = audit_entries(database, "camera.update")
    assert (entry.actor, entry.target) == ("admin", f"camera:{city.street_west_id}")
    assert entry.details == {"changed": {"name": {"from": "Camera W-STREET", "to": "Renamed"}}}
    assert "s3cret" not in str(entry.details)
