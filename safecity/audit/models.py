"""The audit log table: one row per audited action, each hashed over its content and the
previous row's hash, so a changed or missing row breaks the chain (see chain.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from safecity.store.base import Base, UTCDateTime


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(
        BigInteger,
        unique=True,
        doc="Gap-free position in the chain: the previous row's seq + 1, assigned while "
        "appending (not a database sequence, which would leave gaps on rollback).",
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(
        String(200), index=True, doc="User name, or e.g. 'cli:root', 'system'."
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64), index=True, doc="e.g. 'auth.login'.")
    target: Mapped[str | None] = mapped_column(String(200), doc="e.g. 'camera:150'.")
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    address: Mapped[str | None] = mapped_column(String(64), doc="Client IP address.")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
