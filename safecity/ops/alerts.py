"""Alert intake with de-duplication, and acknowledging.

A repeat of an open alert (same ``dedup_key``, still new or acknowledged, last seen within the
window) is folded into it: ``count`` goes up and ``last_at`` moves, so a burst from one camera
is one line in the operator's list, not a hundred.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from safecity.auth.models import User
from safecity.auth.roles import Scope
from safecity.city.districts import stored_district_locator
from safecity.city.models import Camera, Site
from safecity.ops.incident_types import valid_priority
from safecity.ops.models import Alert, AlertSource, AlertStatus
from safecity.store.base import utcnow

DEDUP_WINDOW = timedelta(seconds=60)
OPEN_STATUSES = (AlertStatus.NEW, AlertStatus.ACKNOWLEDGED)

DEFAULT_PRIORITY = 3
KIND_PRIORITY = {"tamper": 2, "offline": 3, "intrusion": 2, "fight": 1, "fire": 1, "smoke": 1}
"""The rule: a kind's priority unless the caller states one; a watched site raises it by one."""


class AlertError(ValueError):
    pass


def alert_condition(scope: Scope) -> ColumnElement[bool]:
    """Alerts in the districts a user sees; one outside every district only city-wide."""
    if scope.city_wide:
        return true()
    if scope.district_ids:
        return Alert.district_id.in_(sorted(scope.district_ids))
    return false()


def default_dedup_key(
    source: AlertSource, kind: str, camera_id: int | None, site_id: int | None
) -> str:
    if camera_id is not None:
        return f"camera:{camera_id}:{kind}"
    if site_id is not None:
        return f"site:{site_id}:{kind}"
    return f"{source}:{kind}"


def rule_priority(kind: str, *, at_site: bool) -> int:
    priority = KIND_PRIORITY.get(kind, DEFAULT_PRIORITY)
    return max(1, priority - 1) if at_site else priority


def raise_alert(
    session: Session,
    *,
    source: AlertSource,
    kind: str,
    title: str,
    priority: int | None = None,
    camera_id: int | None = None,
    site_id: int | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    details: Mapping[str, Any] | None = None,
    dedup_key: str | None = None,
    created_by: User | None = None,
    now: datetime | None = None,
    window: timedelta = DEDUP_WINDOW,
) -> tuple[Alert, bool]:
    """The alert and whether it is new (False: folded into an open one)."""
    now = now or utcnow()
    if priority is not None and not valid_priority(priority):
        raise AlertError("priority must be 1 (most urgent) to 4")
    key = dedup_key or default_dedup_key(source, kind, camera_id, site_id)
    existing = session.scalars(
        select(Alert)
        .where(
            Alert.dedup_key == key,
            Alert.status.in_(OPEN_STATUSES),
            Alert.last_at >= now - window,
        )
        .order_by(Alert.last_at.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if existing is not None:
        existing.count += 1
        existing.last_at = max(existing.last_at, now)
        session.flush()
        return existing, False

    district_id: int | None = None
    if camera_id is not None:
        camera = session.get(Camera, camera_id)
        if camera is None:
            raise AlertError(f"no camera {camera_id}")
        latitude, longitude = camera.latitude, camera.longitude
        district_id, site_id = camera.district_id, site_id or camera.site_id
    elif site_id is not None:
        site = session.get(Site, site_id)
        if site is None:
            raise AlertError(f"no site {site_id}")
        latitude, longitude, district_id = site.latitude, site.longitude, site.district_id
    elif latitude is not None and longitude is not None:
        district_id = stored_district_locator(session).locate(latitude, longitude)
    alert = Alert(
        source=source,
        camera_id=camera_id,
        site_id=site_id,
        district_id=district_id,
        latitude=latitude,
        longitude=longitude,
        kind=kind,
        priority=priority or rule_priority(kind, at_site=site_id is not None),
        title=title,
        details=dict(details or {}),
        status=AlertStatus.NEW,
        dedup_key=key,
        count=1,
        first_at=now,
        last_at=now,
        created_by_id=created_by.id if created_by else None,
    )
    session.add(alert)
    session.flush()
    return alert, True


def acknowledge(session: Session, alert: Alert, user: User, *, now: datetime | None = None) -> bool:
    """Mark a new alert seen; False when it was not new (already acknowledged or handled)."""
    if alert.status is not AlertStatus.NEW:
        return False
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_by_id = user.id
    alert.acknowledged_at = now or utcnow()
    session.flush()
    return True
