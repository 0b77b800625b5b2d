"""Alert rules: the most specific matching rule decides (pure), and admins manage them over
HTTP with every change audited (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from safecity.api.app import create_app
from safecity.audit.log import verify
from safecity.audit.models import AuditEntry
from safecity.auth.roles import Role
from safecity.city.schedule import WatchWindow
from safecity.ops.alerts.rule_models import AlertRule
from safecity.ops.alerts.rules import Place, Rule, RuleScope, decide, in_schedule
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f

ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5
SCHOOL = Place(camera_id=7, site_id=3, district_id=1)
NIGHT = WatchWindow(start=time(22), end=time(6))
# Friday 2026-05-01 23:30 and 10:00 in Almaty
FRIDAY_NIGHT = datetime(2026, 5, 1, 18, 30, tzinfo=UTC)
FRIDAY_MORNING = datetime(2026, 5, 1, 5, 0, tzinfo=UTC)


def _rule(rule_id: int, scope: RuleScope, target: int | None, **fields: object) -> Rule:
    values: dict[str, object] = {"name": f"rule {rule_id}", "kind": "intrusion", "priority": 4}
    values.update(fields)
    return Rule(id=rule_id, scope=scope, target_id=target, **values)  # type: ignore[arg-type]


def _decide(
    rules: list[Rule], at: datetime = FRIDAY_NIGHT, **kw: object
) -> tuple[int | None, int | None]:
    decision = decide(
        rules,
        kind=str(kw.pop("kind", "intrusion")),
        place=SCHOOL,
        at=at,
        zone=ALMATY,
        default_priority=2,
        **kw,  # type: ignore[arg-type]
    )
    return decision.priority, decision.rule.id if decision.rule else None


def test_the_most_specific_scope_wins() -> None:
    city = _rule(1, RuleScope.CITY, None, priority=4)
    district = _rule(2, RuleScope.DISTRICT, 1, priority=3)
    site = _rule(3, RuleScope.SITE, 3, priority=2)
    camera = _rule(4, RuleScope.CAMERA, 7, priority=1)
    assert _decide([city, district, site, camera]) == (1, 4)
    assert _decide([city, district, site]) == (2, 3)
    assert _decide([city, district]) == (3, 2)
    assert _decide([city]) == (4, 1)
    other_site = _rule(5, RuleScope.SITE, 99, priority=1)
    assert _decide([city, other_site]) == (4, 1)


def test_no_rule_keeps_the_default_and_a_named_kind_beats_any_kind() -> None:
    assert _decide([]) == (2, None)
    assert _decide([_rule(1, RuleScope.CITY, None, kind="fire")]) == (2, None)
    any_kind = _rule(1, RuleScope.SITE, 3, kind="*", priority=4)
    named = _rule(2, RuleScope.SITE, 3, kind="intrusion", priority=1)
    assert _decide([any_kind, named]) == (1, 2)
    assert _decide([any_kind, named], kind="loitering") == (4, 1)
    default_priority = _rule(3, RuleScope.CAMERA, 7, priority=None)
    assert _decide([any_kind, default_priority]) == (2, 3)


def test_a_school_raises_intrusion_only_at_night() -> None:
    suppress = _rule(1, RuleScope.SITE, 3, suppress=True, priority=None)
    at_night = _rule(2, RuleScope.SITE, 3, priority=1, schedule=(NIGHT,))
    assert _decide([suppress, at_night], at=FRIDAY_NIGHT) == (1, 2)
    assert _decide([suppress, at_night], at=FRIDAY_MORNING) == (None, 1)
    decision = decide(
        [suppress],
        kind="intrusion",
        place=SCHOOL,
        at=FRIDAY_MORNING,
        zone=ALMATY,
        default_priority=2,
    )
    assert decision.suppressed
    assert decision.record() == {"id": 1, "name": "rule 1", "scope": "site"}


def test_a_window_past_midnight_belongs_to_the_day_it_opens() -> None:
    friday_night = WatchWindow(days=["fri"], start=time(22), end=time(6))
    saturday_3am = datetime(2026, 5, 1, 22, 0, tzinfo=UTC)  # Sat 03:00 in Almaty
    saturday_23pm = datetime(2026, 5, 2, 18, 0, tzinfo=UTC)  # Sat 23:00
    thursday_23pm = datetime(2026, 4, 30, 18, 0, tzinfo=UTC)
    assert in_schedule([friday_night], FRIDAY_NIGHT, ALMATY)
    assert in_schedule([friday_night], saturday_3am, ALMATY)
    assert not in_schedule([friday_night], saturday_23pm, ALMATY)
    assert not in_schedule([friday_night], thursday_23pm, ALMATY)
    assert not in_schedule([friday_night], FRIDAY_MORNING, ALMATY)
    office = WatchWindow(days=["mon", "fri"], start=time(9), end=time(18))
    assert in_schedule([office], FRIDAY_MORNING, ALMATY)
    assert in_schedule([], FRIDAY_MORNING, ALMATY)


def test_an_unsure_event_or_a_disabled_rule_falls_through_to_the_wider_rule() -> None:
    city = _rule(1, RuleScope.CITY, None, priority=3)
    picky = _rule(2, RuleScope.CAMERA, 7, priority=1, min_confidence=0.8)
    assert _decide([city, picky], confidence=0.9) == (1, 2)
    assert _decide([city, picky], confidence=0.5) == (3, 1)
    assert _decide([city, picky]) == (1, 2)  # no confidence: a camera-health fact
    off = _rule(3, RuleScope.CAMERA, 7, priority=1, enabled=False)
    assert _decide([city, off]) == (3, 1)


# --- over HTTP -------------------------------------------------------------------------------


@pytest.fixture
def places(database: Database) -> dict[str, int]:
    with database.session() as s:
        west = f.add_district(s, "west", f.WEST)
        school = f.add_site(s, "school-12", west)
        camera = f.add_camera(s, "W-SCHOOL", west, school)
        f.add_user(s, "admin", Role.ADMIN)
        f.add_user(s, "operator", Role.OPERATOR)
        return {"district": west.id, "site": school.id, "camera": camera.id}


@pytest.fixture
def client(database: Database, places: dict[str, int], tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(data_dir=tmp_path), database)) as test_client:
        yield test_client


def _sign_in(client: TestClient, username: str) -> TestClient:
    response = client.post("/api/auth/login", json={"username": username, "password": f.PASSWORD})
    assert response.status_code == 200, response.text
    return client


def _audit(database: Database, prefix: str) -> list[AuditEntry]:
    with database.session() as s:
        return list(
            s.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.startswith(prefix))
                .order_by(AuditEntry.seq)
            )
        )


def test_an_admin_adds_changes_and_deletes_a_rule_and_each_change_is_audited(
    client: TestClient, database: Database, places: dict[str, int]
) -> None:
    admin = _sign_in(client, "admin")
    body = {
        "name": "School 12: intrusion at night",
        "kind": "intrusion",
        "scope": "site",
        "target_id": places["site"],
        "schedule": [{"days": ["mon", "tue"], "start": "22:00", "end": "06:00"}],
        "priority": 1,
    }
    created = admin.post("/api/alert-rules", json=body)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["priority"] == 1 and rule["enabled"] is True and rule["min_confidence"] == 0
    assert rule["schedule"] == [{"days": ["mon", "tue"], "start": "22:00:00", "end": "06:00:00"}]

    changed = admin.patch(f"/api/alert-rules/{rule['id']}", json={"priority": "suppress"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["priority"] == "suppress" and changed.json()["name"] == body["name"]
    widened = admin.patch(f"/api/alert-rules/{rule['id']}", json={"scope": "city"})
    assert widened.json()["target_id"] is None
    assert [r["id"] for r in admin.get("/api/alert-rules").json()] == [rule["id"]]

    assert admin.delete(f"/api/alert-rules/{rule['id']}").status_code == 204
    assert admin.get(f"/api/alert-rules/{rule['id']}").status_code == 404
    assert admin.delete(f"/api/alert-rules/{rule['id']}").status_code == 404

    create, suppress, widen, delete = _audit(database, "rule.")
    assert [e.action for e in (create, suppress, widen, delete)] == [
        "rule.create",
        "rule.update",
        "rule.update",
        "rule.delete",
    ]
    assert create.actor == "admin" and create.target == f"alert_rule:{rule['id']}"
    assert create.details["after"]["priority"] == 1
    assert suppress.details["before"]["priority"] == 1
    assert suppress.details["after"]["priority"] == "suppress"
    assert widen.details["after"]["scope"] == "city"
    assert delete.details["before"]["scope"] == "city" and "after" not in delete.details
    with database.session() as s:
        assert s.scalars(select(AlertRule)).all() == []
    assert verify(database).intact


def test_a_rule_must_name_an_existing_target_that_fits_its_scope(
    client: TestClient, database: Database, places: dict[str, int]
) -> None:
    admin = _sign_in(client, "admin")
    base = {"name": "r", "kind": "fire", "priority": 1}
    for bad in (
        {"scope": "camera"},  # no target
        {"scope": "city", "target_id": places["camera"]},
        {"scope": "camera", "target_id": 9999},
        {"scope": "site", "target_id": places["site"], "kind": "Fire!"},
        {"scope": "site", "target_id": places["site"], "priority": 5},
        {"scope": "site", "target_id": places["site"], "min_confidence": 1.5},
    ):
        response = admin.post("/api/alert-rules", json={**base, **bad})
        assert response.status_code == 422, (bad, response.text)
    good = admin.post(
        "/api/alert-rules", json={**base, "scope": "camera", "target_id": places["camera"]}
    ).json()
    response = admin.patch(f"/api/alert-rules/{good['id']}", json={"scope": "district"})
    assert response.status_code == 422  # a district rule needs the district's id
    response = admin.patch(
        f"/api/alert-rules/{good['id']}",
        json={"scope": "district", "target_id": places["district"]},
    )
    assert response.status_code == 200 and response.json()["target_id"] == places["district"]
    with database.session() as s:
        assert [r.scope for r in s.scalars(select(AlertRule))] == [RuleScope.DISTRICT]
        assert s.scalars(select(AlertRule)).one().camera_id is None


def test_only_admins_see_or_change_rules(client: TestClient, places: dict[str, int]) -> None:
    assert client.get("/api/alert-rules").status_code == 401
    operator = _sign_in(client, "operator")
    assert operator.get("/api/alert-rules").status_code == 403
    body = {"name": "r", "kind": "*", "scope": "city", "priority": 2}
    assert operator.post("/api/alert-rules", json=body).status_code == 403
    assert operator.patch("/api/alert-rules/1", json={"enabled": False}).status_code == 403
    assert operator.delete("/api/alert-rules/1").status_code == 403
