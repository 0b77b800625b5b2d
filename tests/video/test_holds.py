"""Legal hold rules, below the API: what a hold must say, and releasing it once."""

from datetime import UTC, datetime, timedelta

import pytest

from safecity.store.engine import Database
from safecity.video.models import HoldKind
from safecity.video.recording.holds import (
    HoldAlreadyReleased,
    HoldError,
    HoldNotFound,
    list_holds,
    place_hold,
    release_hold,
)
from tests import factories as f

START = datetime(2026, 11, 26, 16, 40, tzinfo=UTC)


@pytest.fixture
def camera_id(database: Database) -> int:
    with database.session() as session:
        return f.add_camera(session, "CAM-1", f.add_district(session, "west", f.WEST)).id


def test_the_system_places_and_releases_a_hold(database: Database, camera_id: int) -> None:
    with database.session() as session:
        hold = place_hold(
            session,
            camera_id=camera_id,
            starts_at=START,
            ends_at=START + timedelta(minutes=30),
            reason="  evidence package 7f3a  ",
            reference=" ",
            kind=HoldKind.EVIDENCE,
        )
        hold_id = hold.id
    with database.session() as session:
        (record,) = list_holds(session, active_only=True)
        assert (record.id, record.reason, record.reference, record.placed_by) == (
            hold_id,
            "evidence package 7f3a",
            None,
            None,
        )
        released = release_hold(session, hold_id, released_by=None, reason="case closed")
        assert not released.active and released.released_by is None
    with database.session() as session:
        assert list_holds(session, active_only=True) == []
        with pytest.raises(HoldAlreadyReleased, match="already released"):
            release_hold(session, hold_id, released_by=None, reason="case closed")
        with pytest.raises(HoldNotFound):
            release_hold(session, hold_id + 1, released_by=None, reason="case closed")


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "reason", "message"),
    [
        (START, START, "why", "must come after its start"),
        (START.replace(tzinfo=None), START + timedelta(hours=1), "why", "time zone"),
        (START, START + timedelta(hours=1), "", "reason is required"),
        (START, START + timedelta(hours=1), "x" * 2001, "longer than 2000"),
    ],
)
def test_a_hold_must_make_sense(
    database: Database,
    camera_id: int,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    message: str,
) -> None:
    with database.session() as session, pytest.raises(HoldError, match=message):
        place_hold(
            session, camera_id=camera_id, starts_at=starts_at, ends_at=ends_at, reason=reason
        )


def test_a_hold_needs_a_camera(database: Database) -> None:
    with database.session() as session, pytest.raises(HoldError, match="no camera with id 7"):
        place_hold(
            session, camera_id=7, starts_at=START, ends_at=START + timedelta(1), reason="why"
        )
