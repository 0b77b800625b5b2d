"""Two writers at once: the second sees what the first committed (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import delete, func, select

from safecity.audit import log as audit_log
from safecity.auth.roles import Role
from safecity.city.models import OrganizationKind, PoliceUnit
from safecity.ops.alerts.intake import raise_alert
from safecity.ops.incidents import service as incidents
from safecity.ops.incidents.lifecycle import IncidentStatus, NotAllowed
from safecity.ops.models import Alert, AlertSource, Incident, IncidentEvent
from safecity.ops.shifts import escalation
from safecity.ops.shifts import service as shifts
from safecity.store.counters import Counter
from safecity.store.engine import Database
from safecity.store.locks import hold_key_lock, lock_row
from tests import factories as f


@pytest.fixture
def camera_id(database: Database) -> int:
    with database.session() as s:
        east = f.add_district(s, "east", f.EAST)
        police = f.add_organization(s, "police", OrganizationKind.POLICE)
        s.add(PoliceUnit(code="unit-east", name="East", organization=police, districts=[east]))
        f.add_user(s, "operator", Role.OPERATOR)
        f.add_user(s, "admin", Role.ADMIN)
        return f.add_camera(s, "E-1", east).id


def test_two_operators_dispatching_one_incident_dispatch_it_once(
    database: Database, camera_id: int
) -> None:
    with database.session() as s:
        incident_id = incidents.open_incident(
            s, f.user_named(s, "operator"), type_code="theft", camera_ids=[camera_id]
        ).id
    first, second = database.sessions(), database.sessions()
    try:
        # Both screens loaded the incident while it was new.
        mine = first.get_one(Incident, incident_id)
        theirs = second.get_one(Incident, incident_id)
        assert mine.status is theirs.status is IncidentStatus.NEW
        incidents.transition(
            first, mine, f.user_named(first, "operator"), IncidentStatus.DISPATCHED
        )
        first.commit()
        with pytest.raises(NotAllowed):
            incidents.transition(
                second, theirs, f.user_named(second, "admin"), IncidentStatus.DISPATCHED
            )
        second.rollback()
    finally:
        first.close()
        second.close()
    with database.session() as s:
        dispatches = s.scalar(
            select(func.count())
            .select_from(IncidentEvent)
            .where(
                IncidentEvent.incident_id == incident_id,
                IncidentEvent.to_status == IncidentStatus.DISPATCHED,
            )
        )
    assert dispatches == 1


def test_two_raisers_of_one_alert_at_once_make_one_alert(
    database: Database, camera_id: int
) -> None:
    first_inside = threading.Event()
    errors: list[BaseException] = []

    def raise_it(hold: float) -> None:
        try:
            with database.session() as s:
                raise_alert(
                    s, source=AlertSource.EXTERNAL, kind="fight", title="Fight", camera_id=camera_id
                )
                first_inside.set()
                time.sleep(hold)  # still uncommitted while the other one looks
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    first = threading.Thread(target=raise_it, args=(1.0,))
    first.start()
    assert first_inside.wait(10)
    second = threading.Thread(target=raise_it, args=(0.0,))
    second.start()
    first.join(30)
    second.join(30)
    assert not errors
    with database.session() as s:
        rows = [(a.count, a.dedup_key) for a in s.scalars(select(Alert))]
    assert rows == [(2, f"camera:{camera_id}:fight")]


def test_incidents_opened_at_once_get_numbers_one_after_the_other(
    database: Database, camera_id: int
) -> None:
    threads, per_thread = 4, 5
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def open_some() -> None:
        try:
            start.wait()
            for _ in range(per_thread):
                with database.session() as s:
                    incidents.open_incident(
                        s, f.user_named(s, "operator"), type_code="theft", camera_ids=[camera_id]
                    )
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    workers = [threading.Thread(target=open_some) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    with database.session() as s:
        numbers = sorted(s.scalars(select(Incident.number)))
    year = numbers[0].split("-")[0]
    assert numbers == [f"{year}-{n:06d}" for n in range(1, threads * per_thread + 1)]
    report = audit_log.verify(database)
    assert report.intact, report.findings
    assert report.rows == threads * per_thread


def test_a_years_numbers_go_on_after_those_stored_before_its_counter(
    database: Database, camera_id: int
) -> None:
    """A database upgraded with incidents in it has no counter yet: it starts after them."""
    with database.session() as s:
        for _ in range(2):
            incidents.open_incident(
                s, f.user_named(s, "operator"), type_code="theft", camera_ids=[camera_id]
            )
        s.execute(delete(Counter))
    with database.session() as s:
        third = incidents.open_incident(
            s, f.user_named(s, "operator"), type_code="theft", camera_ids=[camera_id]
        )
    assert third.number.endswith("-000003")


@pytest.mark.postgres
def test_work_of_one_concern_holds_up_no_other(database: Database, camera_id: int) -> None:
    """PostgreSQL: a mover of one incident, a shift change or an escalation pass in progress
    (its lock held, not yet committed) holds up neither other incidents nor alerts; a second
    mover of the same incident waits for the first."""
    if database.is_sqlite:
        pytest.skip("SQLite has one writer at a time")
    with database.session() as s:
        operator = f.user_named(s, "operator")
        mine, other = (
            incidents.open_incident(s, operator, type_code="theft", camera_ids=[camera_id]).id
            for _ in range(2)
        )
    holder = database.sessions()
    try:
        lock_row(holder, holder.get_one(Incident, mine))
        hold_key_lock(holder, shifts.SHIFTS_LOCK)
        hold_key_lock(holder, escalation.ESCALATIONS_LOCK)

        def others() -> None:
            with database.session() as s:
                incident = s.get_one(Incident, other)
                incidents.transition(
                    s, incident, f.user_named(s, "operator"), IncidentStatus.DISPATCHED
                )
            with database.session() as s:
                raise_alert(
                    s, source=AlertSource.MANUAL, kind="smoke", title="Smoke", camera_id=camera_id
                )

        done = threading.Thread(target=others)
        done.start()
        done.join(10)
        assert not done.is_alive(), "held up by another concern's lock"

        moved = threading.Event()

        def same() -> None:
            with database.session() as s:
                incident = s.get_one(Incident, mine)
                incidents.transition(
                    s, incident, f.user_named(s, "operator"), IncidentStatus.DISPATCHED
                )
            moved.set()

        waiting = threading.Thread(target=same)
        waiting.start()
        assert not moved.wait(1.0), "a second mover of one incident did not wait"
    finally:
        holder.rollback()
        holder.close()
    waiting.join(10)
    assert moved.is_set()
    assert audit_log.verify(database).intact
