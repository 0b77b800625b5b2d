"""Writing the notices of an incident transition into the outbox.

``enqueue_incident_notice`` writes them into the ``notifications`` table in the transaction
that makes the transition, one row per unit, channel (MQTT, webhook) and receiver, so a crash
never loses one. Which receivers a process writes notices for is configured on its session
factory (``notify_through``): the ``NotificationDispatcher`` does it for ``serve`` and
``demo``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from safecity.city.models import District, PoliceUnit
from safecity.core.clock import utcnow
from safecity.ops.dispatch.models import Notification, NotificationChannel, NotificationState
from safecity.ops.models import Incident, IncidentEvent, IncidentEventKind
from safecity.settings import NotificationSettings

_ROUTING = "safecity.notifications.routing"


@dataclass(frozen=True)
class NoticeRouting:
    """Where a unit's notices go: the MQTT topic (when a broker is configured) and its
    webhooks."""

    topic_prefix: str | None
    webhooks: Mapping[str, tuple[str, ...]]
    give_up_after: timedelta

    @classmethod
    def from_settings(cls, settings: NotificationSettings) -> NoticeRouting:
        return cls(
            topic_prefix=settings.mqtt.topic_prefix.rstrip("/") if settings.mqtt.host else None,
            webhooks={
                code: tuple(hook.url for hook in hooks) for code, hooks in settings.webhooks.items()
            },
            give_up_after=timedelta(hours=settings.give_up_hours),
        )

    def receivers(self, unit_code: str) -> list[tuple[NotificationChannel, str]]:
        found = [(NotificationChannel.WEBHOOK, url) for url in self.webhooks.get(unit_code, ())]
        if self.topic_prefix is not None:
            found.insert(0, (NotificationChannel.MQTT, unit_topic(self.topic_prefix, unit_code)))
        return found


def unit_topic(prefix: str, unit_code: str) -> str:
    return f"{prefix}/units/{unit_code}/incidents"


def notify_through(sessions: sessionmaker[Session], settings: NotificationSettings) -> None:
    """Make incident transitions in sessions from ``sessions`` write notices per ``settings``."""
    info = dict(sessions.kw.get("info") or {})
    info[_ROUTING] = NoticeRouting.from_settings(settings)
    sessions.configure(info=info)


def enqueue_incident_notice(
    session: Session, incident: Incident, event: IncidentEvent
) -> list[Notification]:
    """Write the notices of a transition for the unit the incident is with, and for the unit
    that just rejected it, in the caller's transaction. Nothing for notes, SOP steps, or an
    incident no unit has had."""
    routing = session.info.get(_ROUTING)
    if not isinstance(routing, NoticeRouting) or event.kind is not IncidentEventKind.TRANSITION:
        return []
    unit_ids = {incident.police_unit_id, event.details.get("police_unit_id")} - {None}
    if not unit_ids:
        return []
    units = session.scalars(
        select(PoliceUnit).where(PoliceUnit.id.in_(unit_ids)).order_by(PoliceUnit.id)
    )
    district = session.get(District, incident.district_id) if incident.district_id else None
    now = utcnow()
    written = []
    for unit in units:
        payload = notice_payload(incident, event, unit, district)
        for channel, target in routing.receivers(unit.code):
            notice = Notification(
                incident_id=incident.id,
                event_id=event.id,
                police_unit_code=unit.code,
                channel=channel,
                target=target,
                payload=payload,
                state=NotificationState.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                give_up_at=now + routing.give_up_after,
            )
            session.add(notice)
            written.append(notice)
    session.flush()
    return written


def notice_payload(
    incident: Incident, event: IncidentEvent, unit: PoliceUnit, district: District | None
) -> dict[str, Any]:
    """What a unit is told: the incident as it stands after the event, and the event."""
    return {
        "unit": unit.code,
        "incident": {
            "id": incident.id,
            "number": incident.number,
            "type": incident.type_code,
            "type_name": incident.checklist.incident_type.name,
            "priority": incident.priority,
            "status": incident.status.value,
            "location": {"latitude": incident.latitude, "longitude": incident.longitude},
            "district": (
                {"id": district.id, "code": district.code, "name": district.name}
                if district is not None
                else None
            ),
            "police_unit": unit.code if incident.police_unit_id == unit.id else None,
            "opened_at": incident.opened_at.isoformat(),
            "summary": incident.summary,
            "link": f"/#/incidents/{incident.id}",
        },
        "event": {
            "id": event.id,
            "at": event.at.isoformat(),
            "transition": event.details.get("transition"),
            "from": event.from_status.value if event.from_status else None,
            "to": event.to_status.value if event.to_status else None,
            "by": event.actor,
            "reason": event.text,
        },
    }
