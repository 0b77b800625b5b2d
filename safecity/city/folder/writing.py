"""A city description written as the folder's files: the form ``safecity city export`` writes
and an import reads back unchanged. Pure: entries in, bytes out, each kind ordered by code."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from safecity.city.folder.checks import CityDescription
from safecity.city.folder.description import (
    DISTRICT_LAYOUT,
    DISTRICTS_FILE,
    ORGANIZATION_LAYOUT,
    ORGANIZATIONS_FILE,
    POLICE_UNIT_LAYOUT,
    POLICE_UNITS_FILE,
    SITE_LAYOUT,
    SITES_CSV_FILE,
    SITES_GEOJSON_FILE,
    SiteEntry,
)
from safecity.city.folder.tables import csv_text, feature_collection


class AreasInCsvError(ValueError):
    """Sites drawn as areas cannot be written to sites.csv, which has a point per site."""


def city_files(description: CityDescription, *, sites_as_csv: bool = False) -> dict[str, bytes]:
    """File name → content for every file of the folder but the cameras (the registry's)."""
    districts = feature_collection(
        [
            {
                "type": "Feature",
                "properties": {name: getattr(district, name) for name in DISTRICT_LAYOUT.fields},
                "geometry": district.geometry,
            }
            for district in sorted(description.districts, key=lambda d: d.code)
        ]
    )
    organizations = csv_text(
        ORGANIZATION_LAYOUT,
        [
            {
                "code": o.code,
                "name": o.name,
                "kind": o.kind.value,
                "district": o.district_code,
                "city_wide": o.city_wide,
                "active": o.active,
            }
            for o in sorted(description.organizations, key=lambda o: o.code)
        ],
    )
    units = csv_text(
        POLICE_UNIT_LAYOUT,
        [
            {
                "code": u.code,
                "name": u.name,
                "organization": u.organization_code,
                "phone": u.phone,
                # Spaces, not commas: no quoting whatever separator the file's reader expects.
                "districts": " ".join(u.district_codes),
                "fallback": u.fallback,
                "active": u.active,
            }
            for u in sorted(description.police_units, key=lambda u: u.code)
        ],
    )
    sites = sorted(description.sites, key=lambda s: s.code)
    files = {
        DISTRICTS_FILE: districts,
        ORGANIZATIONS_FILE: organizations,
        POLICE_UNITS_FILE: units,
    }
    if sites_as_csv:
        drawn = [site.code for site in sites if site.area is not None]
        if drawn:
            raise AreasInCsvError(
                f"{len(drawn)} sites are drawn as areas ({', '.join(drawn[:5])}…), which "
                f"{SITES_CSV_FILE} cannot hold: write {SITES_GEOJSON_FILE}"
            )
        files[SITES_CSV_FILE] = csv_text(SITE_LAYOUT, [_site_cells(site) for site in sites])
    else:
        files[SITES_GEOJSON_FILE] = feature_collection([_site_feature(site) for site in sites])
    return files


def _site_values(site: SiteEntry) -> dict[str, Any]:
    return {
        "code": site.code,
        "name": site.name,
        "kind": site.kind.value,
        "address": site.address,
        "owner": site.owner_code,
        "schedule": list(site.schedule),
        "tasks": list(site.tasks),
        "retention_days": site.retention_days,
        "retention_bytes": site.retention_bytes,
        "active": site.active,
    }


def _site_feature(site: SiteEntry) -> Mapping[str, object]:
    geometry = (
        site.area
        if site.area is not None
        else {"type": "Point", "coordinates": [site.longitude, site.latitude]}
    )
    return {"type": "Feature", "properties": _site_values(site), "geometry": geometry}


def _site_cells(site: SiteEntry) -> dict[str, object]:
    values: dict[str, object] = {
        **_site_values(site),
        "latitude": site.latitude,
        "longitude": site.longitude,
    }
    for name in ("schedule", "tasks"):
        items = values[name]
        values[name] = json.dumps(items, ensure_ascii=False) if items else None
    return values
