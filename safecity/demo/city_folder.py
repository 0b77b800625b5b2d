"""The demo city as a city folder: the same files a real city imports with `safecity city import`.

Pure: a ``DemoCity`` in, file name → bytes out. The demo writes these files into its data
folder and imports them with the city folder's own reading, checking and writing, so every
demo start exercises the path a real city takes (and leaves an example folder to copy).
"""

from __future__ import annotations

from safecity.city.folder.checks import CityDescription
from safecity.city.folder.description import (
    DistrictEntry,
    OrganizationEntry,
    PoliceUnitEntry,
    SiteEntry,
)
from safecity.city.folder.writing import city_files
from safecity.city.registry.records import CameraRecord
from safecity.city.registry.writing import to_csv
from safecity.demo.city import DemoCity
from safecity.ops.incident_types.file import FILE_NAME as INCIDENT_TYPES_FILE
from safecity.ops.incident_types.file import default_incident_types, serialise_incident_types

CAMERAS_FILE = "cameras.csv"


def demo_city_files(city: DemoCity) -> dict[str, bytes]:
    description = CityDescription(
        districts=tuple(
            DistrictEntry("", d.code, d.name, d.population, d.geometry) for d in city.districts
        ),
        organizations=tuple(
            OrganizationEntry("", o.code, o.name, o.kind, o.district_code, o.city_wide)
            for o in city.organizations
        ),
        police_units=tuple(
            PoliceUnitEntry(
                "", u.code, u.name, u.organization_code, u.phone, u.district_codes, u.is_fallback
            )
            for u in city.police_units
        ),
        sites=tuple(
            SiteEntry(
                where="",
                code=s.code,
                name=s.name,
                kind=s.kind,
                address=s.address,
                latitude=s.latitude,
                longitude=s.longitude,
                area=None,
                owner_code=s.owner_code,
                schedule=s.schedule,
                tasks=s.tasks,
                retention_days=None,
                retention_bytes=None,
            )
            for s in city.sites
        ),
    )
    files = city_files(description)
    files[INCIDENT_TYPES_FILE] = serialise_incident_types(default_incident_types())
    numbers = {district.code: number for number, district in enumerate(city.districts)}
    files[CAMERAS_FILE] = to_csv(
        (
            CameraRecord(
                code=c.code,
                name=c.name,
                latitude=c.latitude,
                longitude=c.longitude,
                district_id=numbers[c.district_code],
                main_stream_url=c.main_stream_url,
                address=c.address,
                site_code=c.site_code,
                sub_stream_url=c.sub_stream_url,
                status=c.status,
                installed_at=c.installed_at,
                vendor=c.vendor,
                model=c.model,
                firmware=c.firmware,
            )
            for c in city.cameras
        ),
        {number: district.name for number, district in enumerate(city.districts)},
    ).encode()
    return files
