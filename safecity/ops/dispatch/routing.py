"""Which police unit takes an incident: the active unit covering the district that contains
the location, else the active fallback unit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.city.districts import stored_district_locator
from safecity.city.models import PoliceUnit, police_unit_districts


class NoUnit(LookupError):
    """Nobody covers the location and no fallback unit is set."""


@dataclass(frozen=True)
class Route:
    police_unit_id: int
    district_id: int | None
    fallback: bool


def district_at(session: Session, latitude: float, longitude: float) -> int | None:
    return stored_district_locator(session).locate(latitude, longitude)


def route(
    session: Session, latitude: float, longitude: float, *, district_id: int | None = None
) -> Route:
    """The unit for a location. ``district_id`` saves the polygon lookup when already known.

    Where several units cover a district, the lowest id answers, so routing is deterministic.
    """
    if district_id is None:
        district_id = district_at(session, latitude, longitude)
    if district_id is not None:
        unit_id = session.scalar(
            select(police_unit_districts.c.police_unit_id)
            .join(PoliceUnit, PoliceUnit.id == police_unit_districts.c.police_unit_id)
            .where(police_unit_districts.c.district_id == district_id, PoliceUnit.active)
            .order_by(police_unit_districts.c.police_unit_id)
            .limit(1)
        )
        if unit_id is not None:
            return Route(unit_id, district_id, fallback=False)
    fallback_id = session.scalar(
        select(PoliceUnit.id)
        .where(PoliceUnit.is_fallback, PoliceUnit.active)
        .order_by(PoliceUnit.id)
        .limit(1)
    )
    if fallback_id is None:
        where = f"district {district_id}" if district_id is not None else "outside every district"
        raise NoUnit(
            f"no police unit covers ({latitude}, {longitude}) ({where}) and no fallback unit "
            "is set; mark one unit as the fallback"
        )
    return Route(fallback_id, district_id, fallback=True)
