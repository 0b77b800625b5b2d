"""The incident types over HTTP: what the console offers when an operator opens an incident,
with the default priority and the SOP checklist each one brings."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from safecity.api.deps import get_current_user
from safecity.insights.models import CrimeKind
from safecity.ops.incident_types import CATALOGUE

router = APIRouter(prefix="/api", tags=["operations"], dependencies=[Depends(get_current_user)])


class IncidentTypeOut(BaseModel):
    code: str
    name: str
    default_priority: int = Field(description="1 most urgent … 4 least.")
    sop: list[str] = Field(description="The standard operating procedure, in order.")
    crime_kind: CrimeKind | None = Field(
        description="The crime register kind it counts as in the statistics; null: not a crime."
    )


@router.get("/incident-types", response_model=list[IncidentTypeOut])
def list_incident_types() -> list[IncidentTypeOut]:
    """Every incident type, by name; the catalogue is the same for every user."""
    return [
        IncidentTypeOut(
            code=t.code,
            name=t.name,
            default_priority=t.default_priority,
            sop=list(t.sop),
            crime_kind=t.crime_kind,
        )
        for t in sorted(CATALOGUE.values(), key=lambda t: t.name)
    ]
