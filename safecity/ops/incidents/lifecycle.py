"""The incident lifecycle as data: statuses, allowed transitions and who may make each.

Pure: no database. ``new → dispatched → accepted → on_scene → resolved → closed``; a unit may
reject a dispatch (back to ``new``, with a reason) and may resolve without arriving.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from safecity.auth.roles import Role


class IncidentStatus(enum.StrEnum):
    NEW = "new"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Actor(enum.StrEnum):
    """Who a transition is for: the OCC (operators) or the police unit the incident is with."""

    OCC = "occ"
    ASSIGNED_UNIT = "assigned_unit"


@dataclass(frozen=True)
class Transition:
    name: str
    source: IncidentStatus
    target: IncidentStatus
    actor: Actor
    reason_required: bool = False


S = IncidentStatus
TRANSITIONS: tuple[Transition, ...] = (
    Transition("dispatch", S.NEW, S.DISPATCHED, Actor.OCC),
    Transition("accept", S.DISPATCHED, S.ACCEPTED, Actor.ASSIGNED_UNIT),
    Transition("reject", S.DISPATCHED, S.NEW, Actor.ASSIGNED_UNIT, reason_required=True),
    Transition("arrive", S.ACCEPTED, S.ON_SCENE, Actor.ASSIGNED_UNIT),
    Transition("resolve", S.ON_SCENE, S.RESOLVED, Actor.ASSIGNED_UNIT),
    Transition("resolve", S.ACCEPTED, S.RESOLVED, Actor.ASSIGNED_UNIT),
    Transition("close", S.RESOLVED, S.CLOSED, Actor.OCC),
)
_BY_EDGE = {(t.source, t.target): t for t in TRANSITIONS}

OCC_ROLES = frozenset({Role.OPERATOR, Role.ADMIN})


def allowed_targets(source: IncidentStatus) -> list[IncidentStatus]:
    return [t.target for t in TRANSITIONS if t.source is source]


def find_transition(source: IncidentStatus, target: IncidentStatus) -> Transition | None:
    return _BY_EDGE.get((source, target))


def may_make(transition: Transition, role: Role, *, officer_of_assigned_unit: bool) -> bool:
    """Admin may make any transition; operators the OCC's; the assigned unit's duty officer
    the unit's."""
    if role is Role.ADMIN:
        return True
    if transition.actor is Actor.OCC:
        return role in OCC_ROLES
    return role is Role.POLICE_DUTY_OFFICER and officer_of_assigned_unit


class TransitionError(Exception):
    """Base of the refusals below."""


class NotAllowed(TransitionError):
    """No such edge in the lifecycle (answered 409)."""

    def __init__(self, source: IncidentStatus, target: IncidentStatus) -> None:
        self.source, self.target = source, target
        self.allowed = allowed_targets(source)
        names = ", ".join(self.allowed) or "none (final)"
        super().__init__(f"cannot go from {source} to {target}; allowed from {source}: {names}")


class Forbidden(TransitionError):
    """The edge exists, but not for this user (answered 403)."""


class ReasonRequired(TransitionError):
    """The edge needs a reason (answered 422)."""


def check_transition(
    source: IncidentStatus,
    target: IncidentStatus,
    role: Role,
    *,
    officer_of_assigned_unit: bool,
    reason: str | None,
) -> Transition:
    """The transition, or the refusal: NotAllowed, Forbidden or ReasonRequired."""
    transition = find_transition(source, target)
    if transition is None:
        raise NotAllowed(source, target)
    if not may_make(transition, role, officer_of_assigned_unit=officer_of_assigned_unit):
        raise Forbidden(f"your role may not {transition.name} an incident that is {source}")
    if transition.reason_required and not (reason and reason.strip()):
        raise ReasonRequired(f"{transition.name} needs a reason")
    return transition
