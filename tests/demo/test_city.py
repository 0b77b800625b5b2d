"""The demo city: deterministic, Astana-shaped, and statistically like a real city."""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely
from shapely.geometry import Point, Polygon

from safecity.auth.roles import Role
from safecity.city.crime_register import CrimeKind
from safecity.city.models import CameraStatus, OrganizationKind, SiteKind
from safecity.city.schedule import SiteTask, WatchWindow
from safecity.demo.catalogue import CAMERA_VIEWS, CAMERAS_PER_SITE
from safecity.demo.city import DemoCity, build_demo_city
from safecity.demo.crimes import ASTANA_TIME, CAMERA_WAVE, RECORDS_SINCE, RECORDS_UNTIL
from safecity.demo.geography import CENTRE, as_polygon
from safecity.insights.statistics import Change, Period, PeriodKind, rate_ratio

KM_PER_DEGREE = 111.2
REPO = Path(__file__).resolve().parents[2]


def _km(lon_a: float, lat_a: float, lon_b: float, lat_b: float) -> float:
    dx = (lon_a - lon_b) * KM_PER_DEGREE * math.cos(math.radians(lat_a))
    return math.hypot(dx, (lat_a - lat_b) * KM_PER_DEGREE)


def _areas(city: DemoCity) -> dict[str, Polygon]:
    return {district.code: as_polygon(district.geometry) for district in city.districts}


def test_the_same_seed_builds_the_same_city(demo_city: DemoCity) -> None:
    assert build_demo_city() == demo_city


@pytest.mark.slow
def test_the_city_is_the_same_in_another_process(demo_city: DemoCity) -> None:
    """Nothing may depend on the process, e.g. on the order of a set of strings."""
    script = (
        "import hashlib; from safecity.demo.city import build_demo_city; "
        "print(hashlib.sha256(repr(build_demo_city()).encode()).hexdigest())"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(hash_seed), "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for hash_seed in (1, 2)
    }
    assert digests == {hashlib.sha256(repr(demo_city).encode()).hexdigest()}


def test_another_seed_builds_another_city(demo_city: DemoCity) -> None:
    other = build_demo_city(seed=7)
    assert [d.geometry for d in other.districts] == [d.geometry for d in demo_city.districts]
    assert other.cameras != demo_city.cameras


def test_five_astana_districts_with_plausible_populations(demo_city: DemoCity) -> None:
    names = {district.name for district in demo_city.districts}
    assert names == {
        "Almaty district",
        "Baikonyr district",
        "Nura district",
        "Saryarka district",
        "Yesil district",
    }
    assert 1_250_000 <= sum(d.population for d in demo_city.districts) <= 1_450_000
    assert all(120_000 <= d.population <= 450_000 for d in demo_city.districts)


def test_district_polygons_are_valid_and_tile_the_city_without_overlap(
    demo_city: DemoCity,
) -> None:
    areas = _areas(demo_city)
    assert all(area.is_valid and not area.is_empty for area in areas.values())
    for first, second in itertools.combinations(areas.values(), 2):
        assert first.intersection(second).area < 1e-12
    city = shapely.union_all(list(areas.values()))
    assert isinstance(city, Polygon) and not city.interiors  # one piece, no gaps inside
    assert math.isclose(city.area, sum(area.area for area in areas.values()), rel_tol=1e-9)
    assert city.contains(Point(*CENTRE))


def test_old_right_bank_lies_north_of_the_new_left_bank(demo_city: DemoCity) -> None:
    areas = _areas(demo_city)
    right_bank = [areas[code] for code in ("saryarka", "baikonyr", "almaty")]
    left_bank = [areas[code] for code in ("yesil", "nura")]
    assert min(a.centroid.y for a in right_bank) > max(a.centroid.y for a in left_bank)


def test_about_1100_cameras_each_inside_its_district(demo_city: DemoCity) -> None:
    areas = _areas(demo_city)
    assert 1_050 <= len(demo_city.cameras) <= 1_150
    codes = [camera.code for camera in demo_city.cameras]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"AST-\d{5}", code) for code in codes)
    for camera in demo_city.cameras:
        assert areas[camera.district_code].contains(Point(camera.longitude, camera.latitude))


def test_cameras_follow_population(demo_city: DemoCity) -> None:
    per_district = Counter(camera.district_code for camera in demo_city.cameras)
    population = {d.code: d.population for d in demo_city.districts}
    total_people, total_cameras = sum(population.values()), len(demo_city.cameras)
    for code, count in per_district.items():
        assert math.isclose(count / total_cameras, population[code] / total_people, abs_tol=0.01)


def test_cameras_are_denser_in_the_centre(demo_city: DemoCity) -> None:
    city = shapely.union_all(list(_areas(demo_city).values()))
    km2_per_degree2 = KM_PER_DEGREE**2 * math.cos(math.radians(CENTRE[1]))
    central_km2 = math.pi * 4.0**2
    outer_km2 = city.area * km2_per_degree2 - central_km2
    central = sum(_km(c.longitude, c.latitude, *CENTRE) < 4.0 for c in demo_city.cameras)
    outer = len(demo_city.cameras) - central
    assert central / central_km2 > 2 * outer / outer_km2


def test_most_cameras_watch_sites_from_close_by(demo_city: DemoCity) -> None:
    sites = {site.code: site for site in demo_city.sites}
    on_sites = [camera for camera in demo_city.cameras if camera.site_code is not None]
    assert len(on_sites) > len(demo_city.cameras) / 2
    for camera in on_sites:
        site = sites[camera.site_code or ""]
        assert _km(camera.longitude, camera.latitude, site.longitude, site.latitude) < 0.3
        assert camera.name.startswith(site.name)
    assert all(len(CAMERA_VIEWS[kind]) >= most for kind, (_, most) in CAMERAS_PER_SITE.items())


def test_camera_equipment_and_streams_look_real(demo_city: DemoCity) -> None:
    vendors = Counter(camera.vendor for camera in demo_city.cameras)
    assert set(vendors) == {"Hikvision", "Dahua", "Uniview"}
    for camera in demo_city.cameras:
        assert camera.main_stream_url.startswith("rtsp://10.")
        if camera.vendor == "Hikvision":
            assert camera.main_stream_url.endswith("/Streaming/Channels/101")
            assert camera.sub_stream_url.endswith("/Streaming/Channels/102")
    hosts = [camera.main_stream_url.split("/")[2] for camera in demo_city.cameras]
    assert len(set(hosts)) == len(hosts)


def test_cameras_are_mostly_active_and_planned_ones_not_installed(demo_city: DemoCity) -> None:
    statuses = Counter(camera.status for camera in demo_city.cameras)
    assert statuses[CameraStatus.ACTIVE] > 0.9 * len(demo_city.cameras)
    assert statuses[CameraStatus.MAINTENANCE] > 0 and statuses[CameraStatus.PLANNED] > 0
    for camera in demo_city.cameras:
        assert (camera.installed_at is None) == (camera.status is CameraStatus.PLANNED)
    installed = sorted(c.installed_at for c in demo_city.cameras if c.installed_at is not None)
    assert installed[-1] < RECORDS_UNTIL and (installed[-1] - installed[0]).days > 5 * 365


def test_every_site_kind_with_schedule_and_tasks(demo_city: DemoCity) -> None:
    assert 150 <= len(demo_city.sites) <= 300
    assert {site.kind for site in demo_city.sites} == set(SiteKind)
    areas = _areas(demo_city)
    names = [site.name for site in demo_city.sites]
    assert len(set(names)) == len(names)
    for site in demo_city.sites:
        assert areas[site.district_code].contains(Point(site.longitude, site.latitude))
        assert site.schedule and site.tasks and site.address
        for window in site.schedule:
            WatchWindow.model_validate(window)
        for task in site.tasks:
            SiteTask.model_validate(task)


def test_utility_facilities_belong_to_utility_companies(demo_city: DemoCity) -> None:
    kinds = {org.code: org.kind for org in demo_city.organizations}
    facilities = [s for s in demo_city.sites if s.kind is SiteKind.UTILITY_FACILITY]
    owners = {site.owner_code for site in facilities}
    assert len(owners) >= 3
    assert all(owner is not None and kinds[owner] is OrganizationKind.UTILITY for owner in owners)


def test_organizations_and_police_units_cover_the_city(demo_city: DemoCity) -> None:
    akimats = [o for o in demo_city.organizations if o.kind is OrganizationKind.AKIMAT]
    district_codes = {d.code for d in demo_city.districts}
    assert sorted(o.district_code or "" for o in akimats) == ["", *sorted(district_codes)]
    kinds = Counter(o.kind for o in demo_city.organizations)
    assert kinds[OrganizationKind.POLICE] == 1 and kinds[OrganizationKind.OPERATOR_CENTER] == 1
    assert 3 <= kinds[OrganizationKind.UTILITY] <= 4
    covered = [code for unit in demo_city.police_units for code in unit.district_codes]
    assert sorted(covered) == sorted(district_codes)
    fallback = [unit for unit in demo_city.police_units if unit.is_fallback]
    assert len(fallback) == 1 and fallback[0].district_codes == ()


def test_one_login_per_role_linked_as_the_role_needs(demo_city: DemoCity) -> None:
    assert sorted(user.role for user in demo_city.users) == sorted(Role)
    organizations = {org.code: org for org in demo_city.organizations}
    units = {unit.code: unit for unit in demo_city.police_units}
    for user in demo_city.users:
        organization = organizations[user.organization_code or ""]
        if user.role is Role.AKIMAT:
            assert organization.district_code is not None
        if user.role is Role.UTILITY:
            assert organization.kind is OrganizationKind.UTILITY
        if user.role is Role.POLICE_DUTY_OFFICER:
            assert units[user.police_unit_code or ""].district_codes
    assert {user.password for user in demo_city.users} == {"safecity-demo"}


def test_crime_records_span_one_year(demo_city: DemoCity) -> None:
    crimes = demo_city.crimes
    assert 3_000 <= len(crimes) <= 15_000
    assert len({crime.code for crime in crimes}) == len(crimes)
    until = datetime.combine(RECORDS_UNTIL, datetime.min.time(), ASTANA_TIME).astimezone(UTC)
    first, last = crimes[0].occurred_at, crimes[-1].occurred_at
    assert until - timedelta(days=365) <= first < until - timedelta(days=363)
    assert until - timedelta(days=2) < last < until
    assert [c.occurred_at for c in crimes] == sorted(c.occurred_at for c in crimes)
    assert {crime.kind for crime in crimes} == set(CrimeKind)
    areas = _areas(demo_city)
    assert all(areas[c.district_code].contains(Point(c.longitude, c.latitude)) for c in crimes)


def test_violence_happens_at_night_and_fraud_by_day(demo_city: DemoCity) -> None:
    def night_share(kind: CrimeKind) -> float:
        hours = [
            c.occurred_at.astimezone(ASTANA_TIME).hour for c in demo_city.crimes if c.kind is kind
        ]
        return sum(hour >= 20 or hour < 4 for hour in hours) / len(hours)

    assert night_share(CrimeKind.ASSAULT) > 0.5
    assert night_share(CrimeKind.FRAUD) < 0.15


def test_street_crime_gathers_at_hotspots(demo_city: DemoCity) -> None:
    hubs = [
        site
        for site in demo_city.sites
        if site.kind in {SiteKind.MARKET, SiteKind.TRANSPORT_HUB, SiteKind.SQUARE, SiteKind.STREET}
    ]

    def near_hotspot_share(kind: CrimeKind) -> float:
        crimes = [c for c in demo_city.crimes if c.kind is kind]
        near = sum(
            any(_km(c.longitude, c.latitude, s.longitude, s.latitude) < 0.4 for s in hubs)
            for c in crimes
        )
        return near / len(crimes)

    assert near_hotspot_share(CrimeKind.ROBBERY) > 2 * near_hotspot_share(CrimeKind.FRAUD)
    public = [c.place_kind.public for c in demo_city.crimes if c.kind is CrimeKind.HOOLIGANISM]
    private = [c.place_kind.public for c in demo_city.crimes if c.kind is CrimeKind.FRAUD]
    assert sum(public) / len(public) > 0.7 > 0.3 > sum(private) / len(private)


def test_about_half_the_crimes_are_solved_some_days_later(demo_city: DemoCity) -> None:
    solved = [c for c in demo_city.crimes if c.solved_at is not None]
    assert 0.4 < len(solved) / len(demo_city.crimes) < 0.6
    shares = {
        kind: sum(c.solved_at is not None for c in demo_city.crimes if c.kind is kind)
        / sum(c.kind is kind for c in demo_city.crimes)
        for kind in CrimeKind
    }
    assert shares[CrimeKind.ASSAULT] > shares[CrimeKind.THEFT] + 0.1
    assert all(c.occurred_at < c.solved_at for c in solved if c.solved_at)


def test_the_camera_wave_shows_as_a_modest_drop_against_the_other_districts(
    demo_city: DemoCity,
) -> None:
    wave = CAMERA_WAVE
    new = {
        c.district_code
        for c in demo_city.cameras
        if c.installed_at and c.installed_at >= RECORDS_SINCE
    }
    assert new == set(wave.districts)
    assert all(
        wave.since <= c.installed_at <= wave.until
        for c in demo_city.cameras
        if c.installed_at and c.installed_at >= RECORDS_SINCE
    )

    def public(treated: bool, quarter: str) -> int:
        return sum(
            c.place_kind.public
            and (c.district_code in wave.districts) == treated
            and Period.of(PeriodKind.QUARTER, c.occurred_at, ASTANA_TIME).label == quarter
            for c in demo_city.crimes
        )

    ratio = rate_ratio(
        Change(public(True, "2026-Q1"), public(True, "2026-Q3")),
        Change(public(False, "2026-Q1"), public(False, "2026-Q3")),
    )
    assert ratio.irr is not None and 0.75 < ratio.irr < 0.95
