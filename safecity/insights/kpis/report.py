"""What the KPIs answer: one group per figure, each with its definition in words, its
absolute counts beside every share, and a row per district in the caller's scope."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from safecity.city.crime_register import CrimeKind

CLEARANCE = (
    "Crimes registered in the period (by the time they occurred) and solved by now, over all "
    "crimes registered in the period: the cohort figure the programme reports per period. A "
    "recent period reads lower because its cases are still open. Records marked solved without "
    "a date count as solved. Only records from the police register count: the crimes the OCC "
    "counted from its closed incidents carry no clearance."
)
VIDEO_USE = (
    "Incidents opened in the period for which recorded video was used by now: a clip of the "
    "recordings is linked to the incident (and not unlinked), or an evidence package was "
    "exported whose reason names the incident's number (e.g. 2026-000123)."
)
RECORDING = (
    "Active cameras only (the registry keeps no history of a camera's status). Expected: the "
    "part of the period since each camera was registered and installed, up to now. "
    "Completeness: seconds of recording indexed / seconds expected. Uptime: clock hours in "
    "which the camera recorded anything / clock hours expected; SafeCity keeps no history of "
    "stream health, so uptime is read from the recordings too. Recordings that retention has "
    "deleted count as missing; how many segments of the period it deleted is said beside."
)
RESPONSE = (
    "Acknowledge: an alert raised in the period → acknowledged by an operator (opening an "
    "incident from it acknowledges it). Dispatch: an incident opened in the period → handed to "
    "a police unit. Accept: dispatched → accepted by the unit. Seconds; P50 is the median, P90 "
    "the time 9 in 10 were done within; a step not reached yet is counted as pending, not as "
    "zero."
)
INCIDENTS = (
    "Incidents opened in the OCC in the period, by the district they are in; per 10,000 "
    "residents where the district's population is known."
)
FLOWS = (
    "People and vehicles (cars, motorcycles, buses, trucks) the video analytics counted in the "
    "whole picture of each camera (zone and line counts left out, so nothing counts twice), "
    "summed over the district's cameras, by the city's hour of day. A person seen by two "
    "cameras counts twice: these are counts of sightings, not of distinct people."
)


class DistrictRef(BaseModel):
    id: int | None = Field(description="Null: not placed in any district.")
    name: str


class Clearance(BaseModel):
    registered: int
    solved: int
    rate: float | None = Field(description="solved / registered; null when none registered.")


class ClearanceRow(Clearance):
    district: DistrictRef | None = None
    kind: CrimeKind | None = None
    period: str | None = Field(None, description="2026-03 (month) or 2026-Q1 (quarter).")


class ClearanceGroup(BaseModel):
    definition: str = CLEARANCE
    total: Clearance
    by_district: list[ClearanceRow]
    by_kind: list[ClearanceRow]
    by_period: list[ClearanceRow]


class VideoUse(BaseModel):
    incidents: int
    with_video: int
    with_clips: int
    with_exports: int
    share: float | None = Field(description="with_video / incidents.")


class VideoUseRow(VideoUse):
    district: DistrictRef


class VideoUseGroup(BaseModel):
    definition: str = VIDEO_USE
    total: VideoUse
    by_district: list[VideoUseRow]


class Recording(BaseModel):
    active_cameras: int
    cameras_recorded: int = Field(description="Active cameras with any recording in the period.")
    expected_seconds: float
    recorded_seconds: float
    completeness: float | None
    expected_hours: int
    hours_up: int
    uptime: float | None


class RecordingRow(Recording):
    district: DistrictRef


class RecordingGroup(BaseModel):
    definition: str = RECORDING
    total: Recording
    by_district: list[RecordingRow]
    purged_segments: int = Field(
        description="Segments of this period retention deleted: the figures are lower by them."
    )


class Step(BaseModel):
    count: int = Field(description="Cases that reached the step.")
    pending: int = Field(description="Cases that have not reached it yet.")
    p50_seconds: float | None
    p90_seconds: float | None


class Response(BaseModel):
    acknowledge: Step
    dispatch: Step
    accept: Step


class ResponseRow(Response):
    district: DistrictRef


class ResponseGroup(BaseModel):
    definition: str = RESPONSE
    total: Response
    by_district: list[ResponseRow]


class IncidentRow(BaseModel):
    district: DistrictRef
    incidents: int
    population: int | None
    per_10k: float | None


class IncidentGroup(BaseModel):
    definition: str = INCIDENTS
    total: int
    by_district: list[IncidentRow]


class FlowRow(BaseModel):
    district: DistrictRef
    people: int
    vehicles: int
    people_by_hour: list[int] = Field(description="24 values: the city's hours 0 … 23.")
    vehicles_by_hour: list[int]


class FlowGroup(BaseModel):
    definition: str = FLOWS
    present: bool = Field(description="False: no counts in the period (say 'no counts').")
    people: int
    vehicles: int
    by_district: list[FlowRow]


class KpiReport(BaseModel):
    since: datetime
    until: datetime
    district_id: int | None = Field(description="The one district asked for, or null: all yours.")
    computed_at: datetime
    time_zone: str
    clearance: ClearanceGroup
    video_use: VideoUseGroup
    recording: RecordingGroup
    response: ResponseGroup
    incidents: IncidentGroup
    flows: FlowGroup
