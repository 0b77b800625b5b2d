"""Crime statistics for a caller: the records they may see, through the pure figures of
``statistics``, as pydantic models the API returns and a report renders.

Two functions, called by the API and by anything else that needs the figures (a PDF report)
without going through HTTP:

- ``crime_statistics(session, scope, settings, query)``: counts per month, quarter or year with
  the change from the period before and from the same period a year before, and counts by
  district, kind and place kind.
- ``before_after(session, scope, settings, query)``: one period against another, district by
  district, with a treated group (districts whose new cameras went in between the end of the
  "before" period and the start of the "after" one, from the cameras' installation dates; a
  district with installations inside either period is partly treated and left out of both
  groups) and a control (those that got none from the start of before to the end of after), and the difference-in-differences rate ratio with its 95%
  interval. The caller may name the treated and control districts instead.

Both count the police register's records unless asked otherwise (``source``): the programme's
published figures and the DiD come from the register, and the OCC's records exist only where
cameras watch, so mixing them in would bias a comparison against the cameras.

Both are cut to the caller's districts in SQL (``auth.scope.district_condition``); a district
filter outside them finds nothing rather than saying that it exists. Periods are whole: a
``since`` or ``until`` in the middle of a quarter takes the whole quarter it falls in.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from safecity.auth.roles import Scope
from safecity.auth.scope import district_condition
from safecity.city.crime_register import PUBLIC_PLACE_KINDS, CrimeKind, PlaceKind
from safecity.city.models import Camera, CameraStatus, District
from safecity.core.clock import utcnow
from safecity.insights.models import CrimeRecord, CrimeSource
from safecity.insights.statistics import (
    CAVEATS,
    Change,
    CountedCrime,
    Period,
    PeriodKind,
    RateRatio,
    group_change,
    rate_ratio,
    tabulate,
)
from safecity.settings import Settings

MAX_PERIODS = 240
"""Twenty years of months: more periods than any table or chart can show."""


class PlaceFilter(enum.StrEnum):
    """A place kind, or ``public``: streets and other public places together (the
    programme's headline figure)."""

    STREET = PlaceKind.STREET.value
    PUBLIC_PLACE = PlaceKind.PUBLIC_PLACE.value
    DWELLING = PlaceKind.DWELLING.value
    OTHER = PlaceKind.OTHER.value
    PUBLIC = "public"


class SourceFilter(enum.StrEnum):
    """Which records count: the police register's (the published figures), the OCC's closed
    incidents, or both."""

    REGISTER = CrimeSource.REGISTER.value
    OCC = CrimeSource.OCC.value
    ALL = "all"


class CrimeFilter(BaseModel):
    """Which records count; empty lists: all."""

    source: SourceFilter = SourceFilter.REGISTER
    district_ids: list[int] = Field(default_factory=list)
    kinds: list[CrimeKind] = Field(default_factory=list)
    places: list[PlaceFilter] = Field(default_factory=list)


class StatisticsQuery(CrimeFilter):
    period: PeriodKind = PeriodKind.QUARTER
    since: datetime | None = Field(default=None, description="From the period it falls in.")
    until: datetime | None = Field(
        default=None, description="Up to the period it falls in (the instant itself excluded)."
    )


class BeforeAfterQuery(CrimeFilter):
    period: PeriodKind = PeriodKind.QUARTER
    before: str = Field(description="The period before, e.g. 2026-Q1.")
    after: str = Field(description="The period after, e.g. 2026-Q2.")
    treated: list[int] | None = Field(
        default=None, description="Treated districts; with control, instead of installations."
    )
    control: list[int] | None = None


class StatisticsError(ValueError):
    """A query that cannot be answered as asked; the message says why."""


class ChangeOut(BaseModel):
    before: int
    after: int
    difference: int
    percent: float | None = Field(description="One decimal; null when before is 0.")
    text: str = Field(description="In words, e.g. -53.0% (4,502 fewer of 8,502).")

    @classmethod
    def of(cls, change: Change) -> ChangeOut:
        return cls(
            before=change.before,
            after=change.after,
            difference=change.difference,
            percent=change.percent,
            text=change.text,
        )


class CaveatOut(BaseModel):
    title: str
    text: str


class PeriodFigures(BaseModel):
    label: str
    start: datetime
    end: datetime
    count: int
    previous: ChangeOut | None = Field(description="From the period before; null: no records.")
    year_ago: ChangeOut | None = Field(description="From a year before; null: no records.")


class DistrictCount(BaseModel):
    district_id: int
    district: str
    count: int


class KindCount(BaseModel):
    kind: CrimeKind
    count: int


class PlaceCount(BaseModel):
    place_kind: PlaceKind
    public: bool
    count: int


SOURCE_COUNTED = "The records counted: register (the police register), occ (incidents closed in "
"the OCC) or all."


class CrimeStatistics(BaseModel):
    period: PeriodKind
    source: SourceFilter = Field(description=SOURCE_COUNTED)
    since: datetime | None = Field(description="The start of the first period shown.")
    until: datetime | None = Field(description="The end of the last period shown.")
    records_begin: datetime | None = Field(
        description="The first record held: no comparison reaches before it."
    )
    total: int
    public_places: int = Field(description="Of the total, in streets and other public places.")
    periods: list[PeriodFigures]
    by_district: list[DistrictCount]
    by_kind: list[KindCount]
    by_place: list[PlaceCount]
    caveats: list[CaveatOut]


class Span(BaseModel):
    label: str
    start: datetime
    end: datetime


class DistrictChange(BaseModel):
    district_id: int
    district: str
    group: Literal["treated", "control"] | None
    new_cameras: int = Field(description="Installed from the start of before to the end of after.")
    partly_treated: bool = Field(
        description="Cameras went in during a compared period: left out of both groups."
    )
    change: ChangeOut


class GroupOut(BaseModel):
    districts: list[str]
    change: ChangeOut | None


class DifferenceInDifferences(BaseModel):
    irr: float | None = Field(
        description="(treated after / before) / (control after / before); below 1: the "
        "treated fell more than the control."
    )
    ci_low: float | None = Field(description="95% interval, log method.")
    ci_high: float | None
    percent: float | None = Field(description="IRR - 1 as a percentage, one decimal.")
    significant: bool | None = Field(description="The interval excludes 1.")
    expected_treated_after: float | None = Field(
        description="The treated count after, had it followed the control's trend."
    )
    reason: str | None = Field(description="Why a figure is missing.")
    text: str


class BeforeAfter(BaseModel):
    period: PeriodKind
    source: SourceFilter = Field(description=SOURCE_COUNTED)
    before: Span
    after: Span
    change: ChangeOut = Field(description="All the districts asked for, together.")
    groups_from: Literal["installations", "named"]
    by_district: list[DistrictChange]
    treated: GroupOut
    control: GroupOut
    did: DifferenceInDifferences
    notes: list[str]
    caveats: list[CaveatOut]


def _caveats() -> list[CaveatOut]:
    return [CaveatOut(title=c.title, text=c.text) for c in CAVEATS]


def _conditions(scope: Scope, crime_filter: CrimeFilter) -> list[ColumnElement[bool]]:
    conditions = [district_condition(scope, CrimeRecord.district_id)]
    if crime_filter.source is not SourceFilter.ALL:
        conditions.append(CrimeRecord.source == CrimeSource(crime_filter.source.value))
    if crime_filter.district_ids:
        conditions.append(CrimeRecord.district_id.in_(sorted(set(crime_filter.district_ids))))
    if crime_filter.kinds:
        conditions.append(CrimeRecord.kind.in_(sorted(set(crime_filter.kinds))))
    if crime_filter.places:
        places: set[PlaceKind] = set()
        for place in crime_filter.places:
            places |= PUBLIC_PLACE_KINDS if place is PlaceFilter.PUBLIC else {PlaceKind(place)}
        conditions.append(CrimeRecord.place_kind.in_(sorted(places)))
    return conditions


def _counted(session: Session, conditions: list[ColumnElement[bool]]) -> list[CountedCrime]:
    query = select(
        CrimeRecord.occurred_at, CrimeRecord.district_id, CrimeRecord.kind, CrimeRecord.place_kind
    ).where(*conditions)
    return [CountedCrime(*row) for row in session.execute(query)]


def _records_begin(session: Session, scope: Scope, source: SourceFilter) -> datetime | None:
    """The first record of the source counted in the caller's districts: where comparisons
    stop (another district's earliest record is not the caller's to know)."""
    conditions = _conditions(scope, CrimeFilter(source=source))
    return session.scalar(select(func.min(CrimeRecord.occurred_at)).where(*conditions))


def _district_names(session: Session, scope: Scope) -> dict[int, str]:
    rows = session.execute(
        select(District.id, District.name).where(district_condition(scope, District.id))
    )
    return {district_id: name for district_id, name in rows}


def crime_statistics(
    session: Session, scope: Scope, settings: Settings, query: StatisticsQuery
) -> CrimeStatistics:
    """Counts by period (with changes), district, kind and place kind, of the records the
    caller may see. StatisticsError for a range that is empty or too long."""
    zone = settings.zone
    if query.since is not None and query.until is not None and query.until <= query.since:
        raise StatisticsError("until must be after since")
    conditions = _conditions(scope, query)
    first_at, last_at = session.execute(
        select(func.min(CrimeRecord.occurred_at), func.max(CrimeRecord.occurred_at)).where(
            *conditions
        )
    ).one()
    since = query.since or first_at
    until = query.until
    last_moment = until - timedelta(microseconds=1) if until is not None else last_at or utcnow()
    records_begin = _records_begin(session, scope, query.source)
    if since is None:
        return CrimeStatistics(
            period=query.period,
            source=query.source,
            since=None,
            until=None,
            records_begin=records_begin,
            total=0,
            public_places=0,
            periods=[],
            by_district=[],
            by_kind=[],
            by_place=[],
            caveats=_caveats(),
        )
    first = Period.of(query.period, since, zone)
    last = Period.of(query.period, last_moment, zone)
    if last < first:
        raise StatisticsError("until must be after since")
    if last.index - first.index + 1 > MAX_PERIODS:
        raise StatisticsError(
            f"{last.index - first.index + 1} {query.period.value}s asked for; at most "
            f"{MAX_PERIODS}: choose a longer period or a shorter range"
        )
    window = [
        CrimeRecord.occurred_at >= first.year_ago.start(zone),
        CrimeRecord.occurred_at < last.end(zone),
    ]
    table = tabulate(
        _counted(session, [*conditions, *window]),
        query.period,
        zone,
        first=first,
        last=last,
        records_begin=records_begin,
    )
    names = _district_names(session, scope)
    return CrimeStatistics(
        period=query.period,
        source=query.source,
        since=first.start(zone),
        until=last.end(zone),
        records_begin=records_begin,
        total=table.total,
        public_places=sum(n for place, n in table.by_place.items() if place.public),
        periods=[
            PeriodFigures(
                label=row.period.label,
                start=row.period.start(zone),
                end=row.period.end(zone),
                count=row.count,
                previous=ChangeOut.of(row.previous) if row.previous else None,
                year_ago=ChangeOut.of(row.year_ago) if row.year_ago else None,
            )
            for row in table.periods
        ],
        by_district=sorted(
            (
                DistrictCount(district_id=d, district=names.get(d, f"district {d}"), count=n)
                for d, n in table.by_district.items()
            ),
            key=lambda row: (-row.count, row.district),
        ),
        by_kind=[KindCount(kind=k, count=n) for k, n in table.by_kind.most_common()],
        by_place=[
            PlaceCount(place_kind=p, public=p.public, count=table.by_place[p])
            for p in PlaceKind
            if table.by_place[p]
        ],
        caveats=_caveats(),
    )


def before_after(
    session: Session, scope: Scope, settings: Settings, query: BeforeAfterQuery
) -> BeforeAfter:
    """One period against another, with the control and the rate ratio. StatisticsError for
    periods that cannot be read or are not in order, or named groups the caller cannot see."""
    zone = settings.zone
    try:
        before = Period.parse(query.period, query.before)
        after = Period.parse(query.period, query.after)
    except ValueError as exc:
        raise StatisticsError(str(exc)) from exc
    if after <= before:
        raise StatisticsError(f"after ({after.label}) must come after before ({before.label})")
    names = _district_names(session, scope)
    asked = set(query.district_ids) & set(names) if query.district_ids else set(names)
    counts = _period_counts(session, _conditions(scope, query), before, after, zone)
    installations = _installations(session, before, after, zone)
    new_cameras = installations.between + installations.during
    notes: list[str] = []
    if query.treated is not None or query.control is not None:
        treated_ids, control_ids = set(query.treated or ()), set(query.control or ())
        unseen = (treated_ids | control_ids) - set(names)
        if unseen:
            raise StatisticsError(
                f"no district {', '.join(map(str, sorted(unseen)))} among those you may see"
            )
        if treated_ids & control_ids:
            raise StatisticsError("a district cannot be both treated and control")
        groups_from: Literal["installations", "named"] = "named"
        notes.append("Treated and control districts as named by the caller.")
    else:
        groups_from = "installations"
        partly_ids = {d for d in asked if installations.during[d] > 0}
        treated_ids = {d for d in asked - partly_ids if installations.between[d] > 0}
        control_ids = asked - treated_ids - partly_ids
        gap_start, gap_end = before.end(zone).date(), after.start(zone).date()
        if gap_start < gap_end:
            notes.append(
                f"Treated: districts with cameras installed from {gap_start} to "
                f"{gap_end - timedelta(days=1)}, between the periods; control: districts with "
                f"none from {before.start(zone).date()} to "
                f"{(after.end(zone) - timedelta(days=1)).date()}."
            )
        else:
            notes.append(
                f"{before.label} and {after.label} are adjacent: no district can have got its "
                "cameras between them. Compare periods with time between them (the cameras "
                "going in) to see their effect."
            )
        if partly_ids:
            notes.append(
                f"Partly treated: {', '.join(sorted(names[d] for d in partly_ids))}, left out: "
                "cameras went in during a compared period, so that period mixes before and after."
            )
        missing = sum(installations.undated[d] for d in asked)
        if missing:
            notes.append(
                f"{missing} camera(s) in these districts have no installation date and were not "
                "counted: a district among the control may have had new cameras."
            )
    rows = [
        DistrictChange(
            district_id=d,
            district=names[d],
            group="treated" if d in treated_ids else "control" if d in control_ids else None,
            new_cameras=new_cameras[d],
            partly_treated=groups_from == "installations" and installations.during[d] > 0,
            change=ChangeOut.of(counts[d]),
        )
        for d in sorted(asked | treated_ids | control_ids, key=lambda d: names[d])
    ]
    overall = group_change([counts[d] for d in asked])
    treated = group_change([counts[d] for d in treated_ids]) if treated_ids else None
    control = group_change([counts[d] for d in control_ids]) if control_ids else None
    return BeforeAfter(
        period=query.period,
        source=query.source,
        before=_span(before, zone),
        after=_span(after, zone),
        change=ChangeOut.of(overall),
        groups_from=groups_from,
        by_district=rows,
        treated=GroupOut(
            districts=sorted(names[d] for d in treated_ids),
            change=ChangeOut.of(treated) if treated else None,
        ),
        control=GroupOut(
            districts=sorted(names[d] for d in control_ids),
            change=ChangeOut.of(control) if control else None,
        ),
        did=_did(treated, control),
        notes=notes,
        caveats=_caveats(),
    )


def _span(period: Period, zone: tzinfo) -> Span:
    return Span(label=period.label, start=period.start(zone), end=period.end(zone))


def _period_counts(
    session: Session,
    conditions: list[ColumnElement[bool]],
    before: Period,
    after: Period,
    zone: tzinfo,
) -> defaultdict[int, Change]:
    """Each district's count in ``before`` and in ``after`` (counted in SQL: two ranges)."""
    counts: defaultdict[int, Change] = defaultdict(lambda: Change(0, 0))
    for period, is_after in ((before, False), (after, True)):
        rows = session.execute(
            select(CrimeRecord.district_id, func.count())
            .where(
                *conditions,
                CrimeRecord.occurred_at >= period.start(zone),
                CrimeRecord.occurred_at < period.end(zone),
            )
            .group_by(CrimeRecord.district_id)
        )
        for district_id, count in rows:
            was = counts[district_id]
            counts[district_id] = (
                Change(was.before, count) if is_after else Change(count, was.after)
            )
    return counts


@dataclass(frozen=True)
class _Installations:
    """Per district, cameras installed (city dates) between the periods, during either of
    them, and cameras in service whose installation date is unknown."""

    between: Counter[int]
    during: Counter[int]
    undated: Counter[int]


def _installations(session: Session, before: Period, after: Period, zone: tzinfo) -> _Installations:
    first_day, gap_start = before.start(zone).date(), before.end(zone).date()
    gap_end, end_day = after.start(zone).date(), after.end(zone).date()
    between: Counter[int] = Counter()
    during: Counter[int] = Counter()
    rows = session.execute(
        select(Camera.district_id, Camera.installed_at).where(
            Camera.installed_at >= first_day, Camera.installed_at < end_day
        )
    )
    for district_id, installed_at in rows:
        if district_id is None or installed_at is None:
            continue
        if gap_start <= installed_at < gap_end:
            between[district_id] += 1
        else:
            during[district_id] += 1
    undated = Counter(
        dict(
            session.execute(
                select(Camera.district_id, func.count())
                .where(
                    Camera.installed_at.is_(None),
                    Camera.status.in_([CameraStatus.ACTIVE, CameraStatus.MAINTENANCE]),
                )
                .group_by(Camera.district_id)
            ).all()
        )
    )
    return _Installations(between, during, undated)


def _did(treated: Change | None, control: Change | None) -> DifferenceInDifferences:
    if treated is None or control is None:
        missing = "treated" if treated is None else "control"
        reason = f"no {missing} districts: " + (
            "none of the districts compared (yours, as filtered) got new cameras between these "
            "periods and none during them"
            if treated is None
            else "every district compared (yours, as filtered) got new cameras in these "
            "periods, so nothing here shows what would have happened without them"
        )
        return DifferenceInDifferences(
            irr=None,
            ci_low=None,
            ci_high=None,
            percent=None,
            significant=None,
            expected_treated_after=None,
            reason=reason,
            text=f"No difference-in-differences: {reason}.",
        )
    ratio = rate_ratio(treated, control)
    return DifferenceInDifferences(
        irr=ratio.irr,
        ci_low=ratio.low,
        ci_high=ratio.high,
        percent=ratio.percent,
        significant=ratio.significant,
        expected_treated_after=ratio.expected_treated_after,
        reason=ratio.reason,
        text=_did_text(ratio),
    )


def _did_text(ratio: RateRatio) -> str:
    if ratio.irr is None:
        return f"No rate ratio: {ratio.reason}."
    expected = ratio.expected_treated_after
    trend = (
        f" Following the control's trend the treated districts would have counted about "
        f"{expected:,.0f}; they counted {ratio.treated.after:,}."
        if expected is not None
        else ""
    )
    if ratio.low is None or ratio.high is None:
        return f"Rate ratio {ratio.irr:.2f}, no interval: {ratio.reason}.{trend}"
    verdict = (
        "The interval excludes 1: a change beyond the control's that chance alone explains "
        "poorly (which still does not say the cameras caused it)."
        if ratio.significant
        else "The interval includes 1: the data cannot tell this from no difference."
    )
    direction = "fell" if ratio.irr < 1 else "rose"
    return (
        f"Rate ratio {ratio.irr:.2f} (95% CI {ratio.low:.2f}–{ratio.high:.2f}): relative to the "
        f"control, the treated districts {direction} by {abs(ratio.percent or 0):.1f}%.{trend} "
        f"{verdict}"
    )
