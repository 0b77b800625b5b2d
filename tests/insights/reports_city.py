"""A two-district city with Kazakh names whose report figures are worked out by hand.

Crimes (quarters in Asia/Almaty time):

                     2026-Q3   2026-Q2   2025-Q3
  Есіл ауданы             10        16        20   (streets 6/8/10, other public 2/4/5)
  Алматы ауданы            5         4         5   (all on the streets)
  all                     15        20        25   -25.0% (5 fewer), -40.0% (10 fewer)
  in public places        13        16        20   -18.8%, -35.0%
  on the streets          11        12        15   -8.3%, -26.7%

Two of Есіл's Q3 street thefts lie on the quarter's local edges (00:10 on 1 July, 23:30 on
30 September): in UTC the first is still in June. A record from January 2025 shows that the
register covers 2025-Q3 whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from safecity.auth.roles import Role
from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.models import CameraStatus, District, OrganizationKind
from safecity.insights.models import CrimeRecord
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import Incident
from safecity.store.engine import Database
from tests import factories as f

ZONE = ZoneInfo("Asia/Almaty")
YESIL = "Есіл ауданы"
ALMATY = "Алматы ауданы"


@dataclass(frozen=True)
class ReportCity:
    yesil_id: int
    almaty_id: int


def _local(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZONE).astimezone(UTC)


def _crimes(
    district: District, start: datetime, *, street: int, public: int, dwelling: int, kind: CrimeKind
) -> list[CrimeRecord]:
    places = [PlaceKind.STREET] * street + [PlaceKind.PUBLIC_PLACE] * public
    places += [PlaceKind.DWELLING] * dwelling
    return [
        CrimeRecord(
            code=f"{district.code}-{start:%Y%m}-{index}",
            occurred_at=start + timedelta(days=index % 60, hours=index),
            kind=kind if place is PlaceKind.STREET else CrimeKind.FRAUD,
            place_kind=place,
            latitude=51.15,
            longitude=71.35 if district.code == "yesil" else 71.45,
            district=district,
        )
        for index, place in enumerate(places)
    ]


def build_report_city(database: Database) -> ReportCity:
    with database.session() as s:
        yesil = f.add_district(s, "yesil", f.WEST)
        almaty = f.add_district(s, "almaty", f.EAST)
        yesil.name, almaty.name = YESIL, ALMATY
        records = _crimes(
            yesil, _local(2026, 7, 5), street=4, public=2, dwelling=2, kind=CrimeKind.THEFT
        )
        records += [
            CrimeRecord(
                code=f"yesil-edge-{n}",
                occurred_at=moment,
                kind=CrimeKind.THEFT,
                place_kind=PlaceKind.STREET,
                district=yesil,
            )
            for n, moment in enumerate([_local(2026, 7, 1, 0, 10), _local(2026, 9, 30, 23, 30)])
        ]
        records += _crimes(
            yesil, _local(2026, 4, 3), street=8, public=4, dwelling=4, kind=CrimeKind.THEFT
        )
        records += _crimes(
            yesil, _local(2025, 7, 3), street=10, public=5, dwelling=5, kind=CrimeKind.THEFT
        )
        records += _crimes(
            almaty, _local(2026, 7, 3), street=5, public=0, dwelling=0, kind=CrimeKind.ASSAULT
        )
        records += _crimes(
            almaty, _local(2026, 4, 3), street=4, public=0, dwelling=0, kind=CrimeKind.ASSAULT
        )
        records += _crimes(
            almaty, _local(2025, 7, 3), street=5, public=0, dwelling=0, kind=CrimeKind.ASSAULT
        )
        records.append(
            CrimeRecord(
                code="old",
                occurred_at=_local(2025, 1, 15),
                kind=CrimeKind.OTHER,
                place_kind=PlaceKind.OTHER,
                district=almaty,
            )
        )
        s.add_all(records)
        for n, status in enumerate(
            [CameraStatus.ACTIVE, CameraStatus.ACTIVE, CameraStatus.MAINTENANCE]
        ):
            f.add_camera(s, f"Y-{n}", yesil, status=status)
        f.add_camera(s, "A-0", almaty, status=CameraStatus.ACTIVE)
        f.add_camera(s, "A-OLD", almaty, status=CameraStatus.DECOMMISSIONED)
        incidents = [
            (yesil, IncidentStatus.CLOSED, _local(2026, 8, 1), 4),
            (yesil, IncidentStatus.NEW, _local(2026, 8, 2), None),
            (almaty, IncidentStatus.DISPATCHED, _local(2026, 9, 1), 10),
            (None, IncidentStatus.NEW, _local(2026, 9, 2), None),
            (yesil, IncidentStatus.CLOSED, _local(2026, 5, 2), 3),
        ]
        for n, (district, status, opened_at, minutes) in enumerate(incidents):
            s.add(
                Incident(
                    number=f"2026-{n:06d}",
                    type_code="fight",
                    priority=2,
                    status=status,
                    latitude=51.15,
                    longitude=71.35,
                    district_id=district.id if district else None,
                    opened_by="operator",
                    opened_at=opened_at,
                    dispatched_at=opened_at + timedelta(minutes=minutes) if minutes else None,
                )
            )
        akimat = f.add_organization(s, "akimat-yesil", OrganizationKind.AKIMAT, yesil)
        water = f.add_organization(s, "water-co", OrganizationKind.UTILITY)
        f.add_user(s, "analyst", Role.ANALYST)
        f.add_user(s, "akimat-yesil", Role.AKIMAT, akimat)
        f.add_user(s, "water", Role.UTILITY, water)
        return ReportCity(yesil.id, almaty.id)
