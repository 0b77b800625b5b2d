"""Rules and privacy masks as stored, per camera and per site, through the HTTP API: what an
administrator saves is what the camera runs, malformed documents change nothing, every change
is audited, and scope hides what is not yours."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from safecity.analytics.models import AnalyticsRule
from safecity.analytics.rule_store import UnknownCamera, rules_for_camera
from safecity.city.models import District, Site
from safecity.store.engine import Database
from tests import factories as f
from tests.analytics import stored_city
from tests.analytics.stored_city import SignIn, add_event
from tests.api.conftest import City
from tests.audit.entries import audit_entries

client = stored_city.client
city = stored_city.city
signed_in = stored_city.signed_in

GATE_ZONE = [[0.1, 0.5], [0.6, 0.5], [0.6, 0.9], [0.1, 0.9]]
DOCUMENT: dict[str, Any] = {
    "rules": [
        {
            "kind": "intrusion",
            "name": "Yard at night",
            "zone": GATE_ZONE,
            "classes": ["person", "car"],
            "schedule": [{"days": ["mon", "tue"], "start": "22:00:00", "end": "06:00:00"}],
        },
        {"kind": "line_crossing", "name": "Gate", "line": [[0.2, 0.1], [0.2, 0.9]]},
        {"kind": "tamper", "name": "Tamper", "checks": ["covered", "moved"]},
    ],
    "masks": [[[0.7, 0.0], [1.0, 0.0], [1.0, 0.3], [0.7, 0.3]]],
}


def _rules_path(camera_id: int) -> str:
    return f"/api/cameras/{camera_id}/analytics/rules"


def _site_path(site_id: int) -> str:
    return f"/api/sites/{site_id}/analytics/rules"


def _put(signed_in: SignIn, path: str, document: dict[str, Any]) -> Any:
    response = signed_in("admin").put(path, json=document)
    assert response.status_code == 200, response.text
    return response.json()


def _site_ids(signed_in: SignIn, city: City) -> tuple[int, int]:
    """The water company's pump station (west) and the power company's substation (east)."""
    client = signed_in("admin")
    pump = client.get(f"/api/cameras/{city.water_camera_id}").json()["site"]["id"]
    substation = client.get(f"/api/cameras/{city.power_camera_id}").json()["site"]["id"]
    return pump, substation


def test_an_administrator_saves_a_cameras_rules_and_masks_and_everyone_in_scope_reads_them(
    signed_in: SignIn, city: City
) -> None:
    saved = _put(signed_in, _rules_path(city.street_west_id), DOCUMENT)

    assert [rule["name"] for rule in saved["rules"]] == ["Yard at night", "Gate", "Tamper"]
    assert saved["rules"][0]["zone"] == GATE_ZONE
    assert saved["rules"][0]["schedule"][0]["start"] == "22:00:00"
    assert saved["rules"][1]["direction"] == "any"  # the model's default, stored with it
    assert saved["masks"] == DOCUMENT["masks"]
    assert saved["site_id"] is None and saved["site_rules"] == []
    for role in ("operator", "akimat-west", "admin"):
        assert signed_in(role).get(_rules_path(city.street_west_id)).json() == saved


def test_saving_again_keeps_the_order_of_the_new_document(signed_in: SignIn, city: City) -> None:
    _put(signed_in, _rules_path(city.street_west_id), DOCUMENT)
    reordered = {**DOCUMENT, "rules": list(reversed(DOCUMENT["rules"]))}

    saved = _put(signed_in, _rules_path(city.street_west_id), reordered)

    assert [rule["name"] for rule in saved["rules"]] == ["Tamper", "Gate", "Yard at night"]


@pytest.mark.parametrize(
    ("rules", "masks", "where", "words"),
    [
        pytest.param(
            [{"kind": "intrusion", "name": "Bow tie", "zone": [[0, 0], [1, 1], [1, 0], [0, 1]]}],
            [],
            ["body", "rules", 0, "intrusion", "zone"],
            "edges cross each other",
            id="self-crossing zone",
        ),
        pytest.param(
            [{"kind": "line_crossing", "name": "Dot", "line": [[0.5, 0.5]]}],
            [],
            ["body", "rules", 0, "line_crossing", "line"],
            "a line has two points, A and B; got 1",
            id="line of one point",
        ),
        pytest.param(
            [{"kind": "line_crossing", "name": "Dot", "line": [[0.5, 0.5], [0.5, 0.5]]}],
            [],
            ["body", "rules", 0, "line_crossing", "line"],
            "the line's two points are the same",
            id="line of one point twice",
        ),
        pytest.param(
            [{"kind": "fight", "name": "Fight"}],
            [],
            ["body", "rules", 0],
            "does not match any of the expected tags",
            id="unknown kind",
        ),
        pytest.param(
            [
                {"kind": "tamper", "name": "Watch"},
                {"kind": "crowd", "name": "Watch", "count": 5},
            ],
            [],
            ["body"],
            "two rules of a camera share a name: Watch",
            id="duplicate names",
        ),
        pytest.param(
            [],
            [[[0, 0], [1, 1], [1, 0], [0, 1]]],
            ["body", "masks"],
            "edges cross each other",
            id="self-crossing mask",
        ),
        pytest.param(
            [{"kind": "tamper", "name": "Bad\x00name"}],
            [],
            ["body", "rules"],
            "name contains a control character",
            id="control character in a name",
        ),
        pytest.param(
            [{"kind": "intrusion", "name": "Off", "zone": [[0, 0], [1.5, 0], [1, 1]]}],
            [],
            ["body", "rules", 0, "intrusion", "zone", 1, 0],
            "less than or equal to 1",
            id="point outside the picture",
        ),
    ],
)
def test_a_malformed_document_is_refused_naming_the_problem_and_nothing_changes(
    signed_in: SignIn,
    city: City,
    database: Database,
    rules: list[dict[str, Any]],
    masks: list[Any],
    where: list[Any],
    words: str,
) -> None:
    before = _put(signed_in, _rules_path(city.street_west_id), DOCUMENT)
    entries = len(audit_entries(database, "analytics.rules"))

    response = signed_in("admin").put(
        _rules_path(city.street_west_id), json={"rules": rules, "masks": masks}
    )

    assert response.status_code == 422, response.text
    problems = response.json()["detail"]
    assert any(p["loc"] == where and words in p["msg"] for p in problems), problems
    assert signed_in("admin").get(_rules_path(city.street_west_id)).json() == before
    assert len(audit_entries(database, "analytics.rules")) == entries


def test_only_administrators_change_rules(signed_in: SignIn, city: City) -> None:
    for role in ("operator", "water", "akimat-west", "officer-east", "analyst"):
        client = signed_in(role)
        assert client.put(_rules_path(city.water_camera_id), json=DOCUMENT).status_code == 403
    outside = signed_in("water").put(_rules_path(city.power_camera_id), json=DOCUMENT)
    assert outside.status_code == 403  # the role first: it learns nothing of the camera
    assert signed_in("admin").get(_rules_path(city.water_camera_id)).json()["rules"] == []


def test_a_camera_outside_the_scope_answers_like_a_missing_one(
    signed_in: SignIn, city: City
) -> None:
    _put(signed_in, _rules_path(city.power_camera_id), DOCUMENT)
    client = signed_in("water")
    assert client.get(_rules_path(city.water_camera_id)).status_code == 200

    forbidden = client.get(_rules_path(city.power_camera_id))
    missing = client.get(_rules_path(999_999))

    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() == missing.json()
    assert signed_in("admin").put(_rules_path(999_999), json=DOCUMENT).status_code == 404


def test_every_change_is_audited_and_an_unchanged_document_is_not(
    signed_in: SignIn, city: City, database: Database
) -> None:
    _put(signed_in, _rules_path(city.street_west_id), DOCUMENT)
    changed = {
        "rules": [
            {**DOCUMENT["rules"][1], "direction": "forward"},
            {"kind": "loitering", "name": "Bench", "seconds": 120},
        ],
        "masks": [],
    }
    _put(signed_in, _rules_path(city.street_west_id), changed)
    _put(signed_in, _rules_path(city.street_west_id), changed)

    first, second = audit_entries(database, "analytics.rules")
    assert first.actor == "admin" and first.target == f"camera:{city.street_west_id}"
    assert set(first.details["added"]) == {"Yard at night", "Gate", "Tamper"}
    assert first.details["masks"]["from"] == []
    assert set(second.details["removed"]) == {"Yard at night", "Tamper"}
    assert set(second.details["added"]) == {"Bench"}
    assert second.details["changed"]["Gate"]["from"]["direction"] == "any"
    assert second.details["changed"]["Gate"]["to"]["direction"] == "forward"
    assert second.details["masks"]["to"] == []


def test_events_keep_their_rule_while_it_is_edited_and_its_name_when_it_is_deleted(
    signed_in: SignIn, city: City, database: Database
) -> None:
    saved = _put(signed_in, _rules_path(city.street_west_id), DOCUMENT)
    assert saved["rules"][1]["name"] == "Gate"
    with database.session() as session:
        gate_id = session.scalar(
            select(AnalyticsRule.id).where(
                AnalyticsRule.camera_id == city.street_west_id, AnalyticsRule.name == "Gate"
            )
        )
    event_id = add_event(database, city.street_west_id, rule_id=gate_id)
    edited = {**DOCUMENT, "rules": [{**DOCUMENT["rules"][1], "direction": "backward"}]}

    _put(signed_in, _rules_path(city.street_west_id), edited)
    kept = signed_in("operator").get(f"/api/analytics/events/{event_id}").json()
    _put(signed_in, _rules_path(city.street_west_id), {"rules": [], "masks": []})
    orphaned = signed_in("operator").get(f"/api/analytics/events/{event_id}").json()

    assert kept["rule_id"] == gate_id
    assert orphaned["rule_id"] is None and orphaned["rule_name"] == "Gate"


def test_a_sites_rules_apply_to_its_cameras_and_a_camera_rule_of_the_same_name_wins(
    signed_in: SignIn, city: City, database: Database
) -> None:
    pump, _ = _site_ids(signed_in, city)
    site_rules = [
        {"kind": "intrusion", "name": "Fence", "zone": GATE_ZONE},
        {"kind": "line_crossing", "name": "Gate", "line": [[0.5, 0.0], [0.5, 1.0]]},
    ]
    saved = _put(signed_in, _site_path(pump), {"rules": site_rules})
    own_gate = {"kind": "line_crossing", "name": "Gate", "line": [[0.1, 0.1], [0.9, 0.1]]}
    _put(signed_in, _rules_path(city.water_camera_id), {"rules": [own_gate], "masks": []})

    shown = signed_in("water").get(_rules_path(city.water_camera_id)).json()
    with database.session() as session:
        runs = rules_for_camera(session, city.water_camera_id)

    assert [rule["name"] for rule in saved["rules"]] == ["Fence", "Gate"]
    assert shown["site_id"] == pump
    assert [rule["name"] for rule in shown["site_rules"]] == ["Fence", "Gate"]
    assert [(rule.name, rule.kind) for rule in runs.rules] == [
        ("Fence", "intrusion"),
        ("Gate", "line_crossing"),
    ]
    gate = runs.rules[1]
    assert gate.kind == "line_crossing" and gate.line == ((0.1, 0.1), (0.9, 0.1))


def test_a_deactivated_sites_rules_no_longer_apply(
    signed_in: SignIn, city: City, database: Database
) -> None:
    pump, _ = _site_ids(signed_in, city)
    _put(signed_in, _site_path(pump), {"rules": [{"kind": "tamper", "name": "Tamper"}]})
    with database.session() as session:
        assert [rule.name for rule in rules_for_camera(session, city.water_camera_id).rules] == [
            "Tamper"
        ]
        session.execute(update(Site).where(Site.id == pump).values(active=False))
    with database.session() as session:
        assert rules_for_camera(session, city.water_camera_id).rules == []
        with pytest.raises(UnknownCamera):
            rules_for_camera(session, 999_999)


def test_site_rules_are_scoped_like_the_site_and_checked_like_a_cameras(
    signed_in: SignIn, city: City, database: Database
) -> None:
    pump, substation = _site_ids(signed_in, city)
    _put(signed_in, _site_path(substation), {"rules": [{"kind": "tamper", "name": "Tamper"}]})
    water = signed_in("water")
    assert water.get(_site_path(pump)).json() == {"site_id": pump, "rules": []}
    forbidden = water.get(_site_path(substation))
    missing = water.get(_site_path(999_999))
    assert forbidden.status_code == missing.status_code == 404
    assert forbidden.json() == missing.json()
    assert water.put(_site_path(pump), json={"rules": []}).status_code == 403

    twice = [{"kind": "tamper", "name": "Twice"}, {"kind": "tamper", "name": "Twice"}]
    refused = signed_in("admin").put(_site_path(pump), json={"rules": twice})
    masked = signed_in("admin").put(_site_path(pump), json={"rules": [], "masks": []})

    assert refused.status_code == 422
    assert "two rules of a site share a name: Twice" in refused.json()["detail"][0]["msg"]
    assert masked.status_code == 422  # masks belong to each camera, not to a site
    assert [e.target for e in audit_entries(database, "analytics.rules")] == [f"site:{substation}"]


def test_a_site_the_caller_may_not_see_is_neither_named_nor_its_rules_or_events_shown(
    signed_in: SignIn, city: City, database: Database
) -> None:
    # A west camera watching the power company's substation, across the border in the east:
    # the west akimat sees the camera, not the site.
    _, substation = _site_ids(signed_in, city)
    with database.session() as session:
        site = session.get(Site, substation)
        west = session.get(District, city.west_id)
        assert site is not None and west is not None
        border_id = f.add_camera(session, "W-BORDER", west, site).id
    perimeter = {"kind": "intrusion", "name": "Substation perimeter"}
    assert _put(signed_in, _site_path(substation), {"rules": [perimeter]})["rules"]
    event_id = add_event(database, border_id)

    admin = signed_in("admin")
    seen_by_admin = admin.get(_rules_path(border_id)).json()
    assert seen_by_admin["site_id"] == substation
    assert [rule["name"] for rule in seen_by_admin["site_rules"]] == ["Substation perimeter"]
    by_site = {"site_id": substation}
    assert [e["id"] for e in admin.get("/api/analytics/events", params=by_site).json()] == [
        event_id
    ]

    akimat = signed_in("akimat-west")  # (the test client signs in as one user at a time)
    shown = akimat.get(_rules_path(border_id)).json()
    assert shown["site_id"] is None and shown["site_rules"] == []
    assert akimat.get("/api/analytics/events", params=by_site).json() == []
    assert [e["id"] for e in akimat.get("/api/analytics/events").json()] == [event_id]
