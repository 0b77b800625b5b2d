"""Two writers at once: the second sees what the first committed (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safecity.auth.models import User
from safecity.auth.roles import Role
from safecity.city.models import OrganizationKind, PoliceUnit
from safecity.ops.alerts.intake import raise_alert
from safecity.ops.incidents import service as incidents
from safecity.ops.incidents.lifecycle import IncidentStatus, NotAllowed
from safecity.ops.models import Alert, AlertSource, Incident, IncidentEvent
from safecity.store.engine import Database
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


def _user(session: Session, username: str) -> User:
    return session.scalars(select(User).where(User.username == username)).one()


def test_two_operators_dispatching_one_incident_dispatch_it_once(
    database: Database, camera_id: int
) -> None:
    with database.session() as s:
        incident_id = incidents.open_incident(
            s, _user(s, "operator"), type_code="theft", camera_ids=[camera_id]
        ).id
    first, second = database.sessions(), database.sessions()
    try:
        # Both screens loaded the incident while it was new.
        mine = first.get_one(Incident, incident_id)
        theirs = second.get_one(Incident, incident_id)
        assert mine.status is theirs.status is IncidentStatus.NEW
        incidents.transition(first, mine, _user(first, "operator"), IncidentStatus.DISPATCHED)
        first.commit()
        with pytest.raises(NotAllowed):
            incidents.transition(second, theirs, _user(second, "admin"), IncidentStatus.DISPATCHED)
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
