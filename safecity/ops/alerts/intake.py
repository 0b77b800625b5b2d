"""Alert intake with de-duplication, grouping by area and rules, and acknowledging.

A repeat of an open alert (same ``dedup_key``, still new or acknowledged, last seen within the
window) is folded into it: ``count`` goes up and ``last_at`` moves, so a burst from one camera
is one line in the operator's list, not a hundred. A new alert joins the group of an open alert
of the same kind nearby (ops/grouping.py). Every new alert is audited (``alert.raise``); a
folded repeat is not, it changes nothing but the count.

Analytics and camera health go through ``raise_ruled_alert``: the site's, camera's, district's
or city's alert rules (ops/rules.py) set the priority or suppress the alert.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, false, or_, select, true
from sqlalchemy.orm import Session

from safecity.audit.log import record as audit
from safecity.auth.models import User
from safecity.auth.roles import Scope
from safecity.city.districts import stored_district_locator
from safecity.city.models import Camera, Site
from safecity.core.clock import utcnow
from safecity.ops.alerts import rules
from safecity.ops.alerts.grouping import (
    DEFAULT_GROUPING,
    AlertGrouping,
    Placed,
    area_peer,
    bounding_box,
    group_key,
)
from safecity.ops.alerts.rule_models import AlertRule
from safecity.ops.incident_types import valid_priority
from safecity.ops.models import Alert, AlertSource, AlertStatus
from safecity.store.locks import hold_key_lock

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


_OPEN_OF_KEY = (
    select(Alert)
    .where(
        Alert.dedup_key == bindparam("key"),
        Alert.status.in_(OPEN_STATUSES),
        Alert.last_at >= bindparam("since"),
    )
    .order_by(Alert.last_at.desc())
    .limit(1)
    .with_for_update()
)
"""The open alert a repeat of ``key`` seen since ``since`` folds into (built once: an alert
a second per camera makes statement building a cost of its own)."""


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
    actor: str | None = None,
    now: datetime | None = None,
    window: timedelta = DEDUP_WINDOW,
    grouping: AlertGrouping = DEFAULT_GROUPING,
) -> tuple[Alert, bool]:
    """The alert and whether it is new (False: folded into an open one).

    ``actor`` names who raised it in the audit log: the user when ``created_by`` is given,
    else ``actor``, else ``details["actor"]`` (the inbound webhook's), else ``system``.
    """
    now = now or utcnow()
    if priority is not None and not valid_priority(priority):
        raise AlertError("priority must be 1 (most urgent) to 4")
    key = dedup_key or default_dedup_key(source, kind, camera_id, site_id)
    # Without it two raisers of one key (the bus intake and the HTTP endpoint, two processes)
    # both find nothing open and both insert.
    hold_key_lock(session, key)
    existing = session.scalars(_OPEN_OF_KEY, {"key": key, "since": now - window}).first()
    if existing is not None:
        existing.count += 1
        existing.last_at = max(existing.last_at, now)
        if priority is not None and priority < existing.priority:
            # a surer repeat (a rule with a minimum confidence) makes the open alert more urgent
            existing.priority = priority
            if details and "rule" in details:
                existing.details = {**existing.details, "rule": details["rule"]}
        session.flush()
        return existing, False

    district_id: int | None = None
    camera: Camera | None = None
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
    # Grouping may change a peer alert's row: that row lock comes before the audit log's
    # (taken by the audit row below), the order every writer keeps (safecity.store.locks).
    session.add(alert)
    session.flush()
    _join_area_group(session, alert, grouping, now)
    audit(
        session,
        action="alert.raise",
        actor=(
            created_by.username
            if created_by
            else actor or str((details or {}).get("actor") or "system")
        ),
        actor_id=created_by.id if created_by else None,
        target=f"alert:{alert.id}",
        details={
            "source": alert.source.value,
            "kind": alert.kind,
            "camera": camera.code if camera else None,
            "priority": alert.priority,
            "rule": alert.details.get("rule"),
            "group_id": alert.group_id,
        },
    )
    return alert, True


GROUP_CANDIDATES = 200
"""At most this many open alerts of a kind in the same area are read per new alert."""


@functools.cache
def _group_candidates(
    at_site: bool, in_box: bool, in_lon: bool
) -> Select[int, int | None, float | None, float | None, int | None]:
    """The open alerts of a kind near a new one, oldest first: at its site (``at_site``) or
    within its bounding box (``in_box``; ``in_lon``: the box bounds longitude too). Built once
    per shape, like ``_OPEN_OF_KEY``."""
    near: list[ColumnElement[bool]] = []
    if at_site:
        near.append(Alert.site_id == bindparam("site_id"))
    if in_box:
        inside = [Alert.latitude.between(bindparam("min_lat"), bindparam("max_lat"))]
        if in_lon:
            inside.append(Alert.longitude.between(bindparam("min_lon"), bindparam("max_lon")))
        near.append(and_(*inside))
    return (
        select(Alert.id, Alert.site_id, Alert.latitude, Alert.longitude, Alert.group_id)
        .where(
            Alert.kind == bindparam("kind"),
            Alert.id != bindparam("id"),
            Alert.status.in_(OPEN_STATUSES),
            Alert.last_at >= bindparam("since"),
            or_(*near),
        )
        .order_by(Alert.first_at, Alert.id)
        .limit(GROUP_CANDIDATES)
    )


def _join_area_group(
    session: Session, alert: Alert, grouping: AlertGrouping, now: datetime
) -> None:
    """Put a new alert in the group of the first open alert of its kind in the same area.

    Only alerts at its site or within the radius' bounding box are read (SQL), as columns;
    the exact distance is ``area_peer``'s to judge."""
    at_site = alert.site_id is not None
    box = (
        bounding_box(alert.latitude, alert.longitude, grouping.radius_m)
        if alert.latitude is not None and alert.longitude is not None
        else None
    )
    if not at_site and box is None:
        return
    in_lon = box is not None and box.min_lon is not None and box.max_lon is not None
    values: dict[str, object] = {
        "kind": alert.kind,
        "id": alert.id,
        "since": now - grouping.window,
        "site_id": alert.site_id,
    }
    if box is not None:
        values.update(
            min_lat=box.min_lat, max_lat=box.max_lat, min_lon=box.min_lon, max_lon=box.max_lon
        )
    earlier = session.execute(_group_candidates(at_site, box is not None, in_lon), values).all()
    found = area_peer(
        _placed(alert),
        (Placed(row.id, row.site_id, row.latitude, row.longitude) for row in earlier),
        grouping.radius_m,
    )
    if found is None:
        return
    first = session.get_one(Alert, found.id)
    if first.group_id is None:
        first.group_id, first.group_key = first.id, group_key(first.kind, first.id)
    alert.group_id, alert.group_key = first.group_id, first.group_key
    session.flush()


def _placed(alert: Alert) -> Placed:
    return Placed(alert.id, alert.site_id, alert.latitude, alert.longitude)


def rules_for(session: Session, kind: str, place: rules.Place) -> list[rules.Rule]:
    """The stored rules that could apply to ``kind`` at ``place`` (schedule and confidence
    are for ``rules.decide``)."""
    at_place = [AlertRule.scope == rules.RuleScope.CITY]
    if place.district_id is not None:
        at_place.append(
            and_(
                AlertRule.scope == rules.RuleScope.DISTRICT,
                AlertRule.district_id == place.district_id,
            )
        )
    if place.site_id is not None:
        at_place.append(
            and_(AlertRule.scope == rules.RuleScope.SITE, AlertRule.site_id == place.site_id)
        )
    if place.camera_id is not None:
        at_place.append(
            and_(AlertRule.scope == rules.RuleScope.CAMERA, AlertRule.camera_id == place.camera_id)
        )
    query = select(AlertRule).where(
        AlertRule.enabled.is_(True),
        AlertRule.kind.in_([kind, rules.ANY_KIND]),
        or_(*at_place),
    )
    return [row.as_rule() for row in session.scalars(query)]


def raise_ruled_alert(
    session: Session,
    *,
    source: AlertSource,
    kind: str,
    title: str,
    camera: Camera,
    zone: tzinfo,
    at: datetime | None = None,
    confidence: float | None = None,
    details: Mapping[str, Any] | None = None,
    dedup_key: str | None = None,
    actor: str | None = None,
    now: datetime | None = None,
    grouping: AlertGrouping = DEFAULT_GROUPING,
) -> tuple[Alert, bool, rules.Decision]:
    """Raise an alert at a camera as its rules say. ``at`` is when it happened (the schedule
    is read at that time; default now). Raises ``Suppressed`` when a rule suppresses it:
    nothing is stored."""
    now = now or utcnow()
    place = rules.Place(camera.id, camera.site_id, camera.district_id)
    decision = rules.decide(
        rules_for(session, kind, place),
        kind=kind,
        place=place,
        at=at or now,
        zone=zone,
        default_priority=rule_priority(kind, at_site=camera.site_id is not None),
        confidence=confidence,
    )
    if decision.priority is None:
        raise Suppressed(decision)
    alert, created = raise_alert(
        session,
        source=source,
        kind=kind,
        title=title,
        priority=decision.priority,
        camera_id=camera.id,
        details={**(details or {}), "rule": decision.record()},
        dedup_key=dedup_key,
        actor=actor,
        now=now,
        grouping=grouping,
    )
    return alert, created, decision


class Suppressed(Exception):
    """A rule says this event raises no alert."""

    def __init__(self, decision: rules.Decision) -> None:
        super().__init__(f"suppressed by rule {decision.record()['name']!r}")
        self.decision = decision


def acknowledge(session: Session, alert: Alert, user: User, *, now: datetime | None = None) -> bool:
    """Mark a new alert seen; False when it was not new (already acknowledged or handled)."""
    if alert.status is not AlertStatus.NEW:
        return False
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_by_id = user.id
    alert.acknowledged_at = now or utcnow()
    session.flush()
    audit(
        session,
        action="alert.acknowledge",
        actor=user.username,
        actor_id=user.id,
        target=f"alert:{alert.id}",
        details={"kind": alert.kind, "priority": alert.priority},
    )
    return True
