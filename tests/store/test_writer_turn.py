"""SQLite writers queue in the process for their turn, without deadlocking one that already
writes, and the turn ends with the transaction whichever way it ends."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from safecity.audit.log import record, verify
from safecity.audit.models import AuditEntry
from safecity.city.models import District
from safecity.store import engine as engine_module
from safecity.store.engine import Database, take_sqlite_writer_turn
from tests import factories as f


def test_many_appenders_at_once_all_land_in_order(sqlite_database: Database) -> None:
    errors: list[BaseException] = []

    def append(worker: int) -> None:
        try:
            for n in range(20):
                with sqlite_database.session() as session:
                    record(
                        session, action="test.append", actor=f"worker-{worker}", details={"n": n}
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    with sqlite_database.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 160
    assert verify(sqlite_database).intact


def test_a_session_already_writing_does_not_wait_for_a_queued_writer(
    sqlite_database: Database,
) -> None:
    with sqlite_database.session() as session:
        f.add_district(session, "west", f.WEST)
    writing = sqlite_database.sessions()
    # It writes first (holding SQLite's lock), then wants to audit.
    district = writing.scalars(select(District)).one()
    district.population = 5
    writing.flush()
    queued_done = threading.Event()

    def queued_writer() -> None:
        with sqlite_database.session() as session:
            record(session, action="test.queued", actor="b")  # takes the turn, then waits
        queued_done.set()

    other = threading.Thread(target=queued_writer)
    other.start()
    time.sleep(0.3)  # the other writer holds the turn and waits for SQLite's lock
    started = time.monotonic()
    record(writing, action="test.writing", actor="a")
    writing.commit()
    writing.close()
    assert time.monotonic() - started < 2  # not held up until a busy timeout
    assert queued_done.wait(10)
    other.join()
    assert verify(sqlite_database).intact


def test_the_turn_ends_with_a_rollback_too(sqlite_database: Database) -> None:
    session = sqlite_database.sessions()
    take_sqlite_writer_turn(session)
    session.rollback()
    session.close()
    done = threading.Event()

    def writer() -> None:
        with sqlite_database.session() as other:
            record(other, action="test.after", actor="c")
        done.set()

    threading.Thread(target=writer).start()
    assert done.wait(5)


def test_a_thread_waits_for_its_earlier_session_to_commit_on_another_thread(
    sqlite_database: Database,
) -> None:
    """FastAPI runs an endpoint and its session's commit as separate thread-pool calls: a pool
    thread may take the next request while its previous one still holds the turn and commits
    elsewhere. That thread waits for the turn like any other instead of failing."""
    earlier = sqlite_database.sessions()
    record(earlier, action="test.earlier", actor="a")  # holds the turn, not yet committed

    def commit_elsewhere() -> None:
        time.sleep(0.3)
        earlier.commit()
        earlier.close()

    committer = threading.Thread(target=commit_elsewhere)
    committer.start()
    with sqlite_database.session() as later:
        record(later, action="test.later", actor="a")
    committer.join()
    with sqlite_database.session() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
    assert actions == ["test.earlier", "test.later"]
    assert verify(sqlite_database).intact


def test_a_writer_waits_no_longer_than_sqlite_would(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "BUSY_TIMEOUT_SECONDS", 0.5)
    holding = sqlite_database.sessions()
    record(holding, action="test.holding", actor="a")
    failed: list[BaseException] = []
    waited: list[float] = []

    def writer() -> None:
        started = time.monotonic()
        try:
            with sqlite_database.session() as session:
                record(session, action="test.waiting", actor="b")
        except OperationalError as exc:
            failed.append(exc)
        waited.append(time.monotonic() - started)

    other = threading.Thread(target=writer)
    other.start()
    other.join(10)
    holding.commit()  # what was stored stays
    holding.close()
    assert len(failed) == 1
    assert "database is locked" in str(failed[0])
    assert 0.4 < waited[0] < 5
    with sqlite_database.session() as session:
        actions = session.scalars(select(AuditEntry.action)).all()
    assert actions == ["test.holding"]
    assert verify(sqlite_database).intact
