"""Reading a city folder from disk: which files it has, each read and checked row by row."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from safecity.city.folder.checks import CityDescription
from safecity.city.folder.description import (
    CAMERAS_FILES,
    DISTRICTS_FILE,
    ORGANIZATIONS_FILE,
    POLICE_UNITS_FILE,
    SITES_CSV_FILE,
    SITES_GEOJSON_FILE,
    Entry,
    FileReading,
    read_districts,
    read_organizations,
    read_police_units,
    read_sites,
)
from safecity.city.folder.store import CamerasFile
from safecity.city.folder.tables import CityFileError, Problem
from safecity.ops.incident_types import IncidentType
from safecity.ops.incident_types.file import FILE_NAME as INCIDENT_TYPES_FILE
from safecity.ops.incident_types.file import parse_incident_types

PARTS = ("districts", "organizations", "police_units", "sites", "cameras", "incident_types")
"""What a folder describes, in the order it is applied; ``--only`` names a subset."""
_FILES_OF_PART = {
    "districts": (DISTRICTS_FILE,),
    "organizations": (ORGANIZATIONS_FILE,),
    "police_units": (POLICE_UNITS_FILE,),
    "sites": (SITES_CSV_FILE, SITES_GEOJSON_FILE),
    "cameras": CAMERAS_FILES,
    "incident_types": (INCIDENT_TYPES_FILE,),
}
LARGEST_FILE = 512 * 1024 * 1024
"""A city file larger than this is refused before it is read (a wrong file, not a city)."""


class CityFolderError(Exception):
    """The folder as a whole cannot be imported (missing, empty, two files for one part)."""


@dataclass
class CityFolder:
    description: CityDescription
    cameras: CamerasFile | None
    incident_types: list[IncidentType] | None = None
    """The city's incident types and checklists when the folder has its file."""
    sha256: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    other_files: list[str] = field(default_factory=list)


def read_city_folder(folder: Path, only: Collection[str] = PARTS) -> CityFolder:
    """Every file of ``folder`` that describes one of the ``only`` parts, read and checked."""
    if not folder.is_dir():
        raise CityFolderError(f"{folder} is not a folder")
    present = {path.name: path for path in folder.iterdir() if path.is_file()}
    chosen: dict[str, str] = {}
    for part in only:
        names = [name for name in _FILES_OF_PART[part] if name in present]
        if len(names) > 1:
            raise CityFolderError(f"{folder} has both {' and '.join(names)}: keep one of them")
        if names:
            chosen[part] = names[0]
    if not chosen:
        wanted = ", ".join(name for part in only for name in _FILES_OF_PART[part])
        raise CityFolderError(f"{folder} has none of the city files ({wanted})")
    result = CityFolder(CityDescription(), None)
    result.other_files = sorted(
        name
        for name in present
        if name not in {n for names in _FILES_OF_PART.values() for n in names}
    )
    data = {part: _read(present[name]) for part, name in chosen.items()}
    result.sha256 = {chosen[part]: hashlib.sha256(data[part]).hexdigest() for part in chosen}
    if "cameras" in chosen:
        result.cameras = CamerasFile(chosen["cameras"], data["cameras"])
    if "incident_types" in chosen:
        types, problems = parse_incident_types(data["incident_types"], INCIDENT_TYPES_FILE)
        result.incident_types = types
        result.problems.extend(
            Problem(
                problem.source,
                ""
                if problem.entry is None
                else f"entry {problem.entry}" + (f" ({problem.code})" if problem.code else ""),
                problem.field or "",
                problem.reason,
            )
            for problem in problems
        )
    result.description = CityDescription(
        districts=_entries(result, chosen, data, "districts", lambda _, b: read_districts(b)),
        organizations=_entries(
            result, chosen, data, "organizations", lambda _, b: read_organizations(b)
        ),
        police_units=_entries(
            result, chosen, data, "police_units", lambda _, b: read_police_units(b)
        ),
        sites=_entries(result, chosen, data, "sites", read_sites),
        sites_file=chosen.get("sites", ""),
    )
    return result


def _entries(
    result: CityFolder,
    chosen: Mapping[str, str],
    data: Mapping[str, bytes],
    part: str,
    read: Callable[[str, bytes], FileReading[Entry]],
) -> tuple[Entry, ...]:
    """The entries of one part's file (none when the folder lacks it), its problems noted."""
    if part not in chosen:
        return ()
    name = chosen[part]
    try:
        reading = read(name, data[part])
    except CityFileError as exc:
        result.problems.append(Problem(exc.file, "", "", exc.reason))
        return ()
    result.problems.extend(reading.problems)
    if reading.ignored_columns:
        result.ignored_columns[name] = reading.ignored_columns
    return reading.entries


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > LARGEST_FILE:
            raise CityFolderError(
                f"{path.name} is {size / 2**20:,.0f} MiB; a city file is at most "
                f"{LARGEST_FILE // 2**20} MiB"
            )
        return path.read_bytes()
    except OSError as exc:
        raise CityFolderError(f"cannot read {path}: {exc.strerror or exc}") from exc
