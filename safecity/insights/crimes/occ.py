"""Incidents closed in the OCC counted as crime records, by the crime-register kind their type
names.

Why a bus subscriber with a catch-up pass, and not one or the other: the OCC sits below
insights and must not know it exists, so it cannot call in here when it closes an incident;
it publishes every committed incident change on the bus (``ops.events.IncidentChanged``), and
``ClosedIncidentCounter`` takes the closed ones from there, so a record exists moments after the
close, in whichever process made it. A bus is not a ledger, though: an incident closed by a
process that runs no counter, or while this one was stopped, or a message the bus dropped
behind a stalled subscriber, would be missed. So at start the counter also makes one pass over
every closed incident of a crime type that has no record yet. Both paths go through
``count_incident``, an upsert by ``incident_id``: a repeated message or pass changes nothing.

A record from the OCC: code ``OCC-<incident number>``, the time the incident was opened (when
the crime was seen), the incident's district and position, the place kind from the site of the
incident's first camera where it has one (else ``public_place``: the OCC watches public space),
``solved`` false (the OCC closes its incident when the police have taken it; whether the crime
was solved is the register's to say).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from safecity.bus import Bus, Message, Subscription
from safecity.bus.events import UnknownVersion
from safecity.city.crime_register import PlaceKind
from safecity.city.models import SiteKind
from safecity.insights.models import CrimeRecord, CrimeSource
from safecity.ops.events import IncidentChanged
from safecity.ops.incident_types.models import StoredIncidentType
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import Incident
from safecity.store.engine import Database

log = logging.getLogger(__name__)

CODE_PREFIX = "OCC-"
PLACE_OF_SITE: Mapping[SiteKind, PlaceKind] = {
    SiteKind.STREET: PlaceKind.STREET,
    SiteKind.SQUARE: PlaceKind.STREET,
    SiteKind.PARK: PlaceKind.PUBLIC_PLACE,
    SiteKind.MARKET: PlaceKind.PUBLIC_PLACE,
    SiteKind.TRANSPORT_HUB: PlaceKind.PUBLIC_PLACE,
    SiteKind.YARD: PlaceKind.PUBLIC_PLACE,
    SiteKind.SCHOOL: PlaceKind.OTHER,
    SiteKind.HOSPITAL: PlaceKind.OTHER,
    SiteKind.UTILITY_FACILITY: PlaceKind.OTHER,
    SiteKind.OTHER: PlaceKind.PUBLIC_PLACE,
}


def place_of(incident: Incident) -> PlaceKind:
    for camera in sorted(incident.cameras, key=lambda c: c.id):
        if camera.site is not None:
            return PLACE_OF_SITE[camera.site.kind]
    return PlaceKind.PUBLIC_PLACE


def count_incident(session: Session, incident: Incident) -> CrimeRecord | None:
    """The crime record of a closed incident whose type names a crime kind, created or brought
    up to date; None for any other incident (open, not a crime, or in no district)."""
    if incident.status is not IncidentStatus.CLOSED:
        return None
    kind = session.scalar(
        select(StoredIncidentType.crime_kind).where(StoredIncidentType.code == incident.type_code)
    )
    if kind is None:
        return None
    if incident.district_id is None:
        log.warning("incident %s lies in no district: not counted as a crime", incident.number)
        return None
    values = {
        "code": f"{CODE_PREFIX}{incident.number}",
        "occurred_at": incident.opened_at,
        "kind": kind,
        "place_kind": place_of(incident),
        "latitude": incident.latitude,
        "longitude": incident.longitude,
        "district_id": incident.district_id,
        "source": CrimeSource.OCC,
    }
    record = session.scalar(select(CrimeRecord).where(CrimeRecord.incident_id == incident.id))
    if record is None:
        record = CrimeRecord(incident_id=incident.id, solved=False, **values)
        session.add(record)
    else:
        for name, value in values.items():
            if getattr(record, name) != value:
                setattr(record, name, value)
    session.flush()
    return record


def count_closed_incidents(session: Session) -> int:
    """Count every closed incident of a crime type that has no record yet, each on its own
    (one that conflicts is skipped and logged); how many."""
    crime_types = select(StoredIncidentType.code).where(StoredIncidentType.crime_kind.is_not(None))
    counted = select(CrimeRecord.incident_id).where(CrimeRecord.incident_id.is_not(None))
    missing = session.scalars(
        select(Incident).where(
            Incident.status == IncidentStatus.CLOSED,
            Incident.type_code.in_(crime_types),
            Incident.id.not_in(counted),
        )
    ).all()
    done = 0
    for incident in missing:
        # A savepoint each: a conflict (another process counted this incident meanwhile, or a
        # record already holds its code) skips this one, not the whole pass.
        try:
            with session.begin_nested():
                done += count_incident(session, incident) is not None
        except IntegrityError as exc:
            log.warning("incident %s not counted: %s", incident.number, exc.orig)
    return done


class ClosedIncidentCounter:
    """Keeps crime records of closed incidents: the bus as they close, a pass at start."""

    def __init__(self, bus: Bus, database: Database) -> None:
        self._bus = bus
        self._database = database
        self._subscription: Subscription | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._subscription = self._bus.subscribe(IncidentChanged.topic, self._on_change)
        try:
            with self._lock, self._database.session() as session:
                counted = count_closed_incidents(session)
        except Exception:
            log.exception("could not count the closed incidents missed while stopped")
            return
        if counted:
            log.info("counted %d closed incidents as crime records", counted)

    def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None

    def _on_change(self, message: Message) -> None:
        try:
            changed = IncidentChanged.from_envelope(message.payload)
        except (UnknownVersion, ValueError) as exc:
            log.warning("ignoring incident change: %s", exc)
            return
        if changed.status is not IncidentStatus.CLOSED:
            return
        try:
            with self._lock, self._database.session() as session:
                incident = session.get(Incident, changed.id)
                if incident is not None:
                    count_incident(session, incident)
        except Exception:
            # The next start's pass counts it.
            log.exception("could not count incident %s as a crime record", changed.number)
