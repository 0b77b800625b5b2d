"""A little history for the demo's KPIs: what the OCC and the analytics did before the demo's
first start, and which of the year's crimes were solved.

The demo's cameras record only from its first start, so the KPI screen would otherwise show
operator response, video use and flows of nobody. Seeded once, with the city:

- the OCC's last ``OCC_DAYS`` days: incidents opened from alerts at the demo's cameras, each
  acknowledged, dispatched to its district's unit, accepted, attended and closed after
  believable delays; about a third with a clip of the recordings linked (its note says the
  demo keeps no video that old);
- the analytics' counts of people and vehicles on ``COUNTED_CAMERAS`` street cameras over the
  last ``COUNT_DAYS`` days, with morning and evening peaks;
- clearance: which crime records were solved, and when, at rates that differ by kind
  (left as they are where the records already say).

Deterministic for a given start day: the same numbers of the same things at the same hours.
"""

from __future__ import annotations

import math
import random
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from safecity.analytics.counts import count_bin
from safecity.analytics.models import TrafficCount
from safecity.analytics.objects import ObjectClass
from safecity.auth.models import User
from safecity.auth.roles import Role
from safecity.city.crime_register import CrimeKind
from safecity.city.models import Camera, CameraStatus, Site, SiteKind, police_unit_districts
from safecity.insights.models import CrimeRecord
from safecity.ops.incident_types.models import StoredIncidentType
from safecity.ops.incidents.attachment_models import IncidentClip
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import (
    Alert,
    AlertSource,
    AlertStatus,
    Incident,
    IncidentEvent,
    IncidentEventKind,
    incident_cameras,
)
from safecity.video.models import HoldKind, LegalHold

OCC_DAYS = 60
INCIDENTS_PER_DAY = 5
COUNT_DAYS = 7
COUNTED_CAMERAS = 12
CLIP_SHARE = 0.35
CLEARANCE_BY_KIND = {
    CrimeKind.THEFT: 0.38,
    CrimeKind.ROBBERY: 0.62,
    CrimeKind.ASSAULT: 0.74,
    CrimeKind.HOOLIGANISM: 0.81,
    CrimeKind.VANDALISM: 0.29,
    CrimeKind.FRAUD: 0.24,
    CrimeKind.DRUGS: 0.93,
    CrimeKind.VEHICLE_THEFT: 0.41,
    CrimeKind.OTHER: 0.5,
}
# Incident types an operator opens from what a camera sees, and how often.
TYPES = (("public_disorder", 5), ("theft", 4), ("traffic_accident", 4), ("assault", 2),
         ("vandalism", 2), ("suspicious_object", 1), ("robbery", 1))  # fmt: skip
CLIP_NOTE = "Demo history: the demo keeps no recording this old; the link shows how one is used."


@dataclass(frozen=True)
class HistoryReport:
    incidents: int
    counts: int
    solved: int


def add_demo_history(session: Session, *, now: datetime) -> HistoryReport:
    """Add the history before ``now`` to a freshly seeded demo city."""
    start_day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    incidents = _occ_history(session, start_day)
    counts = _counts(session, start_day)
    solved = _clearance(session, now)
    return HistoryReport(incidents, counts, solved)


def _lognormal(rng: random.Random, median: float, spread: float) -> float:
    return median * math.exp(rng.gauss(0.0, spread))


def _occ_history(session: Session, start_day: datetime) -> int:
    operator = session.scalars(select(User).where(User.role == Role.OPERATOR)).first()
    cameras = session.execute(
        select(Camera.id, Camera.latitude, Camera.longitude, Camera.district_id)
        .where(Camera.status == CameraStatus.ACTIVE)
        .order_by(Camera.id)
    ).all()
    types = {
        stored.code: stored
        for stored in session.scalars(
            select(StoredIncidentType).where(StoredIncidentType.code.in_([c for c, _ in TYPES]))
        )
    }
    if operator is None or not cameras or not types:
        return 0
    units = dict(
        session.execute(
            select(police_unit_districts.c.district_id, police_unit_districts.c.police_unit_id)
        ).all()
    )
    rng = random.Random(20260301)
    codes = [code for code, _ in TYPES if code in types]
    weights = [weight for code, weight in TYPES if code in types]
    numbers: dict[int, int] = {}
    clips: list[tuple[Incident, int]] = []
    seen_by: list[tuple[Incident, int]] = []
    made = 0
    for day in range(OCC_DAYS, 0, -1):
        for _ in range(INCIDENTS_PER_DAY + rng.randint(-2, 2)):
            camera_id, latitude, longitude, district_id = rng.choice(cameras)
            kind = types[rng.choices(codes, weights)[0]]
            raised = start_day - timedelta(days=day, seconds=rng.randint(0, 86_399))
            acknowledged = raised + timedelta(seconds=_lognormal(rng, 35, 0.6))
            opened = acknowledged + timedelta(seconds=_lognormal(rng, 50, 0.5))
            dispatched = opened + timedelta(seconds=_lognormal(rng, 110, 0.6))
            accepted = dispatched + timedelta(seconds=_lognormal(rng, 150, 0.7))
            on_scene = accepted + timedelta(seconds=_lognormal(rng, 600, 0.5))
            resolved = on_scene + timedelta(seconds=_lognormal(rng, 1500, 0.6))
            closed = resolved + timedelta(seconds=_lognormal(rng, 900, 0.5))
            numbers[raised.year] = numbers.get(raised.year, 0) + 1
            incident = Incident(
                number=f"{raised.year}-{numbers[raised.year]:06d}",
                type_code=kind.code,
                checklist=kind.checklist,
                priority=kind.default_priority,
                status=IncidentStatus.CLOSED,
                latitude=latitude,
                longitude=longitude,
                district_id=district_id,
                police_unit_id=units.get(district_id),
                opened_by_id=operator.id,
                opened_by=operator.username,
                opened_at=opened,
                dispatched_at=dispatched,
                accepted_at=accepted,
                on_scene_at=on_scene,
                resolved_at=resolved,
                closed_at=closed,
                summary=f"{kind.name}, seen on camera",
            )
            incident.events = [
                _transition(incident, operator, opened, None, IncidentStatus.NEW),
                _transition(
                    incident, operator, dispatched, IncidentStatus.NEW, IncidentStatus.DISPATCHED
                ),
                _transition(
                    incident,
                    operator,
                    accepted,
                    IncidentStatus.DISPATCHED,
                    IncidentStatus.ACCEPTED,
                ),
                _transition(
                    incident, operator, on_scene, IncidentStatus.ACCEPTED, IncidentStatus.ON_SCENE
                ),
                _transition(
                    incident, operator, resolved, IncidentStatus.ON_SCENE, IncidentStatus.RESOLVED
                ),
                _transition(
                    incident, operator, closed, IncidentStatus.RESOLVED, IncidentStatus.CLOSED
                ),
            ]
            session.add(incident)
            session.add(
                Alert(
                    source=AlertSource.ANALYTICS,
                    camera_id=camera_id,
                    district_id=district_id,
                    latitude=latitude,
                    longitude=longitude,
                    kind=kind.code,
                    priority=kind.default_priority,
                    title=f"{kind.name} (demo history)",
                    details={"demo_history": True},
                    status=AlertStatus.IN_INCIDENT,
                    dedup_key=f"demo-history:{incident.number}",
                    first_at=raised,
                    last_at=raised,
                    acknowledged_by_id=operator.id,
                    acknowledged_at=acknowledged,
                    incident=incident,
                )
            )
            seen_by.append((incident, camera_id))
            if rng.random() < CLIP_SHARE:
                clips.append((incident, camera_id))
            made += 1
    session.flush()
    session.execute(
        insert(incident_cameras),
        [{"incident_id": incident.id, "camera_id": camera_id} for incident, camera_id in seen_by],
    )
    holds: list[tuple[LegalHold, Incident, int]] = []
    for incident, camera_id in clips:
        hold = LegalHold(
            camera_id=camera_id,
            starts_at=incident.opened_at - timedelta(minutes=3),
            ends_at=incident.opened_at + timedelta(minutes=2),
            kind=HoldKind.INCIDENT,
            reason=f"incident {incident.number}",
            reference=incident.number,
            created_by_id=operator.id,
            created_at=incident.opened_at + timedelta(minutes=10),
        )
        session.add(hold)
        holds.append((hold, incident, camera_id))
    session.flush()
    for hold, incident, camera_id in holds:
        session.add(
            IncidentClip(
                incident_id=incident.id,
                camera_id=camera_id,
                starts_at=hold.starts_at,
                ends_at=hold.ends_at,
                note=CLIP_NOTE,
                hold_id=hold.id,
                linked_by_id=operator.id,
                linked_by=operator.username,
                linked_at=hold.created_at,
            )
        )
    return made


def _transition(
    incident: Incident,
    actor: User,
    at: datetime,
    source: IncidentStatus | None,
    target: IncidentStatus,
) -> IncidentEvent:
    return IncidentEvent(
        incident=incident,
        at=at,
        actor=actor.username,
        actor_id=actor.id,
        kind=IncidentEventKind.TRANSITION,
        from_status=source,
        to_status=target,
        details={"demo_history": True},
    )


def _counts(session: Session, start_day: datetime) -> int:
    cameras = session.scalars(
        select(Camera.id)
        .join(Site, Site.id == Camera.site_id)
        .where(
            Camera.status == CameraStatus.ACTIVE,
            Site.kind.in_([SiteKind.STREET, SiteKind.TRANSPORT_HUB, SiteKind.SQUARE]),
        )
        .order_by(Camera.id)
    ).all()
    chosen = cameras[:: max(1, len(cameras) // COUNTED_CAMERAS)][:COUNTED_CAMERAS]
    rows: list[dict[str, object]] = []
    first = count_bin(start_day - timedelta(days=COUNT_DAYS))
    for camera_id in chosen:
        busy = 0.6 + (zlib.crc32(str(camera_id).encode()) % 100) / 100
        for index in range(COUNT_DAYS * 96):
            at = first + timedelta(minutes=15 * index)
            hour = (at.hour + 5) % 24 + at.minute / 60  # the demo city's clock (UTC+5)
            peaks = math.exp(-(((hour - 8.5) / 1.5) ** 2)) + math.exp(-(((hour - 18) / 2) ** 2))
            day = max(0.0, math.sin(math.pi * (hour - 6) / 17)) if 6 <= hour <= 23 else 0.0
            noise = (zlib.crc32(f"{camera_id}:{index}".encode()) % 1000) / 1000
            people = round(busy * (40 * peaks + 25 * day + 2) * (0.8 + 0.4 * noise))
            cars = round(busy * (55 * peaks + 30 * day + 3) * (0.8 + 0.4 * (1 - noise)))
            for object_class, count in (
                (ObjectClass.PERSON, people),
                (ObjectClass.CAR, cars),
                (ObjectClass.BUS, round(3 * peaks * busy)),
            ):
                rows.append(
                    {
                        "camera_id": camera_id,
                        "bin_start": at,
                        "scope": "camera",
                        "scope_name": "",
                        "object_class": object_class.value,
                        "direction": "",
                        "count": count,
                    }
                )
    # A new city has no counts yet: a plain insert, not the pipeline's adding upsert (10× slower).
    if rows:
        session.execute(insert(TrafficCount), rows)
    return len(rows)


def _clearance(session: Session, now: datetime) -> int:
    """Mark records solved by their kind's clearance rate, unless some already say so."""
    if session.scalar(select(CrimeRecord.id).where(CrimeRecord.solved.is_(True)).limit(1)):
        return 0
    solved: list[dict[str, object]] = []
    for record_id, code, kind, occurred_at in session.execute(
        select(CrimeRecord.id, CrimeRecord.code, CrimeRecord.kind, CrimeRecord.occurred_at)
    ):
        draw = zlib.crc32(code.encode())
        if draw % 1000 / 1000 >= CLEARANCE_BY_KIND.get(kind, 0.5):
            continue
        solved_at = occurred_at + timedelta(days=1 + (draw >> 10) % 90, hours=(draw >> 4) % 24)
        if solved_at < now:
            solved.append({"id": record_id, "solved": True, "solved_at": solved_at})
    if solved:
        session.execute(update(CrimeRecord), solved)  # by primary key, in batches
    return len(solved)
