"""The report's sections, each one function ``(session, context) -> Section`` reading the
store for the context's districts and period. New sections follow the same shape and are
listed in building.SECTIONS."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from statistics import median

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from safecity.city.crime_register import PUBLIC_PLACE_KINDS, CrimeKind, PlaceKind
from safecity.city.models import Camera, CameraHealth, CameraStatus
from safecity.insights.models import CrimeRecord
from safecity.insights.reports.context import ReportContext
from safecity.insights.reports.document import (
    Area,
    Cell,
    Chart,
    Column,
    KeyFigure,
    KeyFigures,
    Map,
    MapPoint,
    Paragraph,
    Section,
    Series,
    Table,
)
from safecity.insights.reports.figures import change_words, percent_change, signed_percent
from safecity.ops.incidents.lifecycle import IncidentStatus
from safecity.ops.models import Incident

MAX_MAP_POINTS = 5_000
"""A district's map shows at most this many crimes as dots (the rest would be ink)."""

CAUSATION_CAVEAT = (
    "A fall in recorded crime alone does not show that the cameras caused it. Figures that "
    "were unusually high tend to fall back on their own (regression to the mean); crime can "
    "move to streets without cameras (displacement); and changes in how crimes are recorded "
    "or reported move the figures too. Published reviews of city CCTV find crime falls of "
    "about 13–16% on average, and little in city centres. Comparing districts that got new "
    "cameras with districts that did not (difference-in-differences) is the honest test."
)

KIND_WORDS = {
    CrimeKind.THEFT: "Theft",
    CrimeKind.ROBBERY: "Robbery",
    CrimeKind.ASSAULT: "Assault",
    CrimeKind.HOOLIGANISM: "Hooliganism",
    CrimeKind.VANDALISM: "Vandalism",
    CrimeKind.FRAUD: "Fraud",
    CrimeKind.DRUGS: "Drug offences",
    CrimeKind.VEHICLE_THEFT: "Vehicle theft",
    CrimeKind.OTHER: "Other",
}
PLACE_WORDS = {
    PlaceKind.STREET: "Streets",
    PlaceKind.PUBLIC_PLACE: "Other public places",
    PlaceKind.DWELLING: "Dwellings",
    PlaceKind.OTHER: "Elsewhere",
}
STATUS_WORDS = {
    IncidentStatus.NEW: "New",
    IncidentStatus.DISPATCHED: "Dispatched",
    IncidentStatus.ACCEPTED: "Accepted",
    IncidentStatus.ON_SCENE: "On scene",
    IncidentStatus.RESOLVED: "Resolved",
    IncidentStatus.CLOSED: "Closed",
}
NO_DISTRICT = "Outside every district"
HEADLINES = ("Registered crimes", "In public places", "On the streets")
"""The programme's own figures: all crimes, those in public places, those on the streets."""


def _in(moment: datetime, bounds: tuple[datetime, datetime]) -> bool:
    return bounds[0] <= moment < bounds[1]


def _comparison_row(label: str, now: int, earlier: Sequence[int]) -> list[Cell]:
    """The label, the period's count, then each earlier count with the change from it."""
    row: list[Cell] = [label, now]
    for count in earlier:
        row += [count, signed_percent(percent_change(now, count))]
    return row


def crime_counts_section(session: Session, context: ReportContext) -> Section:
    """Registered crimes by district, kind and place kind in the period, against the period
    before and the same period a year earlier (absolute counts and change), with a map.

    A comparison period for which the register holds no crime at all is left out and said
    to be: a register that starts later is not a fall to zero."""
    period = context.period
    # A year's previous period is the year before: one comparison, not the same one twice.
    candidates = [period.previous()]
    if period.kind != "year":
        candidates.append(period.year_before())
    spans = {period.code: context.bounds()}
    spans |= {earlier.code: context.bounds(earlier) for earlier in candidates}
    names = {district.id: district.name for district in context.districts}
    rows = session.execute(
        select(
            CrimeRecord.district_id,
            CrimeRecord.kind,
            CrimeRecord.place_kind,
            CrimeRecord.occurred_at,
            CrimeRecord.latitude,
            CrimeRecord.longitude,
        ).where(
            CrimeRecord.district_id.in_(context.district_ids),
            CrimeRecord.occurred_at >= min(start for start, _ in spans.values()),
            CrimeRecord.occurred_at < max(end for _, end in spans.values()),
        )
    )
    groupings = ("district", "kind", "place", "headline")
    by = {name: {span: Counter[str]() for span in spans} for name in groupings}
    points: list[MapPoint] = []
    for district_id, kind, place_kind, occurred_at, latitude, longitude in rows:
        for span, bounds in spans.items():
            if not _in(occurred_at, bounds):
                continue
            by["district"][span][names[district_id]] += 1
            by["kind"][span][KIND_WORDS[kind]] += 1
            by["place"][span][PLACE_WORDS[place_kind]] += 1
            by["headline"][span]["Registered crimes"] += 1
            if place_kind in PUBLIC_PLACE_KINDS:
                by["headline"][span]["In public places"] += 1
            if place_kind is PlaceKind.STREET:
                by["headline"][span]["On the streets"] += 1
            if span == period.code and latitude is not None and longitude is not None:
                points.append(MapPoint(latitude, longitude))

    now = period.code
    # The register may begin partway through a comparison period: a part is not the whole.
    # Its first record city-wide marks where it begins (a quiet district is still covered).
    first = session.scalar(select(func.min(CrimeRecord.occurred_at)))
    missing = [
        e.code
        for e in candidates
        if not by["district"][e.code].total() or (first is not None and first > spans[e.code][0])
    ]
    earlier = [e.code for e in candidates if e.code not in missing]
    columns = [Column(now, numeric=True)]
    for code in earlier:
        columns += [Column(code, numeric=True), Column("Change", numeric=True)]

    def figure(label: str) -> KeyFigure:
        counts = by["headline"]
        changes = [change_words(counts[now][label], counts[code][label], code) for code in earlier]
        return KeyFigure(label, counts[now][label], "; ".join(changes) or None)

    def table(name: str, heading: str, labels: Sequence[str], caption: str) -> Table:
        counts = by[name]
        present = [label for label in labels if any(counts[span][label] for span in spans)]
        return Table(
            [Column(heading), *columns],
            [
                _comparison_row(label, counts[now][label], [counts[c][label] for c in earlier])
                for label in present
            ],
            caption=caption,
            total=_comparison_row(
                "Total", counts[now].total(), [counts[c].total() for c in earlier]
            ),
        )

    explained = f"Crimes registered in {period.label}, counted by when they were committed"
    if earlier:
        explained += f", compared with {' and '.join(earlier)}"
    explained += ". Crimes in public places include those on the streets."
    if missing:
        explained += (
            f" The register does not cover all of {' or '.join(missing)}, so there is no "
            "comparison with it."
        )
    # The seasonal comparison where there is one: the same months a year earlier.
    shown = [earlier[-1], now] if earlier else [now]
    kinds = [label for label in KIND_WORDS.values() if by["kind"][now][label]]
    return Section(
        "Crime",
        [
            KeyFigures([figure(label) for label in HEADLINES]),
            Paragraph(explained),
            table(
                "district",
                "District",
                [district.name for district in context.districts],
                "Registered crimes by district",
            ),
            table("kind", "Kind of crime", list(KIND_WORDS.values()), "Registered crimes by kind"),
            table("place", "Place", list(PLACE_WORDS.values()), "Registered crimes by place"),
            Chart(
                f"Crimes by kind, {' and '.join(shown)}",
                categories=kinds,
                series=[
                    Series(code, [float(by["kind"][code][kind]) for kind in kinds])
                    for code in shown
                ],
                kind="barh",
                y_label="crimes",
            ),
            Map(
                f"Registered crimes by district, {now}",
                areas=[
                    Area(d.name, d.geometry, float(by["district"][now][d.name]))
                    for d in context.districts
                ],
                legend=f"crimes, {now}",
                points=points[:MAX_MAP_POINTS] if context.single_district else (),
                points_label="a crime (where the register gives its place)",
            ),
            Paragraph(CAUSATION_CAVEAT, note=True),
        ],
    )


def camera_fleet_section(session: Session, context: ReportContext) -> Section:
    """The cameras in each district as they stand when the report is made (the registry keeps
    no history of states): registered, active, in maintenance, planned, online."""
    names = {district.id: district.name for district in context.districts}
    rows = session.execute(
        select(Camera.district_id, Camera.status, Camera.health).where(
            Camera.district_id.in_(context.district_ids),
            Camera.status != CameraStatus.DECOMMISSIONED,
        )
    )
    counts: dict[str, Counter[str]] = {district.name: Counter() for district in context.districts}
    for district_id, status, health in rows:
        tally = counts[names[district_id]]
        tally["all"] += 1
        tally[status.value] += 1
        if status is CameraStatus.ACTIVE and health is CameraHealth.ONLINE:
            tally["online"] += 1
    keys = ["all", "active", "maintenance", "planned", "online"]
    total = Counter[str]()
    for tally in counts.values():
        total.update(tally)
    population = {district.name: district.population for district in context.districts}

    def per_10k(name: str, active: int) -> Cell:
        residents = population[name]
        return round(active / residents * 10_000, 1) if residents else None

    residents = sum(p for p in population.values() if p)
    return Section(
        "Camera fleet",
        [
            KeyFigures(
                [
                    KeyFigure("Cameras registered", total["all"]),
                    KeyFigure("Active", total["active"]),
                    KeyFigure(
                        "Online now",
                        total["online"],
                        f"{total['online'] / total['active'] * 100:.0f}% of active cameras"
                        if total["active"]
                        else None,
                    ),
                ]
            ),
            Paragraph(
                "The camera registry as it stands when this report is made; decommissioned "
                "cameras are left out. Online means the stream answered recently."
            ),
            Table(
                [
                    Column("District"),
                    Column("Cameras", numeric=True),
                    Column("Active", numeric=True),
                    Column("Maintenance", numeric=True),
                    Column("Planned", numeric=True),
                    Column("Online", numeric=True),
                    Column("Active per 10k residents", numeric=True),
                ],
                [
                    [name, *(tally[key] for key in keys), per_10k(name, tally["active"])]
                    for name, tally in counts.items()
                ],
                caption="Cameras by district",
                total=[
                    "Total",
                    *(total[key] for key in keys),
                    round(total["active"] / residents * 10_000, 1) if residents else None,
                ],
            ),
            Chart(
                "Active cameras by district",
                categories=list(counts),
                series=[Series("Active", [float(tally["active"]) for tally in counts.values()])],
                kind="barh" if len(counts) > 6 else "bar",
                y_label="cameras",
            ),
        ],
    )


def incidents_section(session: Session, context: ReportContext) -> Section:
    """Incidents the OCC opened in the period, by district and by where each stands now, and
    how soon a unit was dispatched."""
    period = context.period
    previous = period.previous()
    names: dict[int | None, str] = {d.id: d.name for d in context.districts}
    district_filter: ColumnElement[bool] = Incident.district_id.in_(context.district_ids)
    if context.whole_city:
        district_filter = district_filter | Incident.district_id.is_(None)
    start, end = context.bounds(previous)[0], context.bounds()[1]
    rows = session.execute(
        select(
            Incident.district_id, Incident.status, Incident.opened_at, Incident.dispatched_at
        ).where(district_filter, Incident.opened_at >= start, Incident.opened_at < end)
    )
    now_bounds = context.bounds()
    by_district: dict[str, Counter[str]] = {name: Counter() for name in names.values()}
    opened_before = 0
    to_dispatch: list[float] = []
    for district_id, status, opened_at, dispatched_at in rows:
        if not _in(opened_at, now_bounds):
            opened_before += 1
            continue
        name = names.get(district_id, NO_DISTRICT)
        tally = by_district.setdefault(name, Counter())
        tally["opened"] += 1
        tally[status.value] += 1
        if dispatched_at is not None:
            to_dispatch.append((dispatched_at - opened_at).total_seconds() / 60)
    total = Counter[str]()
    for tally in by_district.values():
        total.update(tally)
    statuses = list(STATUS_WORDS)
    return Section(
        "Incidents",
        [
            KeyFigures(
                [
                    KeyFigure(
                        "Incidents opened",
                        total["opened"],
                        change_words(total["opened"], opened_before, previous.code),
                    ),
                    KeyFigure("Closed by now", total[IncidentStatus.CLOSED.value]),
                    KeyFigure(
                        "Median time to dispatch",
                        round(median(to_dispatch), 1) if to_dispatch else 0,
                        f"over {len(to_dispatch):,} dispatched incidents"
                        if to_dispatch
                        else "no incident was dispatched",
                        unit="min",
                    ),
                ]
            ),
            Paragraph(
                f"Incidents opened in the OCC in {period.label}, by district and by the status "
                "each has now."
            ),
            Table(
                [
                    Column("District"),
                    Column("Opened", numeric=True),
                    *(Column(STATUS_WORDS[status], numeric=True) for status in statuses),
                ],
                [
                    [name, tally["opened"], *(tally[status.value] for status in statuses)]
                    for name, tally in by_district.items()
                ],
                caption="Incidents by district and status",
                total=["Total", total["opened"], *(total[status.value] for status in statuses)],
            ),
        ],
    )
