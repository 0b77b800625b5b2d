"""Writing the registry back out as CSV or GeoJSON, in the column order the import reads."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

from safecity.city.registry.columns import COLUMNS, RegistryFormat
from safecity.city.registry.records import CameraRecord


def to_csv(records: Iterable[CameraRecord], district_names: Mapping[int, str]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for record in records:
        row = _export_values(record, district_names)
        writer.writerow("" if row[column] is None else row[column] for column in COLUMNS)
    return out.getvalue()


def to_geojson(records: Iterable[CameraRecord], district_names: Mapping[int, str]) -> str:
    """A FeatureCollection; the position is in the geometry only, not repeated in properties."""
    features: list[dict[str, Any]] = []
    for record in records:
        values = _export_values(record, district_names)
        properties = {
            column: values[column] for column in COLUMNS if column not in ("latitude", "longitude")
        }
        features.append(
            {
                "type": "Feature",
                "id": record.code,
                "geometry": {"type": "Point", "coordinates": [record.longitude, record.latitude]},
                "properties": properties,
            }
        )
    # One feature per line: readable, and a registry kept in git diffs camera by camera.
    lines = ",\n".join(json.dumps(feature, ensure_ascii=False) for feature in features)
    body = f"\n{lines}\n" if lines else ""
    return f'{{"type": "FeatureCollection", "features": [{body}]}}\n'


def serialise(
    records: Iterable[CameraRecord], district_names: Mapping[int, str], fmt: RegistryFormat
) -> str:
    if fmt is RegistryFormat.CSV:
        return to_csv(records, district_names)
    return to_geojson(records, district_names)


def _export_values(record: CameraRecord, district_names: Mapping[int, str]) -> dict[str, Any]:
    # repr() of a float is the shortest text that reads back as the same float, so an
    # export re-imports as unchanged.
    return {
        "camera_id": record.code,
        "name": record.name,
        "address": record.address,
        "latitude": repr(record.latitude),
        "longitude": repr(record.longitude),
        "district": district_names[record.district_id],
        "site": record.site_code,
        "main_stream_url": record.main_stream_url,
        "sub_stream_url": record.sub_stream_url,
        "status": record.status.value,
        "installed_at": record.installed_at.isoformat() if record.installed_at else None,
        "vendor": record.vendor,
        "model": record.model,
        "firmware": record.firmware,
    }
