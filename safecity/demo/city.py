"""The demo city, built in memory: an Astana-like capital of about 1.35 million people.

Five districts, the organizations that run and police them, a few hundred sites of every kind,
about 1,100 cameras spread the way a real programme spreads them (most on sites, the rest on
streets, denser where people live), a year of crime records and one login per role.

Pure and deterministic: everything random is drawn from ``numpy.random.default_rng(seed)``,
so two builds with the same seed are equal; no database, no files.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from shapely.geometry import Polygon

from safecity.auth.roles import Role
from safecity.city.models import CameraStatus, OrganizationKind, SiteKind
from safecity.demo.catalogue import (
    CAMERA_MODELS,
    CAMERA_VIEWS,
    CAMERAS_PER_SITE,
    CITY_OWNED,
    DISTRICT_OWNED,
    LANDMARKS,
    NAMES,
    SCHEDULES,
    SITE_SPREAD,
    SITES_PER_100K,
    STATUS_SHARES,
    STREETS,
    TASKS,
    TEMPLATES,
    UTILITIES,
)
from safecity.demo.crimes import (
    CAMERA_WAVE,
    RECORDS_SINCE,
    DemoCrime,
    Hotspot,
    ResidentialArea,
    generate_crimes,
    with_near_repeats,
)
from safecity.demo.geography import (
    DISTRICT_PLANS,
    DistrictPlan,
    around,
    as_polygon,
    by_density,
    district_geometries,
    points_within,
)

DEFAULT_SEED = 2026
DEMO_PASSWORD = "safecity-demo"
CAMERA_COUNT = 1_100
CAMERAS_INSTALLED_SINCE = date(2019, 3, 1)
CAMERAS_INSTALLED_UNTIL = date(2026, 9, 30)
SITE_CAMERA_RADIUS_KM = 0.04


@dataclass(frozen=True)
class DemoDistrict:
    code: str
    name: str
    population: int
    geometry: dict[str, Any]
    """GeoJSON Polygon, WGS 84 lon/lat."""


@dataclass(frozen=True)
class DemoOrganization:
    code: str
    name: str
    kind: OrganizationKind
    district_code: str | None
    city_wide: bool = False


@dataclass(frozen=True)
class DemoPoliceUnit:
    code: str
    name: str
    organization_code: str
    phone: str
    district_codes: tuple[str, ...]
    is_fallback: bool


@dataclass(frozen=True)
class DemoSite:
    code: str
    name: str
    kind: SiteKind
    address: str
    latitude: float
    longitude: float
    district_code: str
    owner_code: str | None
    schedule: tuple[dict[str, Any], ...]
    """WatchWindow dicts, as stored."""
    tasks: tuple[dict[str, Any], ...]
    """SiteTask dicts, as stored."""


@dataclass(frozen=True)
class DemoCamera:
    code: str
    name: str
    address: str
    latitude: float
    longitude: float
    district_code: str
    site_code: str | None
    main_stream_url: str
    sub_stream_url: str
    status: CameraStatus
    installed_at: date | None
    vendor: str
    model: str
    firmware: str


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: Role
    password: str
    organization_code: str | None
    police_unit_code: str | None
    sees: str
    """What this login is for, in the words the demo prints."""


@dataclass(frozen=True)
class DemoCity:
    seed: int
    districts: tuple[DemoDistrict, ...]
    organizations: tuple[DemoOrganization, ...]
    police_units: tuple[DemoPoliceUnit, ...]
    sites: tuple[DemoSite, ...]
    cameras: tuple[DemoCamera, ...]
    crimes: tuple[DemoCrime, ...]
    users: tuple[DemoUser, ...]


# --- organizations -----------------------------------------------------------------------------

CITY_AKIMAT = "akimat-astana"
POLICE_DEPARTMENT = "police-astana"
OPERATOR_CENTER = "occ-astana"
FALLBACK_POLICE_UNIT = "police-city-duty"


def _akimat_code(district_code: str) -> str:
    return f"akimat-{district_code}"


def _police_unit_code(district_code: str) -> str:
    return f"police-{district_code}"


def _organizations() -> tuple[DemoOrganization, ...]:
    city_wide = [
        DemoOrganization(
            CITY_AKIMAT, "Akimat of Astana", OrganizationKind.AKIMAT, None, city_wide=True
        ),
        DemoOrganization(
            POLICE_DEPARTMENT, "Police Department of Astana", OrganizationKind.POLICE, None
        ),
        DemoOrganization(
            OPERATOR_CENTER,
            "Astana Operations Control Center",
            OrganizationKind.OPERATOR_CENTER,
            None,
        ),
    ]
    akimats = [
        DemoOrganization(
            _akimat_code(plan.code), f"Akimat of {plan.name}", OrganizationKind.AKIMAT, plan.code
        )
        for plan in DISTRICT_PLANS
    ]
    utilities = [
        DemoOrganization(utility.code, utility.name, OrganizationKind.UTILITY, None)
        for utility in UTILITIES
    ]
    return (*city_wide, *akimats, *utilities)


def _police_units() -> tuple[DemoPoliceUnit, ...]:
    units = [
        DemoPoliceUnit(
            code=_police_unit_code(plan.code),
            name=f"{plan.name.removesuffix(' district')} District Police Division",
            organization_code=POLICE_DEPARTMENT,
            phone=f"+7 7172 {71 + number}-02-02",
            district_codes=(plan.code,),
            is_fallback=False,
        )
        for number, plan in enumerate(DISTRICT_PLANS)
    ]
    fallback = DemoPoliceUnit(
        code=FALLBACK_POLICE_UNIT,
        name="City Duty Unit",
        organization_code=POLICE_DEPARTMENT,
        phone="+7 7172 70-02-02",
        district_codes=(),
        is_fallback=True,
    )
    return (*units, fallback)


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Demo Administrator", Role.ADMIN, DEMO_PASSWORD, OPERATOR_CENTER, None,
             "whole city; registry and users"),
    DemoUser("operator", "Aigerim Operator", Role.OPERATOR, DEMO_PASSWORD, OPERATOR_CENTER, None,
             "whole city: live view, alerts"),
    DemoUser("analyst", "Daniyar Analyst", Role.ANALYST, DEMO_PASSWORD, OPERATOR_CENTER, None,
             "whole city: crime statistics"),
    DemoUser("akimat.yesil", "Yesil Akimat Officer", Role.AKIMAT, DEMO_PASSWORD, _akimat_code("yesil"),
             None, "Yesil district only"),
    DemoUser("police.saryarka", "Saryarka Duty Officer", Role.POLICE_DUTY_OFFICER, DEMO_PASSWORD,
             POLICE_DEPARTMENT, _police_unit_code("saryarka"), "Saryarka district (their unit)"),
    DemoUser("utility.water", "Water Utility Dispatcher", Role.UTILITY, DEMO_PASSWORD, UTILITIES[0].code,
             None, "the water utility's sites only"),
)  # fmt: skip


# --- building ----------------------------------------------------------------------------------


def build_demo_city(seed: int = DEFAULT_SEED) -> DemoCity:
    """The whole demo city for ``seed``; equal for equal seeds."""
    # A new stream is spawned last: those before it draw as they did before it came.
    site_rng, camera_rng, crime_rng, repeat_rng = np.random.default_rng(seed).spawn(4)
    geometries = district_geometries()
    districts = tuple(
        DemoDistrict(plan.code, plan.name, plan.population, geometries[plan.code])
        for plan in DISTRICT_PLANS
    )
    areas = {district.code: as_polygon(district.geometry) for district in districts}
    sites = _sites(site_rng, areas)
    cameras = _cameras(camera_rng, areas, sites)
    residential = [
        ResidentialArea(plan.code, plan.population, plan.hubs, areas[plan.code])
        for plan in DISTRICT_PLANS
    ]
    hotspots = [
        Hotspot(site.kind, site.longitude, site.latitude)
        for site in sites
        if site.kind in {SiteKind.MARKET, SiteKind.TRANSPORT_HUB, SiteKind.SQUARE, SiteKind.STREET}
    ]
    return DemoCity(
        seed=seed,
        districts=districts,
        organizations=_organizations(),
        police_units=_police_units(),
        sites=sites,
        cameras=cameras,
        crimes=with_near_repeats(
            repeat_rng, generate_crimes(crime_rng, residential, hotspots), residential
        ),
        users=DEMO_USERS,
    )


class _SiteNamer:
    """Names each new site, unique in the city, and says who owns it.

    A site takes the district's landmarks of its kind first, then the city-wide names, then
    the kind's templates, numbered; utility facilities go to the companies in turn.
    """

    def __init__(self) -> None:
        self._numbers: Counter[str] = Counter()
        self._taken: set[str] = set()

    def name_and_owner(
        self, kind: SiteKind, district_code: str, street: str, address: str
    ) -> tuple[str, str | None]:
        if kind is SiteKind.UTILITY_FACILITY:
            utility = UTILITIES[(self._next("utility") - 1) % len(UTILITIES)]
            number = self._next(utility.code)
            template = utility.facilities[number % len(utility.facilities)]
            return self._take(template.format(n=number)), utility.code
        return self._name(kind, district_code, street, address), _site_owner(kind, district_code)

    def _name(self, kind: SiteKind, district_code: str, street: str, address: str) -> str:
        for name in (*LANDMARKS.get(district_code, {}).get(kind, ()), *NAMES.get(kind, ())):
            if name not in self._taken:
                return self._take(name)
        number = self._next(kind.value)
        template = TEMPLATES[kind][number % len(TEMPLATES[kind])]
        return self._take(template.format(n=number, street=street, address=address))

    def _next(self, series: str) -> int:
        self._numbers[series] += 1
        return self._numbers[series]

    def _take(self, name: str) -> str:
        unique, copy = name, 1
        while unique in self._taken:
            copy += 1
            unique = f"{name} {copy}"
        self._taken.add(unique)
        return unique


def _address(rng: np.random.Generator, district_code: str) -> tuple[str, str]:
    """A street of the district and an address on it."""
    street = str(rng.choice(STREETS[district_code]))
    return street, f"{street}, {int(rng.integers(1, 120))}"


def _site_owner(kind: SiteKind, district_code: str) -> str | None:
    if kind in DISTRICT_OWNED:
        return _akimat_code(district_code)
    if kind in CITY_OWNED:
        return CITY_AKIMAT
    return None


def _sites(rng: np.random.Generator, areas: dict[str, Polygon]) -> tuple[DemoSite, ...]:
    namer = _SiteNamer()
    sites: list[DemoSite] = []
    for plan in DISTRICT_PLANS:
        area = areas[plan.code]
        for kind, per_100k in SITES_PER_100K.items():
            count = max(1, round(per_100k * plan.population / 100_000))
            draw = by_density(plan.hubs, area, SITE_SPREAD[kind])
            longitudes, latitudes = points_within(rng, [area], count, draw)
            for longitude, latitude in zip(longitudes, latitudes, strict=True):
                street, address = _address(rng, plan.code)
                name, owner = namer.name_and_owner(kind, plan.code, street, address)
                sites.append(
                    DemoSite(
                        code=f"SITE-{len(sites) + 1:04d}",
                        name=name,
                        kind=kind,
                        address=address,
                        latitude=float(latitude),
                        longitude=float(longitude),
                        district_code=plan.code,
                        owner_code=owner,
                        schedule=SCHEDULES[kind],
                        tasks=TASKS[kind],
                    )
                )
    return tuple(sites)


def _cameras_per_district() -> dict[str, int]:
    """CAMERA_COUNT shared out by population (largest remainders), so the total is exact."""
    total_population = sum(plan.population for plan in DISTRICT_PLANS)
    exact = {
        plan.code: CAMERA_COUNT * plan.population / total_population for plan in DISTRICT_PLANS
    }
    counts = {code: int(share) for code, share in exact.items()}
    by_remainder = sorted(exact, key=lambda code: (counts[code] - exact[code], code))
    for code in by_remainder[: CAMERA_COUNT - sum(counts.values())]:
        counts[code] += 1
    return counts


@dataclass(frozen=True)
class _Placement:
    """Where one camera goes before its equipment is chosen."""

    name: str
    address: str
    longitude: float
    latitude: float
    site_code: str | None


def _placements(
    rng: np.random.Generator, plan: DistrictPlan, area: Polygon, sites: list[DemoSite], count: int
) -> list[_Placement]:
    placements: list[_Placement] = []
    for site in sites:
        fewest, most = CAMERAS_PER_SITE[site.kind]
        views = CAMERA_VIEWS[site.kind][: int(rng.integers(fewest, most + 1))]
        draw = around(site.longitude, site.latitude, SITE_CAMERA_RADIUS_KM)
        longitudes, latitudes = points_within(rng, [area], len(views), draw)
        placements.extend(
            _Placement(f"{site.name}: {view}", site.address, float(x), float(y), site.code)
            for view, x, y in zip(views, longitudes, latitudes, strict=True)
        )
    on_streets = count - len(placements)
    if on_streets < 0:
        raise ValueError(f"{plan.name}: its sites need more cameras than the district gets")
    longitudes, latitudes = points_within(
        rng, [area], on_streets, by_density(plan.hubs, area, 0.15)
    )
    for longitude, latitude in zip(longitudes, latitudes, strict=True):
        street, address = _address(rng, plan.code)
        crossing = str(rng.choice([other for other in STREETS[plan.code] if other != street]))
        placements.append(
            _Placement(f"{street} / {crossing}", address, float(longitude), float(latitude), None)
        )
    return placements


def _installed_at(rng: np.random.Generator, district_code: str) -> date:
    """Installation dates thicken towards the present, as the programme grew. While the crime
    records run, only the camera wave's districts get cameras, all within the wave
    (``crimes.CAMERA_WAVE``): elsewhere a date in that year moves a year back."""
    span = (CAMERAS_INSTALLED_UNTIL - CAMERAS_INSTALLED_SINCE).days
    installed = CAMERAS_INSTALLED_SINCE + timedelta(days=int(rng.triangular(0, span, span)))
    if installed < RECORDS_SINCE:
        return installed
    if district_code not in CAMERA_WAVE.districts:
        return installed - timedelta(days=365)
    wave_days = (CAMERA_WAVE.until - CAMERA_WAVE.since).days + 1
    return CAMERA_WAVE.since + timedelta(days=(installed - RECORDS_SINCE).days % wave_days)


def _cameras(
    rng: np.random.Generator, areas: dict[str, Polygon], sites: tuple[DemoSite, ...]
) -> tuple[DemoCamera, ...]:
    statuses = list(STATUS_SHARES)
    status_p = np.array(list(STATUS_SHARES.values()))
    model_p = np.array([model.share for model in CAMERA_MODELS])
    counts = _cameras_per_district()
    cameras: list[DemoCamera] = []
    for district_number, plan in enumerate(DISTRICT_PLANS):
        district_sites = [site for site in sites if site.district_code == plan.code]
        placements = _placements(rng, plan, areas[plan.code], district_sites, counts[plan.code])
        for index, place in enumerate(placements):
            model = CAMERA_MODELS[int(rng.choice(len(CAMERA_MODELS), p=model_p))]
            status = statuses[int(rng.choice(len(statuses), p=status_p))]
            host = f"10.{20 + district_number}.{index // 250}.{index % 250 + 2}:554"
            cameras.append(
                DemoCamera(
                    code=f"AST-{len(cameras) + 1:05d}",
                    name=place.name,
                    address=place.address,
                    latitude=place.latitude,
                    longitude=place.longitude,
                    district_code=plan.code,
                    site_code=place.site_code,
                    main_stream_url=f"rtsp://{host}{model.main_path}",
                    sub_stream_url=f"rtsp://{host}{model.sub_path}",
                    status=status,
                    installed_at=(
                        None if status is CameraStatus.PLANNED else _installed_at(rng, plan.code)
                    ),
                    vendor=model.vendor,
                    model=model.model,
                    firmware=str(rng.choice(model.firmwares)),
                )
            )
    return tuple(cameras)
