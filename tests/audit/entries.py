"""Read the audit log back in tests."""

from __future__ import annotations

from sqlalchemy import select

from safecity.audit import log
from safecity.audit.models import AuditEntry
from safecity.store.engine import Database


def audit_entries(database: Database, action: str | None = None) -> list[AuditEntry]:
    """The log in seq order (only ``action`` when given), after checking the chain is intact."""
    assert log.verify(database).intact
    with database.sessions() as session:
        query = select(AuditEntry).order_by(AuditEntry.seq)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        return list(session.scalars(query))
