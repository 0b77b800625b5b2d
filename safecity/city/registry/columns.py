"""The registry file's columns: their names in the users' words, which are required, the
widths the database allows, and the file formats."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from pathlib import PurePath


class RegistryFormat(enum.StrEnum):
    CSV = "csv"
    GEOJSON = "geojson"


# The file's columns in the order an export writes them; the file says camera_id for Camera.code.
COLUMNS: tuple[str, ...] = (
    "camera_id",
    "name",
    "address",
    "latitude",
    "longitude",
    "district",
    "site",
    "main_stream_url",
    "sub_stream_url",
    "status",
    "installed_at",
    "vendor",
    "model",
    "firmware",
)
REQUIRED_COLUMNS: tuple[str, ...] = (
    "camera_id",
    "name",
    "latitude",
    "longitude",
    "main_stream_url",
)
# Other names files give each field (English, Russian, Kazakh), compared as `header_key` folds
# them. A name belongs to one field only; "x"/"y" are longitude/latitude as GIS tools write them.
ALIASES: Mapping[str, tuple[str, ...]] = {
    "camera_id": ("id", "camera", "camera_code", "cam_id", "code", "код", "код камеры"),
    "name": ("camera_name", "title", "название", "наименование", "атауы"),
    "address": ("addr", "street_address", "адрес", "мекенжай"),
    "latitude": ("lat", "y", "широта", "ендік"),
    "longitude": ("lon", "lng", "long", "x", "долгота", "бойлық"),
    "district": ("district_name", "district_code", "район", "аудан"),
    "site": ("site_code", "объект"),
    "main_stream_url": (
        "stream_url",
        "stream",
        "main_stream",
        "main_url",
        "rtsp",
        "rtsp_url",
        "url",
        "video_url",
    ),
    "sub_stream_url": ("sub_stream", "substream", "substream_url", "sub_url", "sub_rtsp"),
    "status": ("state", "статус", "состояние"),
    "installed_at": (
        "installed",
        "installed_on",
        "install_date",
        "installation_date",
        "дата установки",
    ),
    "vendor": ("manufacturer", "make", "brand", "производитель"),
    "model": ("модель",),
    "firmware": ("firmware_version", "fw", "прошивка"),
}
# The optional columns that land in a camera field: all the others but `district`, which is
# only a cross-check. ``registry_store`` derives the camera fields an import sets from these.
OPTIONAL_COLUMNS: frozenset[str] = frozenset(COLUMNS) - {*REQUIRED_COLUMNS, "district"}
URL_SCHEMES: frozenset[str] = frozenset({"rtsp", "rtsps", "http", "https", "file"})

_EXTENSIONS: Mapping[str, RegistryFormat] = {
    ".csv": RegistryFormat.CSV,
    ".geojson": RegistryFormat.GEOJSON,
    ".json": RegistryFormat.GEOJSON,
}
_WORD_BREAKS = re.compile(r"[\s-]+")
# A camera code becomes an MQTT topic level (cameras/<code>/health) and part of file names, so
# '/', '+', '#', whitespace and the like are kept out; checked with fullmatch (no "$" newline).
CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
CODE_RULE = (
    "may hold only letters, digits, '.', '_' and '-' (ASCII, starting with a letter or digit)"
)


def header_key(name: str) -> str:
    """How column names are compared: case, surrounding blanks and how words are joined
    ("Stream URL", "stream-url", "stream_url") do not matter."""
    return _WORD_BREAKS.sub("_", name.strip()).casefold()


class RegistryFileError(Exception):
    """The file as a whole cannot be read as a registry; no row of it is imported."""


def format_for(path: PurePath) -> RegistryFormat:
    """The format a file name implies: .csv, or .geojson/.json for GeoJSON."""
    try:
        return _EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise RegistryFileError(
            f"cannot tell the format from the name {path.name!r}: "
            "use a .csv, .geojson or .json file, or --format csv|geojson"
        ) from None
