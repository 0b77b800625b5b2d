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
register covers 2025-Q3 whole. Those two edge thefts are solved: clearance 2 of 15 (13.3%),
Есіл 2 of 10 (20.0%), Алматы 0 of 5.

Before and after: the report compares 2026-Q3 with 2025-Q3 (a year before, same season; the
quarter just before cannot serve, as cameras count only when installed between the two).
Есіл got a camera on 10 May 2026 (treated), Алматы none (control). All crimes: rate ratio
(10/20) / (5/5) = 0.50, 95% CI exp(ln 0.5 ± 1.96 · √(1/20 + 1/10 + 1/5 + 1/5)) = 0.12–2.14.
In public places: (8/15) / (5/5) = 0.53.

Camera requests: Есіл REQ-2026-0001 submitted 10 August (submitted), REQ-2026-0002 submitted
1 May and installed 20 August (installed); Алматы REQ-2026-0003 submitted 5 September
(rejected). In Q3: 2 submitted, 1 installed, 1 awaiting a decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from safecity.auth.roles import Role
from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.models import CameraStatus, District, OrganizationKind
from safecity.insights.models import CrimeRecord
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import Incident
from safecity.planning.requests.models import CameraRequest, RequestStatus, Urgency
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
                solved=True,
                solved_at=moment + timedelta(days=1),
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
        long_ago = date(2024, 1, 1)
        for n, (status, installed) in enumerate(
            [
                (CameraStatus.ACTIVE, date(2026, 5, 10)),
                (CameraStatus.ACTIVE, long_ago),
                (CameraStatus.MAINTENANCE, long_ago),
            ]
        ):
            f.add_camera(s, f"Y-{n}", yesil, status=status, installed_at=installed)
        f.add_camera(s, "A-0", almaty, status=CameraStatus.ACTIVE, installed_at=long_ago)
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
        police = f.add_organization(s, "police", OrganizationKind.POLICE)
        requests = [
            (yesil, akimat, RequestStatus.SUBMITTED, _local(2026, 8, 10), None),
            (yesil, akimat, RequestStatus.INSTALLED, _local(2026, 5, 1), _local(2026, 8, 20)),
            (almaty, police, RequestStatus.REJECTED, _local(2026, 9, 5), None),
        ]
        for n, (district, organization, status, submitted, installed) in enumerate(requests):
            s.add(
                CameraRequest(
                    number=f"REQ-2026-{n + 1:04d}",
                    organization_id=organization.id,
                    district_id=district.id,
                    justification="a dark underpass",
                    urgency=Urgency.NORMAL,
                    status=status,
                    submitted_at=submitted,
                    installed_at=installed,
                )
            )
        water = f.add_organization(s, "water-co", OrganizationKind.UTILITY)
        f.add_user(s, "analyst", Role.ANALYST)
        f.add_user(s, "akimat-yesil", Role.AKIMAT, akimat)
        f.add_user(s, "water", Role.UTILITY, water)
        return ReportCity(yesil.id, almaty.id)
