"""The built-in incident catalogue and the lifecycle, pure."""

import pytest

from safecity.auth.roles import Role
from safecity.ops.incident_types.file import default_incident_types
from safecity.ops.incidents.lifecycle import (
    TRANSITIONS,
    Forbidden,
    IncidentStatus,
    NotAllowed,
    ReasonRequired,
    allowed_targets,
    check_transition,
)

S = IncidentStatus


def test_catalogue_has_the_standard_types_with_priorities_and_procedures() -> None:
    expected = {
        "theft",
        "assault",
        "robbery",
        "vandalism",
        "public_disorder",
        "traffic_accident",
        "fire",
        "missing_person",
        "suspicious_object",
        "medical",
    }
    catalogue = {kind.code: kind for kind in default_incident_types()}
    assert expected <= set(catalogue)
    for kind in catalogue.values():
        assert 1 <= kind.default_priority <= 4
        assert kind.active
        assert kind.checklist and all(step.strip() for step in kind.checklist)


def test_the_lifecycle_edges() -> None:
    edges = {(t.source, t.target) for t in TRANSITIONS}
    assert edges == {
        (S.NEW, S.DISPATCHED),
        (S.DISPATCHED, S.ACCEPTED),
        (S.DISPATCHED, S.NEW),
        (S.ACCEPTED, S.ON_SCENE),
        (S.ON_SCENE, S.RESOLVED),
        (S.ACCEPTED, S.RESOLVED),
        (S.RESOLVED, S.CLOSED),
    }
    assert allowed_targets(S.CLOSED) == []
    assert set(allowed_targets(S.ACCEPTED)) == {S.ON_SCENE, S.RESOLVED}


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ADMIN])
def test_the_occ_dispatches_and_closes(role: Role) -> None:
    for source, target in [(S.NEW, S.DISPATCHED), (S.RESOLVED, S.CLOSED)]:
        check_transition(source, target, role, officer_of_assigned_unit=False, reason=None)


@pytest.mark.parametrize(
    ("source", "target"),
    [(S.DISPATCHED, S.ACCEPTED), (S.ACCEPTED, S.ON_SCENE), (S.ON_SCENE, S.RESOLVED)],
)
def test_only_the_assigned_units_officer_or_admin_makes_unit_moves(
    source: IncidentStatus, target: IncidentStatus
) -> None:
    officer = Role.POLICE_DUTY_OFFICER
    check_transition(source, target, officer, officer_of_assigned_unit=True, reason=None)
    check_transition(source, target, Role.ADMIN, officer_of_assigned_unit=False, reason=None)
    with pytest.raises(Forbidden):
        check_transition(source, target, officer, officer_of_assigned_unit=False, reason=None)
    with pytest.raises(Forbidden):
        check_transition(source, target, Role.OPERATOR, officer_of_assigned_unit=False, reason=None)


def test_officer_may_not_dispatch_or_close() -> None:
    for source, target in [(S.NEW, S.DISPATCHED), (S.RESOLVED, S.CLOSED)]:
        with pytest.raises(Forbidden):
            check_transition(
                source, target, Role.POLICE_DUTY_OFFICER, officer_of_assigned_unit=True, reason=None
            )
    with pytest.raises(Forbidden):
        check_transition(
            S.NEW, S.DISPATCHED, Role.ANALYST, officer_of_assigned_unit=False, reason=""
        )


def test_reject_needs_a_reason() -> None:
    officer = Role.POLICE_DUTY_OFFICER
    with pytest.raises(ReasonRequired):
        check_transition(S.DISPATCHED, S.NEW, officer, officer_of_assigned_unit=True, reason="  ")
    made = check_transition(
        S.DISPATCHED, S.NEW, officer, officer_of_assigned_unit=True, reason="no car free"
    )
    assert made.name == "reject"


def test_a_missing_edge_names_the_allowed_ones() -> None:
    with pytest.raises(NotAllowed) as caught:
        check_transition(S.NEW, S.CLOSED, Role.ADMIN, officer_of_assigned_unit=False, reason=None)
    assert caught.value.allowed == [S.DISPATCHED]
    assert "dispatched" in str(caught.value)


def test_crimes_count_as_their_register_kind_and_the_rest_as_no_crime() -> None:
    from safecity.city.crime_register import CrimeKind

    kinds = {kind.code: kind.crime_kind for kind in default_incident_types()}
    assert kinds["public_disorder"] is CrimeKind.HOOLIGANISM
    assert kinds["theft"] is CrimeKind.THEFT
    assert {code for code, kind in kinds.items() if kind is None} == {
        "traffic_accident",
        "fire",
        "missing_person",
        "suspicious_object",
        "medical",
        "other",
    }
