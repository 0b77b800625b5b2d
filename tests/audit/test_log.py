"""Appending in the caller's transaction, concurrently, and verifying, on both backends."""

from __future__ import annotations

import threading

from sqlalchemy import func, select, update

from safecity.audit import log
from safecity.audit.chain import GENESIS_HASH, FindingKind
from safecity.audit.models import AuditEntry
from safecity.store.engine import Database


def test_rows_chain_from_genesis_and_verify(database: Database) -> None:
    with database.session() as session:
        first = log.record(session, action="auth.login", actor="admin", address="10.0.0.5")
        second = log.record(
            session,
            action="camera.update",
            actor="admin",
            target="camera:1",
            details={"name": ["A", "B"], "at": 1.5},
        )
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    report = log.verify(database)
    assert report.intact and report.rows == 2
    assert (report.head_seq, report.head_hash) == (2, second.hash)


def test_a_rolled_back_action_leaves_no_row_and_no_gap(database: Database) -> None:
    with database.session() as session:
        log.record(session, action="a", actor="x")
    try:
        with database.session() as session:
            log.record(session, action="b", actor="x")
            raise RuntimeError("the action failed")
    except RuntimeError:
        pass
    with database.session() as session:
        assert log.record(session, action="c", actor="x").seq == 2
    assert log.verify(database).intact


def test_verify_streams_in_batches_and_reports_progress(database: Database) -> None:
    with database.session() as session:
        for n in range(7):
            log.record(session, action="video.playback", actor="op", details={"n": n})
    seen: list[int] = []
    report = log.verify(database, batch=3, progress=seen.append)
    assert report.intact and report.rows == 7 and seen == list(range(1, 8))
    with database.engine.begin() as connection:
        connection.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(details={"n": 99}))
    report = log.verify(database, batch=3)
    assert [(f.seq, f.kind) for f in report.findings] == [(4, FindingKind.CHANGED)]


def test_concurrent_appenders_never_fork_the_chain(database: Database) -> None:
    threads, per_thread = 6, 10
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def append(worker: int) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                with database.session() as session:
                    session.execute(select(func.count()).select_from(AuditEntry))  # a prior read
                    log.record(session, action="test", actor=f"w{worker}", details={"n": n})
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=append, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    report = log.verify(database)
    assert report.intact, report.findings
    assert report.rows == threads * per_thread == report.head_seq
