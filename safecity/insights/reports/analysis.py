"""The report's analyses: the before/after comparison with a control (statistics_service), the
hot spots and near repeats (hotspots.service), and the KPIs (kpis.store). Each section calls
the capability's own service with ``context.scope`` (the report's districts and nothing else)
and the period's bounds, and turns its answer into blocks; no figure is computed twice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure
from shapely.geometry import Point, shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safecity.insights.hotspots.figure import CLASS_LABELS, hotspot_figure
from safecity.insights.hotspots.grid import GridTooLarge
from safecity.insights.hotspots.near_repeat import TooManyPairs
from safecity.insights.hotspots.schemas import (
    CellFeature,
    HotspotMap,
    HotspotQuery,
    NearRepeatQuery,
)
from safecity.insights.hotspots.service import hotspot_analysis, near_repeat_analysis
from safecity.insights.kpis.report import (
    CLEARANCE,
    FLOWS,
    INCIDENTS,
    RECORDING,
    RESPONSE,
    VIDEO_USE,
)
from safecity.insights.kpis.report import Step as ResponseStep
from safecity.insights.kpis.store import KpiQuery, city_kpis
from safecity.insights.models import CrimeRecord
from safecity.insights.reports.context import ReportContext
from safecity.insights.reports.document import (
    Block,
    Cell,
    Chart,
    Column,
    Heading,
    KeyFigure,
    KeyFigures,
    Paragraph,
    Picture,
    Section,
    Series,
    Table,
)
from safecity.insights.statistics import Period as StatisticsPeriod
from safecity.insights.statistics import PeriodKind
from safecity.insights.statistics_service import (
    BeforeAfter,
    BeforeAfterQuery,
    ChangeOut,
    PlaceFilter,
    before_after,
)

HOT_CELLS = 10
"""The hottest cells listed under the map."""
NEAR_REPEAT_PERMUTATIONS = 999


def _percent(share: float | None) -> float | None:
    return round(share * 100, 1) if share is not None else None


def _one_decimal(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _minutes(seconds: float | None) -> float | None:
    return round(seconds / 60, 1) if seconds is not None else None


def _counts(change: ChangeOut | None) -> list[Cell]:
    return [change.before, change.after, change.text] if change else [None, None, None]


# --- before and after, with a control ------------------------------------------------------


def _before_period(after: StatisticsPeriod) -> list[StatisticsPeriod]:
    """The periods the report may compare with, best first. Cameras count as the treatment
    only when they went in between the two periods (statistics_service), so the period just
    before never serves: nothing lies between. The same period a year earlier comes first
    (it also keeps the season the same); then the period before last (one period between)."""
    year_ago = after.year_ago
    two_before = after.shifted(-2)
    return [year_ago, two_before] if year_ago != after.shifted(-1) else [two_before]


def before_after_section(session: Session, context: ReportContext) -> Section:
    """The period against an earlier one (``_before_period``), in districts that got new
    cameras in between (treated) and those that got none (control): the
    difference-in-differences rate ratio with its 95% interval, for all crimes and for those
    in public places."""
    kind = PeriodKind(context.period.kind)
    after = StatisticsPeriod.parse(kind, context.period.code)
    title = "Before and after the cameras"
    first = session.scalar(select(func.min(CrimeRecord.occurred_at)))
    covered = [
        period
        for period in _before_period(after)
        if first is not None and first <= period.start(context.zone)
    ]
    if not covered:
        earliest = _before_period(after)[-1]
        return Section(
            title,
            [
                Paragraph(
                    f"The crime register does not cover all of {earliest.label}, so there is "
                    f"no before-and-after comparison for {after.label}."
                )
            ],
        )
    before = covered[0]
    results: list[tuple[str, BeforeAfter]] = []
    for label, places in (("All crimes", []), ("In public places", [PlaceFilter.PUBLIC])):
        query = BeforeAfterQuery(
            period=kind,
            before=before.label,
            after=after.label,
            district_ids=context.district_ids,
            places=places,
        )
        results.append((label, before_after(session, context.scope, context.settings, query)))
    overall = results[0][1]
    rows: list[list[Cell]] = []
    for label, result in results:
        did = result.did
        interval = (
            f"{did.ci_low:.2f}–{did.ci_high:.2f}"
            if did.ci_low is not None and did.ci_high is not None
            else None
        )
        rows.append(
            [
                label,
                *_counts(result.treated.change)[:2],
                *_counts(result.control.change)[:2],
                f"{did.irr:.2f}" if did.irr is not None else None,
                interval,
            ]
        )
    blocks: list[Block] = [
        Paragraph(
            f"{before.label} against {after.label}: cameras installed between them are the "
            "treatment. "
            + " ".join(overall.notes)
            + f" Treated: {', '.join(overall.treated.districts) or 'none'}. "
            f"Control: {', '.join(overall.control.districts) or 'none'}."
        ),
        Table(
            [
                Column("Crimes"),
                Column(f"Treated {before.label}", numeric=True),
                Column(f"Treated {after.label}", numeric=True),
                Column(f"Control {before.label}", numeric=True),
                Column(f"Control {after.label}", numeric=True),
                Column("Rate ratio", numeric=True),
                Column("95% CI", numeric=True),
            ],
            rows,
            caption="Difference in differences",
        ),
        *(
            [Paragraph(overall.did.text)]
            if overall.did.irr is None and all(r.did.text == overall.did.text for _, r in results)
            else [Paragraph(f"{label}: {result.did.text}") for label, result in results]
        ),
        Table(
            [
                Column("District"),
                Column("Group"),
                Column("New cameras", numeric=True),
                Column(before.label, numeric=True),
                Column(after.label, numeric=True),
                Column("Change", numeric=True),
            ],
            [
                [
                    row.district,
                    row.group or "—",
                    row.new_cameras,
                    row.change.before,
                    row.change.after,
                    row.change.text,
                ]
                for row in overall.by_district
            ],
            caption="Crimes before and after, by district",
        ),
        *(Paragraph(f"{c.title}. {c.text}", note=True) for c in overall.caveats[:2]),
        Paragraph(
            "Also: " + " ".join(f"{c.title}. {c.text}" for c in overall.caveats[2:]), note=True
        ),
    ]
    return Section(title, blocks)


# --- hot spots and near repeats --------------------------------------------------------------


def _district_of(feature: CellFeature, outlines: Sequence[tuple[str, object]]) -> str:
    ring = feature.geometry.coordinates[0]
    centre = Point(sum(x for x, _ in ring[:4]) / 4, sum(y for _, y in ring[:4]) / 4)
    for name, outline in outlines:
        if outline.contains(centre):  # type: ignore[attr-defined]
            return name
    return "—"


def hotspots_section(session: Session, context: ReportContext) -> Section:
    """Where the period's crimes concentrate (kernel density and Getis-Ord Gi* on 250 m cells,
    FDR-corrected), the hottest cells, and whether crimes follow each other nearby (Knox)."""
    since, until = context.bounds()
    title = "Hot spots"
    try:
        hotspots = hotspot_analysis(session, context.scope, HotspotQuery(since=since, until=until))
    except GridTooLarge as exc:
        return Section(title, [Paragraph(f"No hot spot map: {exc}.")])
    summary = hotspots.summary
    if summary.records == 0:
        left_out = (
            f" {summary.without_position:,} have a district but no position."
            if summary.without_position
            else ""
        )
        return Section(
            title,
            [
                Paragraph(
                    f"No crime with a position was registered in {context.period.label}: "
                    f"there is no hot spot map.{left_out}"
                )
            ],
        )
    outlines = [(d.name, d.geometry) for d in context.districts]
    shapes = [(name, shape(geometry)) for name, geometry in outlines]
    hot_cells = [f for f in hotspots.features if f.properties.hotspot_class.startswith("hot")]
    # The cells that hold the crimes first: a hot cell may hold none itself and be hot for its
    # neighbours (Gi* counts the cell with the eight around it).
    hot = sorted(
        (f for f in hot_cells if f.properties.count),
        key=lambda f: (-f.properties.count, -f.properties.z),
    )[:HOT_CELLS]
    empty_hot = sum(1 for f in hot_cells if not f.properties.count)
    blocks: list[Block] = [
        KeyFigures(
            [
                KeyFigure("Crimes mapped", summary.records),
                KeyFigure(
                    "Hot spot cells",
                    sum(n for k, n in summary.classes.items() if k.startswith("hot")),
                    f"of {summary.cells:,} cells of {summary.cell_m:g} m",
                ),
                KeyFigure(
                    "Cold spot cells",
                    sum(n for k, n in summary.classes.items() if k.startswith("cold")),
                ),
            ]
        ),
        Picture(
            f"Crime hot spots, {context.period.code}",
            lambda: _hotspot_map(hotspots, outlines, context.period.code),
        ),
        Paragraph(
            f"{summary.records:,} crimes of {context.period.label} with a position, on cells of "
            f"{summary.cell_m:g} m; grey shading is the kernel density (radius "
            f"{summary.bandwidth_m or 0:,.0f} m); coloured cells are hot and cold spots by "
            f"Getis-Ord Gi* over each cell and its neighbours within {summary.band_m:g} m, "
            "after the false-discovery-rate correction."
        ),
    ]
    if hot:
        blocks.append(
            Table(
                [
                    Column("District"),
                    Column("Cell centre (lat, lon)"),
                    Column("Crimes", numeric=True),
                    Column("Gi* z", numeric=True),
                    Column("Hot spot"),
                ],
                [
                    [
                        _district_of(f, shapes),
                        _centre_words(f),
                        f.properties.count,
                        round(f.properties.z, 2),
                        CLASS_LABELS[f.properties.hotspot_class].removeprefix("Hot spot, "),
                    ]
                    for f in hot
                ],
                caption="The hottest cells",
            )
        )
    if empty_hot:
        blocks.append(
            Paragraph(
                f"{empty_hot:,} more hot spot cells hold no crime themselves: they are hot for "
                "the crimes in the cells around them."
            )
        )
    blocks += [Paragraph(note) for note in summary.notes]
    try:
        near = near_repeat_analysis(
            session,
            context.scope,
            NearRepeatQuery(since=since, until=until, permutations=NEAR_REPEAT_PERMUTATIONS),
        )
        blocks.append(Paragraph(f"Near repeats (Knox test): {near.summary}"))
    except TooManyPairs as exc:
        blocks.append(Paragraph(f"No near-repeat test: {exc}."))
    return Section(title, blocks)


def _hotspot_map(
    hotspots: HotspotMap, outlines: Sequence[tuple[str, dict[str, Any]]], period: str
) -> Figure:
    figure = hotspot_figure(
        hotspots,
        outlines,
        title=f"Crime hot spots, {period} (Getis-Ord Gi*, FDR-corrected)",
        size_inches=(7.0, 5.5),
    )
    # Its footnote (small type, ISO times) is said in the report's own words beside it.
    for text in list(figure.texts):
        text.remove()
    # Thousands of cells: drawn as one picture inside the SVG (outlines and words stay
    # vectors), or the HTML page would weigh megabytes.
    for axes in figure.axes:
        for cells in axes.collections:
            cells.set_rasterized(True)
    return figure


def _centre_words(feature: CellFeature) -> str:
    ring = feature.geometry.coordinates[0][:4]
    latitude = sum(y for _, y in ring) / 4
    longitude = sum(x for x, _ in ring) / 4
    return f"{latitude:.4f}, {longitude:.4f}"


# --- KPIs ----------------------------------------------------------------------------------


def _step_words(name: str, step: ResponseStep) -> str:
    if not step.count:
        return f"{name}: none yet" + (f" ({step.pending:,} pending)" if step.pending else "")
    return (
        f"{name}: P50 {_minutes(step.p50_seconds)} min, P90 {_minutes(step.p90_seconds)} min "
        f"over {step.count:,}" + (f" ({step.pending:,} pending)" if step.pending else "")
    )


def kpis_section(session: Session, context: ReportContext) -> Section:
    """The programme's KPIs for the period: clearance, video used, recording completeness and
    uptime, response times, incidents per district, people and vehicle flows; each with its
    definition in words."""
    since, until = context.bounds()
    kpis = city_kpis(session, context.scope, context.settings, KpiQuery(since, until))
    clearance, video, recording = kpis.clearance, kpis.video_use, kpis.recording
    response = kpis.response.total
    incidents = {row.district.name: row for row in kpis.incidents.by_district}
    used = {row.district.name: row for row in video.by_district}
    recorded = {row.district.name: row for row in recording.by_district}
    responded = {row.district.name: row for row in kpis.response.by_district}
    cleared = {row.district.name: row for row in clearance.by_district if row.district}
    names = list(dict.fromkeys([*cleared, *incidents, *used]))

    blocks: list[Block] = [
        KeyFigures(
            [
                KeyFigure(
                    "Clearance rate",
                    _percent(clearance.total.rate),
                    f"{clearance.total.solved:,} of {clearance.total.registered:,} crimes solved"
                    if clearance.total.rate is not None
                    else "no crime registered in the period",
                    unit="%",
                ),
                KeyFigure(
                    "Video used",
                    _percent(video.total.share),
                    f"{video.total.with_video:,} of {video.total.incidents:,} incidents"
                    if video.total.share is not None
                    else "no incident opened in the period",
                    unit="%",
                ),
                KeyFigure(
                    "Recording completeness",
                    _percent(recording.total.completeness),
                    f"uptime {_percent(recording.total.uptime)}% of "
                    f"{recording.total.expected_hours:,} camera-hours expected"
                    if recording.total.uptime is not None
                    else "no active camera was due to record in the period",
                    unit="%",
                ),
                KeyFigure(
                    "Time to dispatch, P50",
                    _minutes(response.dispatch.p50_seconds),
                    f"P90 {_minutes(response.dispatch.p90_seconds)} min over "
                    f"{response.dispatch.count:,} dispatched"
                    if response.dispatch.count
                    else "no incident was dispatched",
                    unit="min",
                ),
            ]
        ),
        Table(
            [
                Column("District"),
                Column("Crimes", numeric=True),
                Column("Solved", numeric=True),
                Column("Clearance %", numeric=True),
                Column("Incidents", numeric=True),
                Column("per 10k residents", numeric=True),
                Column("With video", numeric=True),
                Column("Video used %", numeric=True),
            ],
            [
                [
                    name,
                    cleared[name].registered if name in cleared else 0,
                    cleared[name].solved if name in cleared else 0,
                    _percent(cleared[name].rate) if name in cleared else None,
                    incidents[name].incidents if name in incidents else 0,
                    _one_decimal(incidents[name].per_10k) if name in incidents else None,
                    used[name].with_video if name in used else 0,
                    _percent(used[name].share) if name in used else None,
                ]
                for name in names
            ],
            caption="Clearance, incidents and video use by district",
            total=[
                "Total",
                clearance.total.registered,
                clearance.total.solved,
                _percent(clearance.total.rate),
                kpis.incidents.total,
                None,
                video.total.with_video,
                _percent(video.total.share),
            ],
        ),
        Table(
            [
                Column("District"),
                Column("Active cameras", numeric=True),
                Column("Completeness %", numeric=True),
                Column("Uptime %", numeric=True),
                Column("Acknowledge P50 min", numeric=True),
                Column("Dispatch P50 min", numeric=True),
                Column("Dispatch P90 min", numeric=True),
                Column("Accept P50 min", numeric=True),
            ],
            [
                [
                    name,
                    recorded[name].active_cameras if name in recorded else 0,
                    _percent(recorded[name].completeness) if name in recorded else None,
                    _percent(recorded[name].uptime) if name in recorded else None,
                    *(
                        [
                            _minutes(responded[name].acknowledge.p50_seconds),
                            _minutes(responded[name].dispatch.p50_seconds),
                            _minutes(responded[name].dispatch.p90_seconds),
                            _minutes(responded[name].accept.p50_seconds),
                        ]
                        if name in responded
                        else [None] * 4
                    ),
                ]
                for name in names
            ],
            caption="Recording and response by district",
            total=[
                "Total",
                recording.total.active_cameras,
                _percent(recording.total.completeness),
                _percent(recording.total.uptime),
                _minutes(response.acknowledge.p50_seconds),
                _minutes(response.dispatch.p50_seconds),
                _minutes(response.dispatch.p90_seconds),
                _minutes(response.accept.p50_seconds),
            ],
        ),
        Paragraph(
            "Response: "
            + "; ".join(
                _step_words(name, step)
                for name, step in (
                    ("acknowledge", response.acknowledge),
                    ("dispatch", response.dispatch),
                    ("accept", response.accept),
                )
            )
            + "."
        ),
    ]
    flows = kpis.flows
    if flows.present:
        hours = [f"{hour:02d}" for hour in range(24)]
        blocks += [
            Table(
                [
                    Column("District"),
                    Column("People", numeric=True),
                    Column("Vehicles", numeric=True),
                ],
                [[row.district.name, row.people, row.vehicles] for row in flows.by_district],
                caption="People and vehicles counted by the cameras",
                total=["Total", flows.people, flows.vehicles],
            ),
            Chart(
                "People and vehicles counted, by hour of day",
                categories=hours,
                series=[
                    Series(
                        "People",
                        [
                            float(sum(r.people_by_hour[h] for r in flows.by_district))
                            for h in range(24)
                        ],
                    ),
                    Series(
                        "Vehicles",
                        [
                            float(sum(r.vehicles_by_hour[h] for r in flows.by_district))
                            for h in range(24)
                        ],
                    ),
                ],
                kind="line",
                y_label="counted",
            ),
        ]
    else:
        blocks.append(
            Paragraph(f"No people or vehicle counts were recorded in {context.period.label}.")
        )
    definitions = [
        ("Clearance rate", CLEARANCE),
        ("Video used", VIDEO_USE),
        ("Recording completeness and uptime", RECORDING),
        ("Response times", RESPONSE),
        ("Incidents per district", INCIDENTS),
        ("Flows", FLOWS),
    ]
    blocks.append(Heading("What each figure means"))
    blocks += [Paragraph(f"{name}: {text}") for name, text in definitions]
    if recording.purged_segments:
        blocks.append(
            Paragraph(
                f"Retention deleted {recording.purged_segments:,} recorded segments of this "
                "period: completeness and uptime are lower by them."
            )
        )
    return Section("Key performance indicators", blocks)
