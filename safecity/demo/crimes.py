"""A year of synthetic crime records with the patterns real registers show.

Each kind of crime has its own hour-of-day peak (fraud by day, assault and hooliganism at
night), weekday pattern (more violence on Friday and Saturday nights) and share committed at
hotspots (markets, transport hubs, squares, nightlife streets); the rest fall where people
live. A mild summer peak runs through all of them. Pure: numpy in, dataclasses out.

Two things the statistics page has to show honestly are built in. About half the crimes are
solved, some days later, the share varying by kind (``CLEARANCE``). And the camera programme's
second wave (``CAMERA_WAVE``) put cameras in two districts in April 2026 while the others got
none that year: after it, crimes in public places in those two fall by a modest share, about
what published reviews find on average, so that a difference-in-differences against the other
districts finds it, and a plain before/after (with the summer peak in it) would not.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone

import numpy as np
import shapely
from shapely.geometry import Polygon

from safecity.city.crime_register import CrimeKind, PlaceKind
from safecity.city.models import SiteKind
from safecity.demo.geography import DECIMALS, Hub, around, by_density, points_within

ASTANA_TIME = timezone(timedelta(hours=5), "UTC+05")
RECORDS_UNTIL = date(2026, 11, 1)
"""The records cover the 365 days before this date (local time)."""
DAYS = 365
CRIMES_PER_1000_RESIDENTS = 9.0
HOTSPOT_RADIUS_KM = 0.15
STREET_SHARE_OF_PUBLIC = 0.4
"""Of crimes in public places, the share on the streets (the programme: 3,381 of 8,502)."""


RECORDS_SINCE = RECORDS_UNTIL - timedelta(days=DAYS)
CLEARANCE: Mapping[CrimeKind, float] = {
    CrimeKind.THEFT: 0.42, CrimeKind.ROBBERY: 0.55, CrimeKind.ASSAULT: 0.6,
    CrimeKind.HOOLIGANISM: 0.58, CrimeKind.VANDALISM: 0.4, CrimeKind.FRAUD: 0.45,
    CrimeKind.DRUGS: 0.6, CrimeKind.VEHICLE_THEFT: 0.45, CrimeKind.OTHER: 0.5,
}  # fmt: skip
"""Share of each kind solved in the end; one solved after the records end is still open."""
MEAN_DAYS_TO_SOLVE = 12.0


@dataclass(frozen=True)
class CameraWave:
    """Cameras installed in ``districts`` from ``since`` to ``until``; after it, crimes in
    public places there fall by ``reduction``. No other district gets a camera while the
    records run (``city._installed_at`` keeps to this)."""

    districts: tuple[str, ...]
    since: date
    until: date
    reduction: float


CAMERA_WAVE = CameraWave(("almaty", "saryarka"), date(2026, 4, 1), date(2026, 4, 30), 0.15)


@dataclass(frozen=True)
class DemoCrime:
    code: str
    occurred_at: datetime
    kind: CrimeKind
    place_kind: PlaceKind
    latitude: float
    longitude: float
    district_code: str
    solved_at: datetime | None = None


@dataclass(frozen=True)
class CrimePattern:
    share: float
    peak_hour: float
    hours_wide: float
    night_floor: float
    """Least likely hour's weight relative to the peak's."""
    weekday_weights: tuple[float, float, float, float, float, float, float]
    """Monday first."""
    at_hotspots: float
    """Share committed at a hotspot rather than where people live."""
    public_elsewhere: float
    """Chance that one committed away from a hotspot was in a public place."""
    hotspot_kinds: Mapping[SiteKind, float]


_WEEK = (1.0, 1.0, 1.0, 1.0, 1.05, 1.0, 0.95)
_WEEKEND_NIGHTS = (0.8, 0.8, 0.85, 0.9, 1.3, 1.5, 1.0)
_WORKDAYS = (1.15, 1.1, 1.1, 1.1, 1.05, 0.75, 0.7)
_TRADE = {SiteKind.MARKET: 3.0, SiteKind.TRANSPORT_HUB: 3.0, SiteKind.SQUARE: 1.0}
_NIGHTLIFE = {SiteKind.STREET: 3.0, SiteKind.SQUARE: 2.0, SiteKind.TRANSPORT_HUB: 1.0}
_ANY = {
    SiteKind.MARKET: 1.0,
    SiteKind.TRANSPORT_HUB: 1.0,
    SiteKind.STREET: 1.0,
    SiteKind.SQUARE: 1.0,
}

PATTERNS: dict[CrimeKind, CrimePattern] = {
    CrimeKind.THEFT: CrimePattern(0.40, 16.0, 4.0, 0.10, _WEEK, 0.40, 0.50, _TRADE),
    CrimeKind.FRAUD: CrimePattern(0.17, 13.0, 3.5, 0.05, _WORKDAYS, 0.03, 0.10, _TRADE),
    CrimeKind.DRUGS: CrimePattern(0.07, 21.0, 3.0, 0.15, _WEEKEND_NIGHTS, 0.35, 0.60, _NIGHTLIFE),
    CrimeKind.HOOLIGANISM: CrimePattern(0.07, 23.0, 2.5, 0.08, _WEEKEND_NIGHTS, 0.50, 0.80, _NIGHTLIFE),
    CrimeKind.ASSAULT: CrimePattern(0.06, 23.5, 3.0, 0.10, _WEEKEND_NIGHTS, 0.35, 0.45, _NIGHTLIFE),
    CrimeKind.VANDALISM: CrimePattern(0.05, 22.0, 3.0, 0.10, _WEEKEND_NIGHTS, 0.20, 0.95, _ANY),
    CrimeKind.ROBBERY: CrimePattern(0.04, 21.5, 3.0, 0.10, _WEEKEND_NIGHTS, 0.45, 0.80, _TRADE),
    CrimeKind.VEHICLE_THEFT: CrimePattern(0.04, 3.0, 2.5, 0.15, _WEEK, 0.10, 0.95, _TRADE),
    CrimeKind.OTHER: CrimePattern(0.10, 15.0, 5.0, 0.20, _WEEK, 0.15, 0.40, _ANY),
}  # fmt: skip


@dataclass(frozen=True)
class Hotspot:
    kind: SiteKind
    longitude: float
    latitude: float


@dataclass(frozen=True)
class ResidentialArea:
    """Where residents of one district live: crimes away from hotspots fall here."""

    district_code: str
    population: int
    hubs: tuple[Hub, ...]
    area: Polygon


def hour_weights(pattern: CrimePattern) -> np.ndarray:
    """Weight of each hour of the day: a bell round the peak hour (wrapping past midnight)."""
    hours = np.arange(24) + 0.5
    distance = np.abs((hours - pattern.peak_hour + 12.0) % 24.0 - 12.0)
    bell = np.exp(-0.5 * (distance / pattern.hours_wide) ** 2)
    weights = pattern.night_floor + (1.0 - pattern.night_floor) * bell
    return np.asarray(weights / weights.sum())


def day_weights(pattern: CrimePattern, first_day: date) -> np.ndarray:
    """Weight of each day of the year: the kind's weekday pattern times a mild summer peak."""
    days = [first_day + timedelta(days=offset) for offset in range(DAYS)]
    weekday = np.array([pattern.weekday_weights[day.weekday()] for day in days])
    day_of_year = np.array([day.timetuple().tm_yday for day in days])
    season = 1.0 + 0.15 * np.cos(2.0 * np.pi * (day_of_year - 196) / 365.25)
    weights = weekday * season
    return np.asarray(weights / weights.sum())


def generate_crimes(
    rng: np.random.Generator,
    residential: Sequence[ResidentialArea],
    hotspots: Sequence[Hotspot],
) -> tuple[DemoCrime, ...]:
    """The records of one year, in time order, coded like the register numbers them
    (``ERDR-<year>-<number within the year>``)."""
    first_day = RECORDS_UNTIL - timedelta(days=DAYS)
    total = round(sum(area.population for area in residential) * CRIMES_PER_1000_RESIDENTS / 1000)
    kinds = list(PATTERNS)
    counts = rng.multinomial(total, np.array([PATTERNS[kind].share for kind in kinds]))
    occurrences: list[DemoCrime] = []
    for kind, count in zip(kinds, counts, strict=True):
        occurrences.extend(_crimes_of_kind(rng, kind, int(count), first_day, residential, hotspots))
    occurrences.sort(key=lambda o: (o.occurred_at, o.kind.value, o.latitude, o.longitude))
    # In time order first: the draws below then fall on the same crimes in every run.
    return numbered(_solved(rng, _after_the_wave(rng, occurrences, CAMERA_WAVE)))


def numbered(occurrences: Sequence[DemoCrime]) -> tuple[DemoCrime, ...]:
    """The records in time order, coded like the register numbers them."""
    ordered = sorted(
        occurrences, key=lambda o: (o.occurred_at, o.kind.value, o.latitude, o.longitude)
    )
    crimes: list[DemoCrime] = []
    numbers: Counter[int] = Counter()
    for occurrence in ordered:
        year = occurrence.occurred_at.astimezone(ASTANA_TIME).year
        numbers[year] += 1
        crimes.append(replace(occurrence, code=f"ERDR-{year}-{numbers[year]:06d}"))
    return tuple(crimes)


def _after_the_wave(
    rng: np.random.Generator, crimes: Sequence[DemoCrime], wave: CameraWave
) -> list[DemoCrime]:
    """Leave out ``wave.reduction`` of the crimes in public places in the wave's districts
    after its cameras were all up: the drop the cameras brought."""
    start = datetime.combine(wave.until + timedelta(days=1), datetime.min.time(), ASTANA_TIME)
    draws = rng.random(len(crimes))
    return [
        crime
        for crime, draw in zip(crimes, draws, strict=True)
        if not (
            crime.district_code in wave.districts
            and crime.place_kind.public
            and crime.occurred_at >= start
            and draw < wave.reduction
        )
    ]


def _solved(rng: np.random.Generator, crimes: Sequence[DemoCrime]) -> list[DemoCrime]:
    """Mark the crimes solved as ``CLEARANCE`` says, each some days after it (skewed: most
    within two weeks, a few after months); one solved after the records end stays open."""
    end = datetime.combine(RECORDS_UNTIL, datetime.min.time(), ASTANA_TIME)
    solved = rng.random(len(crimes))
    days = rng.gamma(1.5, MEAN_DAYS_TO_SOLVE / 1.5, len(crimes)) + 0.1
    marked = []
    for crime, draw, after in zip(crimes, solved, days, strict=True):
        at = crime.occurred_at + timedelta(days=float(after))
        if draw < CLEARANCE[crime.kind] and at < end:
            crime = replace(crime, solved_at=at)
        marked.append(crime)
    return marked


NEAR_REPEAT_SHARE = 0.08
"""Of thefts from dwellings (burglaries), the share followed by another close by within days:
the near-repeat pattern burglary registers show (the same street's houses, the same thief)."""


def with_near_repeats(
    rng: np.random.Generator, crimes: Sequence[DemoCrime], residential: Sequence[ResidentialArea]
) -> tuple[DemoCrime, ...]:
    """``crimes`` and, after some burglaries, another within ~100 m and a week, renumbered."""
    areas = {area.district_code: area.area for area in residential}
    last = datetime.combine(RECORDS_UNTIL, datetime.min.time(), ASTANA_TIME).astimezone(UTC)
    follow_ups: list[DemoCrime] = []
    for crime in crimes:
        if crime.kind is not CrimeKind.THEFT or crime.place_kind is not PlaceKind.DWELLING:
            continue
        if rng.random() >= NEAR_REPEAT_SHARE:
            continue
        d_lon, d_lat = rng.normal(0, 0.0012), rng.normal(0, 0.0008)  # ~80 m each way
        at = crime.occurred_at + timedelta(hours=float(rng.uniform(12, 7 * 24)))
        lon = round(crime.longitude + d_lon, DECIMALS)
        lat = round(crime.latitude + d_lat, DECIMALS)
        if at < last and shapely.contains_xy(areas[crime.district_code], lon, lat):
            # A burglary of its own: not solved because the first one was.
            follow_ups.append(
                replace(crime, occurred_at=at, longitude=lon, latitude=lat, solved_at=None)
            )
    return numbered([*crimes, *follow_ups])


def _crimes_of_kind(
    rng: np.random.Generator,
    kind: CrimeKind,
    count: int,
    first_day: date,
    residential: Sequence[ResidentialArea],
    hotspots: Sequence[Hotspot],
) -> list[DemoCrime]:
    pattern = PATTERNS[kind]
    day = rng.choice(DAYS, size=count, p=day_weights(pattern, first_day))
    hour = rng.choice(24, size=count, p=hour_weights(pattern))
    second = rng.integers(0, 3600, size=count)
    local_seconds = (day * 24 + hour) * 3600 + second

    at_hotspot = rng.random(count) < pattern.at_hotspots
    public = np.where(
        at_hotspot, rng.random(count) < 0.95, rng.random(count) < pattern.public_elsewhere
    )
    longitude = np.empty(count)
    latitude = np.empty(count)
    longitude[at_hotspot], latitude[at_hotspot] = _near_hotspots(
        rng, int(at_hotspot.sum()), pattern, hotspots, [area.area for area in residential]
    )
    longitude[~at_hotspot], latitude[~at_hotspot] = _where_people_live(
        rng, int((~at_hotspot).sum()), residential
    )
    districts = _district_codes(longitude, latitude, residential)
    on_street = rng.random(count) < STREET_SHARE_OF_PUBLIC

    start = datetime.combine(first_day, datetime.min.time(), ASTANA_TIME).astimezone(UTC)
    return [
        DemoCrime(
            "",  # numbered once all kinds are in time order
            start + timedelta(seconds=int(offset)),
            kind,
            _place_kind(bool(is_public), street),
            float(lat),
            float(lon),
            district,
        )
        for offset, is_public, street, lat, lon, district in zip(
            local_seconds, public, on_street, latitude, longitude, districts, strict=True
        )
    ]


def _place_kind(public: bool, on_street: bool) -> PlaceKind:
    if not public:
        return PlaceKind.DWELLING
    return PlaceKind.STREET if on_street else PlaceKind.PUBLIC_PLACE


def _near_hotspots(
    rng: np.random.Generator,
    count: int,
    pattern: CrimePattern,
    hotspots: Sequence[Hotspot],
    districts: Sequence[Polygon],
) -> tuple[np.ndarray, np.ndarray]:
    weights = np.array([pattern.hotspot_kinds.get(spot.kind, 0.0) for spot in hotspots])
    chosen = rng.choice(len(hotspots), size=count, p=weights / weights.sum())
    longitude = np.empty(count)
    latitude = np.empty(count)
    for index in np.unique(chosen):
        mask = chosen == index
        spot = hotspots[int(index)]
        draw = around(spot.longitude, spot.latitude, HOTSPOT_RADIUS_KM)
        longitude[mask], latitude[mask] = points_within(rng, districts, int(mask.sum()), draw)
    return longitude, latitude


def _where_people_live(
    rng: np.random.Generator, count: int, residential: Sequence[ResidentialArea]
) -> tuple[np.ndarray, np.ndarray]:
    populations = np.array([area.population for area in residential], dtype=float)
    chosen = rng.choice(len(residential), size=count, p=populations / populations.sum())
    longitude = np.empty(count)
    latitude = np.empty(count)
    for index, area in enumerate(residential):
        mask = chosen == index
        draw = by_density(area.hubs, area.area, uniform_share=0.2)
        longitude[mask], latitude[mask] = points_within(rng, [area.area], int(mask.sum()), draw)
    return longitude, latitude


def _district_codes(
    longitude: np.ndarray, latitude: np.ndarray, residential: Sequence[ResidentialArea]
) -> list[str]:
    codes = np.full(longitude.shape, "", dtype=object)
    for area in residential:
        codes[shapely.contains_xy(area.area, longitude, latitude)] = area.district_code
    return [str(code) for code in codes]
