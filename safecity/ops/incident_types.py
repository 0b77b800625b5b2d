"""The catalogue of incident types: standard code, name, default priority, SOP checklist and
the crime register kind it counts as.

Pure: no database. Priority 1 is the most urgent, 4 the least.
"""

from __future__ import annotations

from dataclasses import dataclass

from safecity.insights.models import CrimeKind

HIGHEST_PRIORITY = 1
LOWEST_PRIORITY = 4


@dataclass(frozen=True)
class IncidentType:
    code: str
    name: str
    default_priority: int
    sop: tuple[str, ...]
    """The standard operating procedure: steps the operator works through, in order."""

    @property
    def crime_kind(self) -> CrimeKind | None:
        """The kind in the police crime register (and so in the crime statistics) that this
        type of incident is counted as; None for incidents that are not crimes."""
        return CRIME_KINDS.get(self.code)


_COMMON_CLOSE = "Record the outcome and link the relevant clips"

CATALOGUE: dict[str, IncidentType] = {
    t.code: t
    for t in (
        IncidentType(
            "theft",
            "Theft",
            3,
            (
                "Review the camera footage around the reported time",
                "Describe the suspect and the direction of escape",
                "Dispatch the police unit",
                _COMMON_CLOSE,
            ),
        ),
        IncidentType(
            "assault",
            "Assault",
            1,
            (
                "Keep the scene on camera",
                "Call an ambulance if anyone is hurt",
                "Dispatch the police unit",
                "Describe the suspect and the direction of escape",
                _COMMON_CLOSE,
            ),
        ),
        IncidentType(
            "robbery",
            "Robbery",
            1,
            (
                "Keep the scene on camera and follow the suspect across cameras",
                "Dispatch the police unit",
                "Describe the suspect, any weapon and the direction of escape",
                _COMMON_CLOSE,
            ),
        ),
        IncidentType(
            "vandalism",
            "Vandalism",
            3,
            (
                "Review the camera footage",
                "Notify the owner of the damaged property",
                "Dispatch the police unit",
                _COMMON_CLOSE,
            ),
        ),
        IncidentType(
            "public_disorder",
            "Public disorder",
            2,
            (
                "Keep the area on camera and estimate the number of people",
                "Dispatch the police unit",
                _COMMON_CLOSE,
            ),
        ),
        IncidentType(
            "traffic_accident",
            "Traffic accident",
            2,
            (
                "Check for injured people and call an ambulance if needed",
                "Dispatch the police unit",
                "Notify the traffic management centre",
                _COMMON_CLOSE,
            ),
        ),
        IncidentType(
            "fire",
            "Fire",
            1,
            (
                "Call the fire service",
                "Dispatch the police unit to secure the area",
                "Keep the scene on camera",
                _COMMON_CLOSE,
            ),
        ),
        IncidentType(
            "missing_person",
            "Missing person",
            2,
            (
                "Take the description and the last known location",
                "Search recent footage of nearby cameras",
                "Dispatch the police unit",
                _COMMON_CLOSE,
            ),
        ),
        IncidentType(
            "suspicious_object",
            "Suspicious object",
            1,
            (
                "Keep the object on camera; do not send civilians near it",
                "Dispatch the police unit to cordon off the area",
                "Call the bomb disposal service if the unit asks for it",
                _COMMON_CLOSE,
            ),
        ),
        IncidentType(
            "medical",
            "Medical emergency",
            1,
            (
                "Call an ambulance",
                "Dispatch the police unit if the scene needs securing",
                _COMMON_CLOSE,
            ),
        ),
        IncidentType(
            "other",
            "Other",
            4,
            ("Describe the situation", "Dispatch the police unit", _COMMON_CLOSE),
        ),
    )
}


CRIME_KINDS: dict[str, CrimeKind] = {
    "theft": CrimeKind.THEFT,
    "assault": CrimeKind.ASSAULT,
    "robbery": CrimeKind.ROBBERY,
    "vandalism": CrimeKind.VANDALISM,
    "public_disorder": CrimeKind.HOOLIGANISM,
}
"""Incident type → crime register kind. Traffic accidents, fires, missing persons, suspicious
objects, medical emergencies and "other" are not counted as crimes by their type."""


class UnknownIncidentType(LookupError):
    pass


def incident_type(code: str) -> IncidentType:
    try:
        return CATALOGUE[code]
    except KeyError:
        raise UnknownIncidentType(
            f"unknown incident type {code!r}; known: {', '.join(sorted(CATALOGUE))}"
        ) from None


def valid_priority(priority: int) -> bool:
    return HIGHEST_PRIORITY <= priority <= LOWEST_PRIORITY
