"""Locks per concern, taken in the caller's transaction and held until it ends.

On PostgreSQL each concern has its own lock, so unrelated work does not queue behind it: a
row lock on the row that changes (``lock_row``: SELECT … FOR NO KEY UPDATE, which still lets
others insert rows that refer to it), a counter row (``counters.next_value``), or, where no row
stands for the concern (no shift running yet; one alert key), an advisory transaction lock on
a name (``hold_key_lock``). SQLite lets one connection write at a time: every helper there
takes that one write lock at once, after this process's writer turn, so what is read next is
what the previous writer committed.

Lock order: row and key locks first, the audit log's append lock last (it is taken when the
unit of work records its audit row, near its end), so two transactions never wait on each other
in opposite orders.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from safecity.store.engine import take_sqlite_writer_turn

KEY_LOCK_SPACE = 0x4B4559  # "KEY": the two-int advisory locks of hold_key_lock

# A write that changes nothing but makes SQLite take its write lock now. pysqlite (as
# SQLAlchemy uses it) begins a deferred transaction only before the first write, so without
# it a read that decides the write (the head of the audit log, whether a shift is on) could be
# made before the write lock, and two writers would decide on the same state.
_SQLITE_TAKE_WRITE_LOCK = text("UPDATE counters SET value = value WHERE 0 = 1")


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def take_write_lock(session: Session) -> None:
    """SQLite: take the database's write lock now (after this process's writer turn), unless
    this transaction holds it already (it has written). No-op on PostgreSQL, which locks rows."""
    if session.get_bind().dialect.name != "sqlite":
        return
    raw = session.connection().connection.dbapi_connection
    if raw is not None and getattr(raw, "in_transaction", False):
        return  # pysqlite began the transaction for a write: SQLite's write lock is held
    take_sqlite_writer_turn(session)
    session.execute(_SQLITE_TAKE_WRITE_LOCK)


def hold_key_lock(session: Session, key: str) -> None:
    """Serialize the writers of one ``key`` (e.g. an alert's dedup key, ``ops:shifts``) until
    this transaction ends. On PostgreSQL only writers of the same key wait; SQLite has one
    write lock for all."""
    if is_postgresql(session):
        session.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))"),
            {"space": KEY_LOCK_SPACE, "key": key},
        )
    else:
        take_write_lock(session)


def lock_row(session: Session, row: object) -> None:
    """Lock ``row`` (a mapped object) for change until this transaction ends, and read it
    again as committed now: a second writer waits here, then judges what the first one
    committed."""
    if is_postgresql(session):
        session.refresh(row, with_for_update={"key_share": True})
    else:
        take_write_lock(session)
        session.refresh(row)
