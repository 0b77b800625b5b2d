"""The request workflow as data, without a database."""

from __future__ import annotations

import pytest

from safecity.planning.requests.models import RequestStatus as S
from safecity.planning.requests.workflow import (
    NotAllowed,
    ReasonRequired,
    check_move,
    moves_from,
    request_number,
)


def test_numbers_are_per_year_and_five_digits() -> None:
    assert request_number(2026, 7) == "REQ-2026-00007"


def test_the_workflow_goes_submitted_review_decision_installed() -> None:
    assert check_move("R", S.SUBMITTED, "review", None).target is S.UNDER_REVIEW
    assert check_move("R", S.UNDER_REVIEW, "approve", None).target is S.APPROVED
    assert check_move("R", S.UNDER_REVIEW, "reject", "covered").target is S.REJECTED
    assert check_move("R", S.APPROVED, "install", None).target is S.INSTALLED
    assert moves_from(S.INSTALLED) == [] and moves_from(S.REJECTED) == []


def test_a_move_from_the_wrong_status_names_what_can_be_done() -> None:
    with pytest.raises(NotAllowed) as refused:
        check_move("REQ-2026-00001", S.SUBMITTED, "install", None)
    assert refused.value.allowed == ["review"]
    assert str(refused.value) == (
        "REQ-2026-00001 is submitted: it cannot install (only a request approved can); "
        "what it can do now: review"
    )
    with pytest.raises(NotAllowed, match="nothing \\(it is final\\)"):
        check_move("R", S.REJECTED, "approve", None)


@pytest.mark.parametrize("reason", [None, "", "  \n"])
def test_a_rejection_without_a_reason_is_refused(reason: str | None) -> None:
    with pytest.raises(ReasonRequired):
        check_move("R", S.UNDER_REVIEW, "reject", reason)
