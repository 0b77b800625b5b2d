"""Engine and session factory for one database URL."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from safecity.private_files import create_private_file, tighten

BUSY_TIMEOUT_SECONDS = 10.0
"""How long a SQLite writer waits for the write lock before "database is locked"."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the console read while a worker writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000:.0f}")
    cursor.close()


def _private_sqlite_file(path: Path) -> None:
    """SQLite would make its file 0644 less the umask; its journal files (-wal, -shm) it
    makes with the mode of the file itself. So the file is made 0640 here, before SQLite
    opens it, and all three are private whatever the umask. Existing ones are tightened."""
    create_private_file(path)
    tighten(path.with_name(f"{path.name}-wal"), path.with_name(f"{path.name}-shm"))


class Database:
    """One database: its engine and a session factory. Create once per process."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            _private_sqlite_file(Path(parsed.database))
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


_WRITER_TURNS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_WRITER_TURNS_GUARD = threading.Lock()
_HOLDS_TURN = "safecity.sqlite_writer_turn"


def take_sqlite_writer_turn(session: Session) -> None:
    """On SQLite, wait for this process's turn to write before taking the database's write lock.

    SQLite lets one connection write at a time and makes the others poll: its busy handler
    sleeps in growing steps (up to 100 ms) between tries, so under load a waiting writer
    often sleeps long after the lock came free. Writers that know they will write (the audit
    appenders, alert folding) queue on a lock in this process instead and go the moment the
    previous one commits. A session already inside a write transaction does not queue: it
    holds SQLite's lock already, and making it wait here could deadlock with a queued writer.
    The turn ends with the session's transaction. No-op on other databases.

    A writer waits as long as SQLite itself would (``BUSY_TIMEOUT_SECONDS``), then fails as
    SQLite does, "database is locked". The turn belongs to a session, not a thread: FastAPI
    runs a request's endpoint and its session's commit as separate thread-pool calls, so a
    pool thread may start the next request while its previous request's session still holds
    the turn and is about to commit on another thread. Such a thread must wait like any other.
    """
    engine = session.get_bind()
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":
        return
    if session.info.get(_HOLDS_TURN) is not None:
        return
    raw = session.connection().connection.dbapi_connection
    if raw is None or getattr(raw, "in_transaction", False):
        return
    with _WRITER_TURNS_GUARD:
        turn = _WRITER_TURNS.setdefault(engine, threading.Lock())
    if not turn.acquire(timeout=BUSY_TIMEOUT_SECONDS):
        why = f"waited {BUSY_TIMEOUT_SECONDS:g} s for this process's write turn"
        raise OperationalError(why, None, sqlite3.OperationalError(f"database is locked ({why})"))
    session.info[_HOLDS_TURN] = turn
    if not event.contains(session, "after_transaction_end", _end_turn):
        event.listen(session, "after_transaction_end", _end_turn)


def _end_turn(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    turn = session.info.pop(_HOLDS_TURN, None)
    if turn is not None:
        turn.release()
