"""The demo's camera requests: about thirty from the district akimats, the city akimat and the
police, at places where the year's crimes cluster or by the sites people complain about, in
every status; the installed ones linked to the camera that was put up for them.

Pure and deterministic: drawn from the city's seed, no database. The analyst and the
placement optimiser compare these with the crime figures, as the programme office would.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import shapely

from safecity.city.crime_register import CrimeKind
from safecity.city.models import CameraStatus, SiteKind
from safecity.demo.city import (
    CITY_AKIMAT,
    POLICE_DEPARTMENT,
    DemoCamera,
    DemoCity,
    DemoSite,
)
from safecity.demo.crimes import DemoCrime
from safecity.demo.geography import around, as_polygon, points_within
from safecity.planning.requests.models import RequestStatus, Urgency
from safecity.planning.requests.workflow import request_number

REQUEST_YEAR = 2026
FIRST_SUBMITTED = date(2026, 1, 12)
LAST_SUBMITTED = date(2026, 10, 28)
GAP_KM = 0.12
"""How far from a site a requested camera goes: where the site's own cameras do not see."""

_S = RequestStatus
# In order of submission: the oldest are decided (and some installed), the newest wait.
_STATUSES: tuple[RequestStatus, ...] = (
    (_S.INSTALLED,) * 5
    + (_S.REJECTED, _S.APPROVED, _S.REJECTED, _S.APPROVED, _S.REJECTED, _S.APPROVED)
    + (_S.APPROVED, _S.REJECTED, _S.UNDER_REVIEW, _S.APPROVED, _S.REJECTED, _S.UNDER_REVIEW)
    + (_S.UNDER_REVIEW,) * 5
    + (_S.SUBMITTED,) * 10
)
"""32 requests."""

_SITE_REASONS: dict[SiteKind, str] = {
    SiteKind.MARKET: "Pickpocketing and bag snatching at the {name} car park entrance; "
    "traders' association asks for a camera over the car park, which no camera sees.",
    SiteKind.TRANSPORT_HUB: "Robberies at night at the {name} taxi rank and the underpass "
    "beside it; the platform cameras do not see the underpass exit.",
    SiteKind.YARD: "Residents of {address} report car break-ins and vandalism in the "
    "courtyard since spring; 46 signatures attached.",
    SiteKind.SCHOOL: "Parents' committee of {name}: drug dealing reported at the back gate "
    "after classes; the school's own camera faces the front entrance only.",
    SiteKind.PARK: "Unlit path across {name}: two assaults since May; lighting is being "
    "added this year, a camera is asked for with it.",
    SiteKind.SQUARE: "Fights on weekend nights at the edge of {name}; patrols arrive after "
    "the fact and there is no recording to identify anyone.",
    SiteKind.STREET: "Street robberies after midnight on {name} near the late bars; the "
    "nearest camera is at the next crossing.",
}
_CRIME_REASON = (
    "{count} crimes in public places registered within 150 m in the last year "
    "(police statistics, mostly {kind}); no camera sees the spot."
)
_POLICE_REASON = (
    "District police division: {count} street crimes within 150 m in the last year, mostly "
    "{kind}, most of them at night; a camera would give the duty unit eyes on the spot."
)
_FEW_CRIMES_REASON = (
    "Residents' complaints and 102 calls about groups drinking and fighting here at night; "
    "{count} crimes registered within 150 m in the last year."
)
_APPROVALS = (
    "In the 2027 installation plan.",
    None,
    "Approved: covers a hotspot the analysis confirms.",
)
_REJECTIONS = (
    "A camera within 40 m already covers the spot; its view was shown to the akimat.",
    "A private yard: the management company installs its own camera and connects it.",
    "Not supported by the figures: two registered crimes within 150 m in a year.",
    "The same place as an approved request; merged with it.",
    "No power or fibre at the pole; resubmit with the street-lighting works in 2027.",
)
_CRIME_WORDS = {
    CrimeKind.THEFT: "thefts",
    CrimeKind.ROBBERY: "robberies",
    CrimeKind.HOOLIGANISM: "hooliganism",
    CrimeKind.ASSAULT: "assaults",
    CrimeKind.DRUGS: "drug offences",
    CrimeKind.VANDALISM: "vandalism",
    CrimeKind.FRAUD: "fraud",
}


@dataclass(frozen=True)
class DemoRequest:
    number: str
    organization_code: str
    district_code: str
    latitude: float
    longitude: float
    address: str | None
    site_code: str | None
    justification: str
    urgency: Urgency
    status: RequestStatus
    submitted_at: datetime
    submitted_by: str | None
    """The demo login that submitted it, where the demo has one."""
    decision_reason: str | None = None
    decided_at: datetime | None = None
    camera_code: str | None = None
    installed_at: datetime | None = None


@dataclass(frozen=True)
class _Ask:
    organization_code: str
    district_code: str
    submitted_by: str | None


def _asks(city: DemoCity) -> list[_Ask]:
    """Who asks where: each district akimat four times, the police eight, the city akimat
    four; Saryarka's police requests come from the demo's duty officer, Yesil's akimat ones
    from the demo's akimat officer."""
    logins = {(user.organization_code, user.police_unit_code): user.username for user in city.users}
    asks: list[_Ask] = []
    for district in city.districts:
        akimat = f"akimat-{district.code}"
        asks += [_Ask(akimat, district.code, logins.get((akimat, None)))] * 4
    police_login = next(
        (user.username for user in city.users if user.police_unit_code == "police-saryarka"),
        None,
    )
    for code in (
        "almaty",
        "saryarka",
        "saryarka",
        "baikonyr",
        "yesil",
        "saryarka",
        "nura",
        "almaty",
    ):
        asks.append(_Ask(POLICE_DEPARTMENT, code, police_login if code == "saryarka" else None))
    asks += [_Ask(CITY_AKIMAT, code, None) for code in ("almaty", "yesil", "baikonyr", "nura")]
    return asks


def demo_requests(city: DemoCity) -> tuple[DemoRequest, ...]:
    """The demo's requests, numbered REQ-2026-00001… in the order they were submitted."""
    rng = np.random.default_rng([city.seed, 13])
    asks = _asks(city)
    assert len(asks) == len(_STATUSES), "one status per request"
    days = (LAST_SUBMITTED - FIRST_SUBMITTED).days
    offsets = sorted(int(day) for day in rng.choice(days, size=len(asks), replace=False))
    recent = _recent_cameras(city)
    order = _installable_first(rng.permutation(len(asks)).tolist(), asks, recent)
    areas = {district.code: as_polygon(district.geometry) for district in city.districts}
    for area in areas.values():
        shapely.prepare(area)
    used_cameras: set[str] = set()
    requests: list[DemoRequest] = []
    for position, (offset, index) in enumerate(zip(offsets, order, strict=True)):
        ask = asks[int(index)]
        status = _STATUSES[position]
        submitted = datetime.combine(
            FIRST_SUBMITTED + timedelta(days=offset), time(4 + int(rng.integers(0, 8))), UTC
        )
        urgency = Urgency(str(rng.choice([u.value for u in Urgency], p=[0.15, 0.45, 0.3, 0.1])))
        camera = (
            _installed_for(recent[ask.district_code], used_cameras, submitted.date())
            if status is RequestStatus.INSTALLED
            else None
        )
        if status is RequestStatus.INSTALLED and camera is None:
            status = RequestStatus.APPROVED
        place = _place(rng, city, ask, areas, camera)
        number = request_number(REQUEST_YEAR, position + 1)
        decided = submitted + timedelta(days=int(rng.integers(20, 50)))
        fields: dict[str, object] = {}
        if status in (RequestStatus.APPROVED, RequestStatus.INSTALLED):
            fields = {
                "decision_reason": _APPROVALS[position % len(_APPROVALS)],
                "decided_at": decided,
            }
        elif status is RequestStatus.REJECTED:
            fields = {
                "decision_reason": _REJECTIONS[position % len(_REJECTIONS)],
                "decided_at": decided,
            }
        if camera is not None:
            assert camera.installed_at is not None
            used_cameras.add(camera.code)
            fields["camera_code"] = camera.code
            fields["installed_at"] = datetime.combine(camera.installed_at, time(9), UTC)
        requests.append(
            DemoRequest(
                number=number,
                organization_code=ask.organization_code,
                district_code=ask.district_code,
                latitude=place[0],
                longitude=place[1],
                address=place[2],
                site_code=place[3],
                justification=place[4],
                urgency=urgency,
                status=status,
                submitted_at=submitted,
                submitted_by=ask.submitted_by,
                **fields,  # type: ignore[arg-type]
            )
        )
    return tuple(requests)


def _installable_first(
    order: list[int], asks: list[_Ask], recent: dict[str, list[DemoCamera]]
) -> list[int]:
    """``order`` with each request that is to be installed moved onto a district that put up
    cameras this year (only some did: the camera wave), swapping it with a later one."""
    order = list(order)
    for position, status in enumerate(_STATUSES):
        if status is not RequestStatus.INSTALLED or recent[asks[order[position]].district_code]:
            continue
        later = next(
            (
                other
                for other in range(position + 1, len(order))
                if _STATUSES[other] is not RequestStatus.INSTALLED
                and recent[asks[order[other]].district_code]
            ),
            None,
        )
        if later is not None:
            order[position], order[later] = order[later], order[position]
    return order


def _installed_for(cameras: list[DemoCamera], used: set[str], submitted: date) -> DemoCamera | None:
    """A camera put up at least two months after the request, not yet another's."""
    return next(
        (
            camera
            for camera in cameras
            if camera.code not in used
            and camera.installed_at is not None
            and camera.installed_at > submitted + timedelta(days=60)
        ),
        None,
    )


def _recent_cameras(city: DemoCity) -> dict[str, list[DemoCamera]]:
    """Each district's cameras put up this year, off the sites (a requested street camera),
    the latest first."""
    by_district: dict[str, list[DemoCamera]] = {d.code: [] for d in city.districts}
    for camera in city.cameras:
        if (
            camera.status is CameraStatus.ACTIVE
            and camera.installed_at is not None
            and camera.installed_at.year == REQUEST_YEAR
            and camera.site_code is None
        ):
            by_district[camera.district_code].append(camera)
    for cameras in by_district.values():
        cameras.sort(key=lambda c: (c.installed_at, c.code), reverse=True)
    return by_district


def _place(
    rng: np.random.Generator,
    city: DemoCity,
    ask: _Ask,
    areas: dict[str, shapely.Polygon],
    camera: DemoCamera | None,
) -> tuple[float, float, str | None, str | None, str]:
    """(latitude, longitude, address, site code, justification) of one request: at the
    installed camera's place, by a site people complain about, or where crimes cluster."""
    area = areas[ask.district_code]
    crimes = [
        crime
        for crime in city.crimes
        if crime.district_code == ask.district_code and crime.place_kind.public
    ]
    if camera is not None:
        x, y = points_within(rng, [area], 1, around(camera.longitude, camera.latitude, 0.01))
        return (
            float(y[0]),
            float(x[0]),
            camera.address,
            None,
            _crime_reason(ask, crimes, float(y[0]), float(x[0])),
        )
    sites = [
        site
        for site in city.sites
        if site.district_code == ask.district_code and site.kind in _SITE_REASONS
    ]
    if sites and (
        not crimes or (ask.organization_code != POLICE_DEPARTMENT and rng.random() < 0.5)
    ):
        site: DemoSite = sites[int(rng.integers(0, len(sites)))]
        x, y = points_within(rng, [area], 1, around(site.longitude, site.latitude, GAP_KM))
        reason = _SITE_REASONS[site.kind].format(name=site.name, address=site.address)
        return float(y[0]), float(x[0]), site.address, site.code, reason
    if crimes:
        hotspot = crimes[int(rng.integers(0, len(crimes)))]
        x, y = points_within(rng, [area], 1, around(hotspot.longitude, hotspot.latitude, 0.03))
    else:  # a city built without crimes or sites (the tests' small ones)
        inside = area.representative_point()
        x, y = points_within(rng, [area], 1, around(inside.x, inside.y, 0.2))
    latitude, longitude = float(y[0]), float(x[0])
    return latitude, longitude, None, None, _crime_reason(ask, crimes, latitude, longitude)


def _crime_reason(ask: _Ask, crimes: list[DemoCrime], latitude: float, longitude: float) -> str:
    near = [
        crime
        for crime in crimes
        if abs(crime.latitude - latitude) < 0.00135 and abs(crime.longitude - longitude) < 0.00215
    ]
    kinds = Counter(crime.kind for crime in near)
    kind = _CRIME_WORDS.get(kinds.most_common(1)[0][0], "thefts") if kinds else "thefts"
    if len(near) < 5:
        # What people feel and what the register holds can differ: the analyst should see it.
        return _FEW_CRIMES_REASON.format(count=len(near))
    template = _POLICE_REASON if ask.organization_code == POLICE_DEPARTMENT else _CRIME_REASON
    return template.format(count=len(near), kind=kind)
