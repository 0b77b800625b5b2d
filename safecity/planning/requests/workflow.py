"""A camera request's life as data: its statuses, the moves between them, who may make each,
and who may submit, read and decide. Pure: no database.

``submitted → under_review → approved | rejected``, and ``approved → installed`` once the
camera is up. A rejection needs a reason; an approval may give one. Only the programme office
(the administrator) moves a request; the organization that asked sees where it stands.
"""

from __future__ import annotations

from dataclasses import dataclass

from safecity.auth.roles import Role
from safecity.planning.requests.models import RequestStatus

READERS = frozenset(
    {Role.ADMIN, Role.OPERATOR, Role.ANALYST, Role.AKIMAT, Role.POLICE_DUTY_OFFICER}
)
"""Who may read requests: city-wide roles all of them, an akimat or the police their own."""
SUBMITTERS = frozenset({Role.AKIMAT, Role.POLICE_DUTY_OFFICER, Role.ADMIN})
"""Who may submit: an akimat or a duty officer for their own organization; the programme
office for any akimat or police organization (a request that came by letter, an import)."""
DECIDERS = frozenset({Role.ADMIN})
"""Who reviews, approves, rejects and marks installed: the programme office."""

NUMBER_PREFIX = "REQ"


def request_number(year: int, sequence: int) -> str:
    """REQ-<year>-<five digits>: the number people quote, unique within its year."""
    return f"{NUMBER_PREFIX}-{year}-{sequence:05d}"


def number_prefix(year: int) -> str:
    return f"{NUMBER_PREFIX}-{year}-"


@dataclass(frozen=True)
class Move:
    """One step of the workflow, named as the API's path names it."""

    name: str
    source: RequestStatus
    target: RequestStatus
    reason_required: bool = False


S = RequestStatus
MOVES: tuple[Move, ...] = (
    Move("review", S.SUBMITTED, S.UNDER_REVIEW),
    Move("approve", S.UNDER_REVIEW, S.APPROVED),
    Move("reject", S.UNDER_REVIEW, S.REJECTED, reason_required=True),
    Move("install", S.APPROVED, S.INSTALLED),
)
MOVES_BY_NAME = {move.name: move for move in MOVES}
OPEN_STATUSES = frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.APPROVED})
"""A request still waiting for something: a decision or its camera."""


def moves_from(status: RequestStatus) -> list[Move]:
    return [move for move in MOVES if move.source is status]


class WorkflowError(Exception):
    """Base of the refusals below."""


class NotAllowed(WorkflowError):
    """The move does not start from the request's status (answered 409)."""

    def __init__(self, number: str, status: RequestStatus, move: Move) -> None:
        self.allowed = [m.name for m in moves_from(status)]
        after = ", ".join(self.allowed) or "nothing (it is final)"
        super().__init__(
            f"{number} is {status.value.replace('_', ' ')}: it cannot {move.name} "
            f"(only a request {move.source.value.replace('_', ' ')} can); "
            f"what it can do now: {after}"
        )


class ReasonRequired(WorkflowError):
    """The move needs a reason (answered 422)."""


def check_move(number: str, status: RequestStatus, name: str, reason: str | None) -> Move:
    """The move ``name`` from ``status``, or NotAllowed / ReasonRequired."""
    move = MOVES_BY_NAME[name]
    if move.source is not status:
        raise NotAllowed(number, status, move)
    if move.reason_required and not (reason and reason.strip()):
        raise ReasonRequired(f"reason: to {move.name} a request, say why")
    return move
