"""Alert rules as stored: one row per rule, the scope's target as a foreign key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from safecity.city.schedule import WatchWindow
from safecity.core.clock import utcnow
from safecity.ops.alerts.rules import Rule, RuleScope
from safecity.store.base import Base, UTCDateTime, str_enum


class AlertRule(Base):
    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64), index=True, doc='An event kind, or "*".')
    scope: Mapped[RuleScope] = mapped_column(str_enum(RuleScope, "alert_rule_scope"))
    camera_id: Mapped[int | None] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), index=True
    )
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="CASCADE"), index=True
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    min_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    schedule: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, doc="Weekly watch windows (city time); empty: always."
    )
    priority: Mapped[int | None] = mapped_column(
        Integer, doc="1–4; NULL keeps the kind's default priority."
    )
    suppress: Mapped[bool] = mapped_column(Boolean, default=False, doc="Raise no alert at all.")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def target_id(self) -> int | None:
        return {
            RuleScope.CITY: None,
            RuleScope.DISTRICT: self.district_id,
            RuleScope.SITE: self.site_id,
            RuleScope.CAMERA: self.camera_id,
        }[self.scope]

    def as_rule(self) -> Rule:
        return Rule(
            id=self.id,
            name=self.name,
            kind=self.kind,
            scope=self.scope,
            target_id=self.target_id,
            priority=self.priority,
            suppress=self.suppress,
            enabled=self.enabled,
            min_confidence=self.min_confidence,
            schedule=tuple(WatchWindow.model_validate(window) for window in self.schedule),
        )
