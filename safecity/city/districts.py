"""The stored district polygons as a locator: how a position becomes a district everywhere."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.city.geo import DistrictArea, DistrictLocator
from safecity.city.models import District


def stored_district_locator(session: Session) -> DistrictLocator:
    """Every active district in the database (a deactivated one locates nothing). Raises
    ValueError on an unusable polygon."""
    return DistrictLocator(
        DistrictArea(district_id, name, geometry)
        for district_id, name, geometry in session.execute(
            select(District.id, District.name, District.geometry).where(District.active)
        )
    )
