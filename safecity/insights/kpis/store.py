"""The KPI queries: each aggregated in the database (a year of segments for a thousand
cameras is hundreds of millions of rows), cut to the caller's districts in SQL, and finished
in Python over a few rows per district. :func:`city_kpis` is what reports and the API call."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select, text
from sqlalchemy.orm import Session

from safecity.analytics.models import TrafficCount
from safecity.analytics.objects import VEHICLES, ObjectClass
from safecity.auth.roles import Scope
from safecity.auth.scope import district_condition
from safecity.city.crime_register import CrimeKind
from safecity.city.models import Camera, CameraStatus, District
from safecity.core.clock import utcnow
from safecity.insights.kpis import figures
from safecity.insights.kpis.figures import KpiError
from safecity.insights.kpis.report import (
    Clearance,
    ClearanceGroup,
    ClearanceRow,
    DistrictRef,
    FlowGroup,
    FlowRow,
    IncidentGroup,
    IncidentRow,
    KpiReport,
    Recording,
    RecordingGroup,
    RecordingRow,
    Response,
    ResponseGroup,
    ResponseRow,
    Step,
    VideoUse,
    VideoUseGroup,
    VideoUseRow,
)
from safecity.insights.kpis.sql import (
    earlier_of,
    later_of,
    seconds_between,
    utc_hour,
    utc_quarter_of_day,
)
from safecity.insights.models import CrimeRecord, CrimeSource
from safecity.ops.incidents.attachment_models import IncidentClip
from safecity.ops.models import Alert, Incident
from safecity.settings import Settings
from safecity.store.base import UTCDateTime
from safecity.video.models import EvidenceExport, RecordedSegment, RecordingPurge

NO_DISTRICT = DistrictRef(id=None, name="No district")


class UnknownDistrict(KpiError):
    """The district asked for does not exist or is not within the caller's scope."""


@dataclass(frozen=True)
class KpiQuery:
    since: datetime
    until: datetime
    district_id: int | None = None


@dataclass(frozen=True)
class _Context:
    session: Session
    scope: Scope
    settings: Settings
    query: KpiQuery
    now: datetime
    districts: dict[int, District]

    def where(self, district_id: Any) -> ColumnElement[bool]:
        """Rows of the caller's districts (of the one asked for, when one is)."""
        condition = district_condition(self.scope, district_id)
        if self.query.district_id is not None:
            condition = and_(condition, district_id == self.query.district_id)
        return condition

    def ref(self, district_id: int | None) -> DistrictRef:
        district = None if district_id is None else self.districts.get(district_id)
        if district is None:
            return NO_DISTRICT
        return DistrictRef(id=district.id, name=district.name)

    def rows_for(self, found: Iterable[int | None]) -> list[int | None]:
        """Every district in scope (those without data too), then rows outside any district."""
        present = set(found)
        ordered = sorted(self.districts, key=lambda i: self.districts[i].name)
        return [*ordered, *([None] if None in present else [])]


def _moment(value: datetime) -> ColumnElement[Any]:
    return literal(value, UTCDateTime())


def city_kpis(
    session: Session,
    scope: Scope,
    settings: Settings,
    query: KpiQuery,
    *,
    now: datetime | None = None,
) -> KpiReport:
    """Every KPI group for ``query``'s period, cut to ``scope``'s districts (and to the one
    district ``query`` names). Raises :class:`KpiError` for a period that cannot be answered
    and :class:`UnknownDistrict` for a district that is not there or not the caller's."""
    figures.check_period(query.since, query.until)
    districts_query = select(District).where(district_condition(scope, District.id))
    if query.district_id is not None:
        districts_query = districts_query.where(District.id == query.district_id)
    districts = {district.id: district for district in session.scalars(districts_query)}
    if query.district_id is not None and not districts:
        raise UnknownDistrict(f"no district {query.district_id} within your access")
    context = _Context(session, scope, settings, query, now or utcnow(), districts)
    incident_rows, video = _incidents(context)
    return KpiReport(
        since=query.since,
        until=query.until,
        district_id=query.district_id,
        computed_at=context.now,
        time_zone=settings.timezone,
        clearance=_clearance(context),
        video_use=video,
        recording=_recording(context),
        response=_response(context),
        incidents=incident_rows,
        flows=_flows(context),
    )


def _clearance(context: _Context) -> ClearanceGroup:
    query = context.query
    periods = figures.calendar_periods(query.since, query.until, context.settings.zone)
    bucket: ColumnElement[int] = (
        case(
            *((CrimeRecord.occurred_at < _moment(p.end), i) for i, p in enumerate(periods[:-1])),
            else_=len(periods) - 1,
        )
        if len(periods) > 1
        else literal(0)
    )
    rows = context.session.execute(
        select(
            CrimeRecord.district_id,
            CrimeRecord.kind,
            bucket.label("bucket"),
            func.count(),
            func.sum(case((CrimeRecord.solved, 1), else_=0)),
        )
        .where(
            context.where(CrimeRecord.district_id),
            # The OCC's records carry no clearance: whether a crime was solved is the register's.
            CrimeRecord.source == CrimeSource.REGISTER,
            CrimeRecord.occurred_at >= query.since,
            CrimeRecord.occurred_at < query.until,
        )
        .group_by(CrimeRecord.district_id, CrimeRecord.kind, "bucket")
    ).all()
    by_district: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    by_kind: dict[CrimeKind, list[int]] = defaultdict(lambda: [0, 0])
    by_period: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    total = [0, 0]
    for district_id, kind, index, registered, solved in rows:
        for tally in (by_district[district_id], by_kind[kind], by_period[index], total):
            tally[0] += registered
            tally[1] += int(solved or 0)

    def clearance(tally: Sequence[int]) -> dict[str, Any]:
        return {
            "registered": tally[0],
            "solved": tally[1],
            "rate": figures.share(tally[1], tally[0]),
        }

    return ClearanceGroup(
        total=Clearance(**clearance(total)),
        by_district=[
            ClearanceRow(district=context.ref(d), **clearance(by_district[d]))
            for d in context.rows_for(by_district)
        ],
        by_kind=[
            ClearanceRow(kind=kind, **clearance(by_kind[kind]))
            for kind in CrimeKind
            if kind in by_kind
        ],
        by_period=[
            ClearanceRow(period=period.label, **clearance(by_period[index]))
            for index, period in enumerate(periods)
        ],
    )


def _incidents(context: _Context) -> tuple[IncidentGroup, VideoUseGroup]:
    query = context.query
    clip = exists().where(
        IncidentClip.incident_id == Incident.id, IncidentClip.unlinked_at.is_(None)
    )
    export = exists().where(EvidenceExport.reason.contains(Incident.number))
    rows = context.session.execute(
        select(
            Incident.district_id,
            func.count(),
            func.sum(case((or_(clip, export), 1), else_=0)),
            func.sum(case((clip, 1), else_=0)),
            func.sum(case((export, 1), else_=0)),
        )
        .where(
            context.where(Incident.district_id),
            Incident.opened_at >= query.since,
            Incident.opened_at < query.until,
        )
        .group_by(Incident.district_id)
    ).all()
    found = {row[0]: [int(value or 0) for value in row[1:]] for row in rows}
    order = context.rows_for(found)

    def use(tally: Sequence[int]) -> dict[str, Any]:
        incidents, with_video, clips, exports = tally
        return {
            "incidents": incidents,
            "with_video": with_video,
            "with_clips": clips,
            "with_exports": exports,
            "share": figures.share(with_video, incidents),
        }

    totals = [sum(tally[i] for tally in found.values()) for i in range(4)]
    incident_rows = []
    for district_id in order:
        count = found.get(district_id, [0])[0]
        population = context.districts[district_id].population if district_id is not None else None
        incident_rows.append(
            IncidentRow(
                district=context.ref(district_id),
                incidents=count,
                population=population,
                per_10k=figures.per_10k(count, population),
            )
        )
    return (
        IncidentGroup(total=totals[0], by_district=incident_rows),
        VideoUseGroup(
            total=VideoUse(**use(totals)),
            by_district=[
                VideoUseRow(district=context.ref(d), **use(found.get(d, [0, 0, 0, 0])))
                for d in order
            ],
        ),
    )


def _recording(context: _Context) -> RecordingGroup:
    query, zone = context.query, context.settings.zone
    end = min(query.until, context.now)
    cameras = context.session.execute(
        select(Camera.district_id, Camera.created_at, Camera.installed_at).where(
            Camera.status == CameraStatus.ACTIVE, context.where(Camera.district_id)
        )
    ).all()
    expected: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0])
    for district_id, created_at, installed_on in cameras:
        tally = expected[district_id]
        tally[0] += 1
        window = figures.expected_window(
            query.since,
            query.until,
            now=context.now,
            registered_at=created_at,
            installed_on=installed_on,
            zone=zone,
        )
        if window is not None:
            tally[1] += (window[1] - window[0]).total_seconds()
            tally[2] += figures.clock_hours(*window)
    recorded: dict[int, list[float]] = {}
    if end > query.since:
        since, until = _moment(query.since), _moment(end)
        clipped = seconds_between(
            later_of(RecordedSegment.started_at, since), earlier_of(RecordedSegment.ended_at, until)
        )
        # Camera-hours first, narrow rows, then their districts: a month of a thousand cameras
        # is under a million groups, however short the segments.
        active = select(Camera.id).where(
            Camera.status == CameraStatus.ACTIVE, context.where(Camera.district_id)
        )
        per_hour = (
            select(
                RecordedSegment.camera_id.label("camera_id"),
                utc_hour(later_of(RecordedSegment.started_at, since)).label("hour"),
                func.sum(clipped).label("seconds"),
            )
            .where(
                RecordedSegment.camera_id.in_(active),
                RecordedSegment.started_at < until,
                RecordedSegment.ended_at > since,
            )
            .group_by(RecordedSegment.camera_id, "hour")
            .subquery()
        )
        if context.session.get_bind().dialect.name == "postgresql":
            # Room to group those in memory; the default 4 MB sorts them on disk (2× slower).
            # SET LOCAL ends with the transaction.
            context.session.execute(text("SET LOCAL work_mem = '128MB'"))
        for district_id, cameras_recorded, hours_up, seconds in context.session.execute(
            select(
                Camera.district_id,
                func.count(func.distinct(per_hour.c.camera_id)),
                func.count(),
                func.sum(per_hour.c.seconds),
            )
            .join(Camera, Camera.id == per_hour.c.camera_id)
            .group_by(Camera.district_id)
        ):
            recorded[district_id] = [cameras_recorded, hours_up, float(seconds or 0.0)]
    purged = context.session.scalar(
        select(func.coalesce(func.sum(RecordingPurge.segments), 0))
        .join(Camera, Camera.id == RecordingPurge.camera_id)
        .where(
            context.where(Camera.district_id),
            RecordingPurge.newest_at > query.since,
            RecordingPurge.oldest_at < query.until,
        )
    )

    def recording(counted: Sequence[float], seen: Sequence[float]) -> dict[str, Any]:
        cameras_recorded, hours_up, seconds = seen
        active, expected_seconds, expected_hours = counted
        return {
            "active_cameras": int(active),
            "cameras_recorded": int(cameras_recorded),
            "expected_seconds": round(expected_seconds, 3),
            "recorded_seconds": round(seconds, 3),
            "completeness": figures.share(min(seconds, expected_seconds), expected_seconds),
            "expected_hours": int(expected_hours),
            "hours_up": int(min(hours_up, expected_hours)),
            "uptime": figures.share(min(hours_up, expected_hours), expected_hours),
        }

    order = [d for d in context.rows_for(expected) if d is not None]
    rows = [
        RecordingRow(
            district=context.ref(d),
            **recording(expected.get(d, [0, 0.0, 0]), recorded.get(d, [0, 0, 0.0])),
        )
        for d in order
    ]
    total_expected = [sum(t[i] for t in expected.values()) for i in range(3)]
    total_seen = [sum(t[i] for t in recorded.values()) for i in range(3)]
    return RecordingGroup(
        total=Recording(**recording(total_expected, total_seen)),
        by_district=rows,
        purged_segments=int(purged or 0),
    )


def _step(values: list[float | None]) -> Step:
    done = [value for value in values if value is not None]
    found = figures.spread([max(0.0, value) for value in done])
    return Step(
        count=found.count,
        pending=len(values) - len(done),
        p50_seconds=found.p50_seconds,
        p90_seconds=found.p90_seconds,
    )


def _response(context: _Context) -> ResponseGroup:
    query = context.query
    acknowledge: dict[int | None, list[float | None]] = defaultdict(list)
    for district_id, seconds in context.session.execute(
        select(Alert.district_id, seconds_between(Alert.first_at, Alert.acknowledged_at)).where(
            context.where(Alert.district_id),
            Alert.first_at >= query.since,
            Alert.first_at < query.until,
        )
    ):
        acknowledge[district_id].append(seconds)
    dispatch: dict[int | None, list[float | None]] = defaultdict(list)
    accept: dict[int | None, list[float | None]] = defaultdict(list)
    for district_id, to_dispatch, to_accept in context.session.execute(
        select(
            Incident.district_id,
            seconds_between(Incident.opened_at, Incident.dispatched_at),
            seconds_between(Incident.dispatched_at, Incident.accepted_at),
        ).where(
            context.where(Incident.district_id),
            Incident.opened_at >= query.since,
            Incident.opened_at < query.until,
        )
    ):
        dispatch[district_id].append(to_dispatch)
        # Not dispatched yet: nothing to accept, so not pending acceptance either.
        if to_dispatch is not None:
            accept[district_id].append(to_accept)

    def everything(found: dict[int | None, list[float | None]]) -> list[float | None]:
        return [value for values in found.values() for value in values]

    order = context.rows_for([*acknowledge, *dispatch])
    return ResponseGroup(
        total=Response(
            acknowledge=_step(everything(acknowledge)),
            dispatch=_step(everything(dispatch)),
            accept=_step(everything(accept)),
        ),
        by_district=[
            ResponseRow(
                district=context.ref(d),
                acknowledge=_step(acknowledge.get(d, [])),
                dispatch=_step(dispatch.get(d, [])),
                accept=_step(accept.get(d, [])),
            )
            for d in order
        ],
    )


def _flows(context: _Context) -> FlowGroup:
    query = context.query
    spans = figures.offset_spans(query.since, query.until, context.settings.zone)
    span: ColumnElement[int] = (
        case(
            *(
                (TrafficCount.bin_start < _moment(following.start), index)
                for index, following in enumerate(spans[1:])
            ),
            else_=len(spans) - 1,
        )
        if len(spans) > 1
        else literal(0)
    )
    vehicle = TrafficCount.object_class.in_(sorted(VEHICLES))
    what = case((vehicle, "vehicle"), else_="person")
    rows = context.session.execute(
        select(
            Camera.district_id,
            what.label("what"),
            span.label("span"),
            utc_quarter_of_day(TrafficCount.bin_start).label("quarter"),
            func.sum(TrafficCount.count),
        )
        .join(Camera, Camera.id == TrafficCount.camera_id)
        .where(
            context.where(Camera.district_id),
            TrafficCount.scope == "camera",
            or_(vehicle, TrafficCount.object_class == ObjectClass.PERSON.value),
            TrafficCount.bin_start >= query.since,
            TrafficCount.bin_start < query.until,
        )
        .group_by(Camera.district_id, "what", "span", "quarter")
    ).all()
    hours: dict[int, dict[str, list[int]]] = defaultdict(
        lambda: {"person": [0] * 24, "vehicle": [0] * 24}
    )
    for district_id, kind, index, quarter, count in rows:
        hours[district_id][kind][figures.local_hour(quarter, spans[index].quarters)] += int(count)
    flow_rows = [
        FlowRow(
            district=context.ref(d),
            people=sum(hours[d]["person"]) if d in hours else 0,
            vehicles=sum(hours[d]["vehicle"]) if d in hours else 0,
            people_by_hour=hours[d]["person"] if d in hours else [0] * 24,
            vehicles_by_hour=hours[d]["vehicle"] if d in hours else [0] * 24,
        )
        for d in context.rows_for(hours)
        if d is not None
    ]
    return FlowGroup(
        present=bool(rows),
        people=sum(row.people for row in flow_rows),
        vehicles=sum(row.vehicles for row in flow_rows),
        by_district=flow_rows,
    )
