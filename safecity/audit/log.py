"""Appending to the audit log (in the caller's transaction) and verifying it (streamed)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from safecity.audit.chain import GENESIS_HASH, ChainRow, ChainVerifier, Finding, entry_hash
from safecity.audit.models import AuditEntry
from safecity.core.clock import utcnow
from safecity.store.engine import Database
from safecity.store.locks import take_write_lock

# pg_advisory_xact_lock key that serializes appenders (any constant; "AUDITLOG" in ASCII).
ADVISORY_LOCK_KEY = 0x4155444954_4C4F47

VERIFY_BATCH = 1000

_HEAD = select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)


def hold_append_lock(session: Session) -> None:
    """Serialize with every appender until this transaction ends (re-entrant).

    Only the audit log's order needs it: ``record`` takes it, as late in the unit of work as
    the audit row is written. Other work locks what it changes (``safecity.store.locks``).
    A few rare admin changes still take it first to take turns with each other (the last
    administrator, incident types)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    elif session.get_bind().dialect.name == "sqlite":
        take_write_lock(session)
    else:  # pragma: no cover - SafeCity runs on SQLite and PostgreSQL only
        raise RuntimeError("audit log: no append lock for this database")


def record(
    session: Session,
    *,
    action: str,
    actor: str,
    actor_id: int | None = None,
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
    address: str | None = None,
) -> AuditEntry:
    """Append one row in the caller's transaction: it commits or rolls back with the action.

    Appenders are serialized (an advisory transaction lock on PostgreSQL, SQLite's write lock)
    before the head is read, so seq stays gap-free and the chain cannot fork. The lock is held
    until the caller's transaction ends: record near the end of the unit of work, after the
    row locks it needs (``safecity.store.locks``).
    ``details`` must be JSON-serializable; it is stored as its JSON round trip, so that the
    hash covers exactly what is stored.
    """
    stored: dict[str, Any] = json.loads(json.dumps(dict(details or {}), allow_nan=False))
    hold_append_lock(session)
    head = session.execute(_HEAD).first()
    seq, prev_hash = (head.seq + 1, head.hash) if head else (1, GENESIS_HASH)
    at = utcnow()
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        actor_id=actor_id,
        action=action,
        target=target,
        details=stored,
        address=address,
        prev_hash=prev_hash,
        hash=entry_hash(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            target=target,
            details=stored,
            address=address,
            prev_hash=prev_hash,
        ),
    )
    # Written by the next flush: the next append's head query, or the commit.
    session.add(entry)
    return entry


@dataclass
class VerifyReport:
    rows: int = 0
    findings: list[Finding] = field(default_factory=list)
    head_seq: int | None = None
    head_hash: str | None = None

    @property
    def intact(self) -> bool:
        return not self.findings


_COLUMNS = (
    AuditEntry.seq,
    AuditEntry.at,
    AuditEntry.actor,
    AuditEntry.action,
    AuditEntry.target,
    AuditEntry.details,
    AuditEntry.address,
    AuditEntry.prev_hash,
    AuditEntry.hash,
)


def iter_rows(database: Database, batch: int = VERIFY_BATCH) -> Iterator[ChainRow]:
    """Every row in seq order, read in keyset-paged batches (never the whole log at once)."""
    after: int | None = None
    while True:
        query = select(*_COLUMNS).order_by(AuditEntry.seq).limit(batch)
        if after is not None:
            query = query.where(AuditEntry.seq > after)
        with database.sessions() as session:
            rows = [ChainRow(*row) for row in session.execute(query)]
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1].seq


def count_rows(database: Database) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def verify(
    database: Database,
    *,
    batch: int = VERIFY_BATCH,
    progress: Callable[[int], None] | None = None,
) -> VerifyReport:
    """Walk the whole chain; ``progress`` is called with the rows checked after each row."""
    verifier, report = ChainVerifier(), VerifyReport()
    for row in iter_rows(database, batch):
        report.findings.extend(verifier.feed(row))
        if progress:
            progress(verifier.rows)
    report.rows = verifier.rows
    if verifier.last is not None:
        report.head_seq, report.head_hash = verifier.last.seq, verifier.last.hash
    return report
