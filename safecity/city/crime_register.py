"""The police crime register's headings: kinds of crime and kinds of place.

Shared words: incident types name the crime kind they count as, crime records carry both, and
the statistics group by them. Pure enums, no tables.
"""

from __future__ import annotations

import enum


class CrimeKind(enum.StrEnum):
    THEFT = "theft"
    ROBBERY = "robbery"
    ASSAULT = "assault"
    HOOLIGANISM = "hooliganism"
    VANDALISM = "vandalism"
    FRAUD = "fraud"
    DRUGS = "drugs"
    VEHICLE_THEFT = "vehicle_theft"
    OTHER = "other"


class PlaceKind(enum.StrEnum):
    """Where a crime was committed, as the register's place headings put it."""

    STREET = "street"
    """On a street, square or road: the register's "on the streets"."""
    PUBLIC_PLACE = "public_place"
    """Another public place: a park, market, station, public transport, a yard open to all."""
    DWELLING = "dwelling"
    OTHER = "other"
    """Anywhere else: a workplace, a shop's back office, online."""

    @property
    def public(self) -> bool:
        """Counted among crimes in public places (streets included)."""
        return self in PUBLIC_PLACE_KINDS


PUBLIC_PLACE_KINDS = frozenset({PlaceKind.STREET, PlaceKind.PUBLIC_PLACE})
