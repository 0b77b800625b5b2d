"""A small city written as a city folder, for the tests of `safecity city` and of the deploying
guide: West and East, their akimats and police units, a water company, a yard and a pump."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from tests.factories import EAST, WEST, square

# A yard drawn as an area inside West, well clear of the border at lon 71.40.
YARD = square((71.32, 51.12, 71.33, 51.13))


def feature_collection(features: list[dict[str, Any]]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def district(
    code: str, name: str, geometry: dict[str, Any], population: int | None = None
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "population": population},
        "geometry": geometry,
    }


def table(*rows: tuple[object, ...]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def write_city(folder: Path, **replace: str) -> Path:
    """A small city: West and East, their akimats, the city akimat, police with a unit per
    district and a fallback, a water company, a yard (an area) and a park (a point), and a
    camera at each site and one on a street in East. ``replace`` swaps a file's text."""
    files = {
        "districts.geojson": feature_collection(
            [
                district("west", "West district", square(WEST), 120_000),
                district("east", "East district", square(EAST), 95_000),
            ]
        ),
        "organizations.csv": table(
            ("code", "name", "kind", "district", "city_wide"),
            ("akimat-city", "City Akimat", "akimat", "", "yes"),
            ("akimat-west", "West Akimat", "akimat", "west", "no"),
            ("akimat-east", "East Akimat", "akimat", "east", "no"),
            ("police", "City Police", "police", "", "no"),
            ("water", "Water Utility", "utility", "", "no"),
            ("occ", "Operations Centre", "operator_center", "", "no"),
        ),
        "police_units.csv": table(
            ("code", "name", "organization", "phone", "districts", "fallback"),
            ("unit-west", "West Division", "police", "+7 7172 01", "west", "no"),
            ("unit-east", "East Division", "police", "+7 7172 02", "east", "no"),
            ("unit-duty", "City Duty Unit", "police", "+7 7172 00", "", "yes"),
        ),
        "sites.geojson": feature_collection(
            [
                {
                    "type": "Feature",
                    "properties": {
                        "code": "YARD-1",
                        "name": "Yard 1",
                        "kind": "yard",
                        "owner": "akimat-west",
                        "schedule": [{"days": ["sat", "sun"], "start": "22:00", "end": "06:00"}],
                        "tasks": [{"kind": "loitering", "description": "Loitering at night"}],
                    },
                    "geometry": YARD,
                },
                {
                    "type": "Feature",
                    "properties": {
                        "code": "PUMP-1",
                        "name": "Pumping station",
                        "kind": "utility_facility",
                        "owner": "water",
                        "address": "Kenesary St, 4",
                    },
                    "geometry": {"type": "Point", "coordinates": [71.45, 51.15]},
                },
            ]
        ),
        "cameras.csv": table(
            ("camera_id", "name", "latitude", "longitude", "site", "main_stream_url"),
            ("CAM-YARD", "Yard gate", "51.125", "71.325", "YARD-1", "rtsp://10.0.0.1/main"),
            ("CAM-PUMP", "Pump gate", "51.151", "71.451", "PUMP-1", "rtsp://10.0.0.2/main"),
            ("CAM-ST", "Street corner", "51.15", "71.405", "", "rtsp://10.0.0.3/main"),
        ),
    }
    files.update(replace)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
