"""A small city in Asia/Almaty (+5) whose every KPI was worked out by hand, for the API tests
and the console's. The period: 1 March 2026 00:00 to 3 March 00:00 local, which is 28 February
19:00 UTC (``T0``) to 2 March 19:00 UTC (48 hours, 172,800 s)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from safecity.analytics.counts import CountRow, add_counts
from safecity.analytics.objects import ObjectClass
from safecity.auth.roles import Role
from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.models import Camera, CameraStatus, District, OrganizationKind
from safecity.insights.models import CrimeRecord
from safecity.ops.incidents.attachment_models import IncidentClip
from safecity.ops.models import Alert, AlertSource, Incident
from safecity.store.engine import Database
from safecity.video.models import (
    EvidenceExport,
    HoldKind,
    LegalHold,
    RecordedSegment,
    RecordingPurge,
)
from tests import factories as f

T0 = datetime(2026, 2, 28, 19, tzinfo=UTC)
SINCE = "2026-03-01T00:00:00+05:00"
UNTIL = "2026-03-03T00:00:00+05:00"
REGISTERED = datetime(2026, 1, 1, tzinfo=UTC)
PERIOD = {"since": SINCE, "until": UNTIL}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@dataclass(frozen=True)
class Ids:
    west: int
    east: int


class Builder:
    def __init__(self, session: Session) -> None:
        self.s = session
        self.segments = 0
        self.incidents = 0

    def camera(self, code: str, district: District, **fields: Any) -> Camera:
        return f.add_camera(self.s, code, district, created_at=REGISTERED, **fields)

    def segment(self, camera: Camera, start: float, end: float) -> None:
        self.segments += 1
        self.s.add(
            RecordedSegment(
                camera_id=camera.id,
                started_at=at(start),
                ended_at=at(end),
                path=f"recordings/{camera.code}/{self.segments}.mp4",
                bytes=1000,
                sha256="0" * 64,
                codec="avc1.64001f",
                time_scale=90000,
                init_bytes=100,
                packets=10,
                keyframes=[],
            )
        )

    def crime(self, district: District, occurred: datetime, kind: CrimeKind, solved: bool) -> None:
        self.s.add(
            CrimeRecord(
                code=f"CR-{occurred.isoformat()}-{kind}-{district.code}",
                occurred_at=occurred,
                kind=kind,
                place_kind=PlaceKind.STREET,
                district=district,
                solved=solved,
                solved_at=occurred + timedelta(days=40) if solved else None,
            )
        )

    def incident(
        self,
        district: District,
        opened: float,
        dispatch_after: float | None = None,
        accept_after: float | None = None,
    ) -> Incident:
        self.incidents += 1
        opened_at = at(opened)
        dispatched_at = (
            None if dispatch_after is None else opened_at + timedelta(seconds=dispatch_after)
        )
        incident = Incident(
            number=f"2026-{self.incidents:06d}",
            type_code="fight",
            priority=2,
            latitude=51.15,
            longitude=71.35,
            district_id=district.id,
            opened_by="operator",
            opened_at=opened_at,
            dispatched_at=dispatched_at,
            accepted_at=None
            if dispatched_at is None or accept_after is None
            else dispatched_at + timedelta(seconds=accept_after),
        )
        self.s.add(incident)
        self.s.flush()
        return incident

    def clip(self, incident: Incident, camera: Camera, *, unlinked: bool = False) -> None:
        hold = LegalHold(
            camera_id=camera.id,
            starts_at=incident.opened_at,
            ends_at=incident.opened_at + timedelta(minutes=5),
            kind=HoldKind.INCIDENT,
            reason="incident",
        )
        self.s.add(hold)
        self.s.flush()
        self.s.add(
            IncidentClip(
                incident_id=incident.id,
                camera_id=camera.id,
                starts_at=hold.starts_at,
                ends_at=hold.ends_at,
                hold_id=hold.id,
                linked_by="operator",
                unlinked_at=at(10_000) if unlinked else None,
            )
        )

    def export(self, camera: Camera, reason: str) -> None:
        self.segments += 1
        self.s.add(
            EvidenceExport(
                package_id=f"pkg-{self.segments}",
                camera_id=camera.id,
                starts_at=T0,
                ends_at=at(60),
                reason=reason,
                exported_by="operator",
                path=f"pkg-{self.segments}.zip",
                manifest_sha256="0" * 64,
                bytes=1,
            )
        )

    def alert(self, district: District, first: float, acknowledge_after: float | None) -> None:
        self.s.add(
            Alert(
                source=AlertSource.MANUAL,
                district_id=district.id,
                kind="fight",
                priority=2,
                title="Fight",
                dedup_key=f"manual:{first}:{district.code}",
                first_at=at(first),
                last_at=at(first),
                acknowledged_at=None
                if acknowledge_after is None
                else at(first + acknowledge_after),
            )
        )


def build(database: Database) -> Ids:
    with database.session() as s:
        b = Builder(s)
        west = f.add_district(s, "west", f.WEST)
        west.population = 50_000
        east = f.add_district(s, "east", f.EAST)
        akimat = f.add_organization(s, "akimat-west", OrganizationKind.AKIMAT, west)
        f.add_user(s, "analyst", Role.ANALYST)
        f.add_user(s, "operator", Role.OPERATOR)
        f.add_user(s, "akimat-west", Role.AKIMAT, akimat)

        w1 = b.camera("W1", west)
        b.camera("W2", west, installed_at=date(2026, 3, 2))  # expected from 2 March, local
        w3 = b.camera("W3", west, status=CameraStatus.MAINTENANCE)
        e1 = b.camera("E1", east)
        # W1: 1,000 s clipped at the start, 1,000 s more, a gap, 100 s two hours in.
        b.segment(w1, -5, 1000)
        b.segment(w1, 1000, 2000)
        b.segment(w1, 7200, 7300)
        b.segment(w1, 200_000, 200_010)  # after the period
        b.segment(w3, 0, 5000)  # not an active camera
        b.segment(e1, 100, 200)
        s.add(
            RecordingPurge(
                camera_id=w1.id,
                reason="age",
                segments=5,
                bytes=1,
                oldest_at=at(-86_400),
                newest_at=at(10),
            )
        )
        s.add(
            RecordingPurge(
                camera_id=w1.id,
                reason="age",
                segments=7,
                bytes=1,
                oldest_at=at(-90_000),
                newest_at=at(-86_400),
            )
        )

        b.crime(west, at(3600), CrimeKind.THEFT, solved=True)
        b.crime(west, at(7200), CrimeKind.THEFT, solved=False)
        b.crime(west, at(9000), CrimeKind.ASSAULT, solved=True)  # solved after the period
        b.crime(west, at(9500), CrimeKind.FRAUD, solved=False)
        b.crime(west, at(-60), CrimeKind.THEFT, solved=True)  # before the period
        b.crime(east, at(100), CrimeKind.THEFT, solved=True)

        i1 = b.incident(west, 60, dispatch_after=120, accept_after=300)
        b.clip(i1, w1)
        i2 = b.incident(west, 3600, dispatch_after=600)
        b.clip(i2, w1, unlinked=True)
        b.export(w1, f"Case {i2.number}, court request 77")
        b.incident(west, 7200)
        b.incident(east, 100, dispatch_after=60, accept_after=60)
        before = b.incident(west, -600, dispatch_after=1)
        b.clip(before, w1)

        b.alert(west, 10, 30)
        b.alert(west, 20, 90)
        b.alert(west, 30, None)
        b.alert(east, 5, 10)
        b.alert(west, -100, 1)

        ten = datetime(2026, 3, 1, 10, tzinfo=UTC)  # 15:00 in Almaty
        add_counts(
            s,
            [
                CountRow(w1.id, ten, ObjectClass.PERSON, 7),
                CountRow(w1.id, ten, ObjectClass.CAR, 3),
                CountRow(w1.id, ten, ObjectClass.BUS, 2),
                CountRow(w1.id, ten, ObjectClass.BICYCLE, 4),
                CountRow(w1.id, ten, ObjectClass.PERSON, 100, "line", "crossing", "forward"),
                CountRow(w3.id, ten, ObjectClass.PERSON, 1),
                CountRow(w1.id, T0 - timedelta(minutes=15), ObjectClass.PERSON, 50),
                CountRow(e1.id, datetime(2026, 3, 2, 3, 15, tzinfo=UTC), ObjectClass.PERSON, 5),
            ],
        )
        return Ids(west.id, east.id)
