"""Request numbers under concurrent submission: every number once, none skipped."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import select

from safecity.city.models import OrganizationKind
from safecity.planning.requests import service
from safecity.planning.requests.models import CameraRequest, Urgency
from safecity.planning.requests.rules import Draft
from safecity.store.engine import Database
from tests import factories as f

SUBMITTERS = 4
EACH = 5


def test_concurrent_submissions_get_distinct_consecutive_numbers(database: Database) -> None:
    with database.session() as s:
        west = f.add_district(s, "west", f.WEST)
        akimat = f.add_organization(s, "akimat-west", OrganizationKind.AKIMAT, west)
        ids = (akimat.id, west.id)
    when = datetime(2027, 3, 1, tzinfo=UTC)

    def submit(worker: int) -> list[str]:
        numbers = []
        for n in range(EACH):
            with database.session() as s:
                draft = Draft(*ids, f"worker {worker} request {n}", Urgency.NORMAL)
                numbers.append(service.store_request(s, service.Actor("t"), draft, now=when).number)
        return numbers

    with ThreadPoolExecutor(SUBMITTERS) as pool:
        handed = [number for numbers in pool.map(submit, range(SUBMITTERS)) for number in numbers]

    expected = [f"REQ-2027-{n:05d}" for n in range(1, SUBMITTERS * EACH + 1)]
    assert sorted(handed) == expected
    with database.session() as s:
        assert sorted(s.scalars(select(CameraRequest.number))) == expected
