"""Reading, checking and writing registry files, without a database."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import PurePath
from typing import Any

import pytest

from safecity.city.geo import DistrictArea, DistrictLocator
from safecity.city.models import Camera, CameraStatus
from safecity.city.registry.checking import validate
from safecity.city.registry.columns import (
    ALIASES,
    COLUMNS,
    OPTIONAL_COLUMNS,
    RegistryFileError,
    RegistryFormat,
    format_for,
)
from safecity.city.registry.parsing import parse_csv, parse_geojson
from safecity.city.registry.records import CameraRecord, ImportContext, RowProblem, Validation
from safecity.city.registry.writing import to_csv, to_geojson
from tests.factories import EAST, WEST, square

WEST_ID, EAST_ID, PARK_ID = 1, 2, 7
CONTEXT = ImportContext(
    locator=DistrictLocator(
        [DistrictArea(WEST_ID, "West", square(WEST)), DistrictArea(EAST_ID, "East", square(EAST))]
    ),
    district_keys={
        "west": frozenset({WEST_ID}),
        "d-w": frozenset({WEST_ID}),
        "east": frozenset({EAST_ID}),
        "d-e": frozenset({EAST_ID}),
    },
    sites={"PARK-1": PARK_ID},
)
NAMES = {WEST_ID: "West", EAST_ID: "East"}

GOOD: dict[str, str] = {
    "camera_id": "AST-0001",
    "name": "Central park gate",
    "address": "1 Park street",
    "latitude": "51.15",
    "longitude": "71.35",
    "district": "West",
    "site": "PARK-1",
    "main_stream_url": "rtsp://10.0.0.1/main",
    "sub_stream_url": "rtsp://10.0.0.1/sub",
    "status": "maintenance",
    "installed_at": "2024-03-01",
    "vendor": "Hikvision",
    "model": "DS-2CD2143G2",
    "firmware": "V5.7.3",
}


def csv_bytes(*rows: dict[str, str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, tuple(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def check_csv(*rows: dict[str, str]) -> Validation:
    return validate(parse_csv(csv_bytes(*rows)).rows, CONTEXT)


def only_problem(validation: Validation) -> RowProblem:
    assert not validation.records
    assert len(validation.problems) == 1
    return validation.problems[0]


def reasons_of(**changes: str) -> tuple[str, ...]:
    return only_problem(check_csv({**GOOD, **changes})).reasons


def feature(
    properties: dict[str, Any], geometry: Any = None, *, lon: float = 71.45, lat: float = 51.15
) -> dict[str, Any]:
    point = {"type": "Point", "coordinates": [lon, lat]}
    return {
        "type": "Feature",
        "geometry": point if geometry is None else geometry,
        "properties": properties,
    }


def geojson_bytes(*features: Any) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


GOOD_PROPERTIES: dict[str, Any] = {
    "camera_id": "AST-0002",
    "name": "East market",
    "main_stream_url": "https://cam.example/live",
}


def check_geojson(*features: Any) -> Validation:
    return validate(parse_geojson(geojson_bytes(*features)).rows, CONTEXT)


# --- good rows ---------------------------------------------------------------------------


def test_import_reads_every_column_of_a_good_row() -> None:
    validation = check_csv(GOOD)

    assert validation.problems == ()
    assert validation.records == (
        CameraRecord(
            code="AST-0001",
            name="Central park gate",
            latitude=51.15,
            longitude=71.35,
            district_id=WEST_ID,
            main_stream_url="rtsp://10.0.0.1/main",
            address="1 Park street",
            site_code="PARK-1",
            sub_stream_url="rtsp://10.0.0.1/sub",
            status=CameraStatus.MAINTENANCE,
            installed_at=date(2024, 3, 1),
            vendor="Hikvision",
            model="DS-2CD2143G2",
            firmware="V5.7.3",
            provided=OPTIONAL_COLUMNS,
        ),
    )


def test_import_derives_the_district_from_the_position() -> None:
    required = {column: GOOD[column] for column in ("camera_id", "name", "main_stream_url")}
    [west] = check_csv({**required, "latitude": "51.15", "longitude": "71.35"}).records
    [east] = check_csv({**required, "latitude": "51.15", "longitude": "71.45"}).records

    assert (west.district_id, east.district_id) == (WEST_ID, EAST_ID)


def test_import_takes_defaults_for_optional_columns_the_file_lacks() -> None:
    row = {column: GOOD[column] for column in ("camera_id", "name", "main_stream_url")}
    [record] = check_csv({**row, "latitude": "51.15", "longitude": "71.35"}).records

    assert record.provided == frozenset()
    assert record.status is CameraStatus.ACTIVE
    assert (record.address, record.site_code, record.installed_at, record.vendor) == (None,) * 4


def test_import_treats_empty_optional_cells_as_no_value() -> None:
    optional = {column: "" for column in OPTIONAL_COLUMNS}
    [record] = check_csv({**GOOD, **optional, "district": ""}).records

    assert record.provided == OPTIONAL_COLUMNS
    assert record.status is CameraStatus.ACTIVE
    assert (record.address, record.site_code, record.sub_stream_url, record.firmware) == (None,) * 4


def test_import_strips_whitespace_around_values() -> None:
    [record] = check_csv({**GOOD, "name": "  Gate  ", "latitude": " 51.15 "}).records

    assert (record.name, record.latitude) == ("Gate", 51.15)


@pytest.mark.parametrize("stated", ["West", "WEST", "west", "d-w", "D-W"])
def test_import_accepts_the_district_by_name_or_code_in_any_case(stated: str) -> None:
    [record] = check_csv({**GOOD, "district": stated}).records

    assert record.district_id == WEST_ID


def test_import_accepts_status_in_any_case() -> None:
    [record] = check_csv({**GOOD, "status": "Planned"}).records

    assert record.status is CameraStatus.PLANNED


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://admin:secret@10.0.0.1:554/Streaming/Channels/101",
        "rtsps://cam.example/live",
        "http://10.0.0.1/mjpeg",
        "https://cam.example/hls/index.m3u8",
        "file:///srv/video/test.mp4",
        "RTSP://10.0.0.1/main",
    ],
)
def test_import_accepts_stream_urls_of_every_allowed_scheme(url: str) -> None:
    [record] = check_csv({**GOOD, "main_stream_url": url}).records

    assert record.main_stream_url == url


# --- bad rows: every problem kind ---------------------------------------------------------


def test_import_rejects_row_outside_every_district() -> None:
    assert reasons_of(latitude="51.30", longitude="71.35", district="") == (
        "position: latitude 51.3, longitude 71.35 lies outside every district",
    )


def test_import_suggests_swapped_coordinates_when_they_would_fit() -> None:
    (reason,) = reasons_of(latitude="71.35", longitude="51.15", district="")

    assert "outside every district" in reason
    assert "with latitude and longitude swapped it would lie in 'West'" in reason


@pytest.mark.parametrize("value", ["abc", "nan", "inf", "1e999", "51.1.2", "0x33"])
def test_import_rejects_coordinates_that_are_not_numbers(value: str) -> None:
    assert reasons_of(latitude=value) == (f"latitude: {value!r} is not a number",)


def test_import_hints_at_the_decimal_separator_for_comma_decimals() -> None:
    assert reasons_of(longitude="71,35") == (
        "longitude: '71,35' is not a number (use a dot as the decimal separator)",
    )


@pytest.mark.parametrize(("latitude", "longitude"), [("91", "71.35"), ("51.15", "-180.5")])
def test_import_rejects_coordinates_out_of_range(latitude: str, longitude: str) -> None:
    (reason,) = reasons_of(latitude=latitude, longitude=longitude, district="")

    assert reason.startswith("position:")
    assert "is out of range (latitude -90..90, longitude -180..180)" in reason


def test_import_rejects_unknown_district() -> None:
    assert reasons_of(district="Nowhere") == ("district: unknown district 'Nowhere'",)


def test_import_rejects_district_that_disagrees_with_the_position() -> None:
    assert reasons_of(district="East") == (
        "district: the file says 'East' but the position lies in 'West'",
    )


def test_import_rejects_every_row_with_a_duplicate_camera_id() -> None:
    other = {**GOOD, "camera_id": "AST-0009"}
    validation = check_csv(GOOD, other, GOOD)

    assert [record.code for record in validation.records] == ["AST-0009"]
    expected = ("camera_id: 'AST-0001' appears more than once (line 2, line 4)",)
    assert [(p.where, p.camera_id, p.reasons) for p in validation.problems] == [
        ("line 2", "AST-0001", expected),
        ("line 4", "AST-0001", expected),
    ]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://10.0.0.1/x", "has scheme 'ftp'; allowed: file, http, https, rtsp, rtsps"),
        ("10.0.0.1/main", "has no scheme; allowed: file, http, https, rtsp, rtsps"),
        ("rtsp:///main", "has no host"),
        ("rtsp://10.0.0.1/a b", "contains whitespace or control characters"),
        ("rtsp://10.0.0.1/a\x07b", "contains a control character (U+0007)"),
        ("rtsp://10.0.0.1/\u202eniam", "contains a control character (U+202E)"),
        ("rtsp://10.0.0.1:99999/main", "is not a valid URL (Port out of range 0-65535)"),
        ("rtsp://10.0.0.1:port/main", "is not a valid URL"),
        ("rtsp://[::1/main", "is not a valid URL (Invalid IPv6 URL)"),
        ("file:", "names no file"),
    ],
)
def test_import_rejects_malformed_stream_urls(url: str, reason: str) -> None:
    (main,) = reasons_of(main_stream_url=url)
    (sub,) = reasons_of(sub_stream_url=url)

    assert main.startswith(f"main_stream_url: {url!r} ")
    assert sub.startswith(f"sub_stream_url: {url!r} ")
    assert reason in main


def test_import_rejects_unknown_site() -> None:
    assert reasons_of(site="PARK-404") == ("site: unknown site code 'PARK-404'",)


def test_import_rejects_bad_status() -> None:
    assert reasons_of(status="broken") == (
        "status: 'broken' is not one of active, maintenance, planned, decommissioned",
    )


@pytest.mark.parametrize("value", ["2024-02-30", "01.03.2024", "2024-03-01T10:00:00", "soon"])
def test_import_rejects_bad_installation_date(value: str) -> None:
    assert reasons_of(installed_at=value) == (
        f"installed_at: {value!r} is not a date (YYYY-MM-DD)",
    )


@pytest.mark.parametrize(
    "column", ["camera_id", "name", "latitude", "longitude", "main_stream_url"]
)
def test_import_rejects_row_missing_a_required_value(column: str) -> None:
    reasons = reasons_of(**{column: "  ", "district": ""})

    assert f"{column}: missing (required)" in reasons


@pytest.mark.parametrize(
    ("column", "attribute"),
    [
        ("camera_id", "code"),
        ("name", "name"),
        ("address", "address"),
        ("vendor", "vendor"),
        ("model", "model"),
        ("firmware", "firmware"),
    ],
)
def test_import_rejects_text_too_long_for_its_column(column: str, attribute: str) -> None:
    limit = Camera.__table__.c[attribute].type.length  # type: ignore[attr-defined]
    fits = check_csv({**GOOD, column: "x" * limit})
    too_long = reasons_of(**{column: "x" * (limit + 1)})

    assert fits.problems == ()
    assert too_long == (f"{column}: {limit + 1} characters, at most {limit} fit",)


@pytest.mark.parametrize(
    ("name", "character"),
    [("Gate\x00", "U+0000"), ("\u202egnp.exe", "U+202E"), ("Bell\x07", "U+0007")],
)
def test_import_rejects_control_characters_in_text(name: str, character: str) -> None:
    """The same rule as the API's (PATCH /api/cameras/{id}), so an export always imports."""
    (reason,) = reasons_of(name=name)
    assert reason.startswith(f"name: {name!r} contains a control character ({character})")


@pytest.mark.parametrize("code", ["AST-0001", "ast.0001", "AST_0001", "7", "0-CAM.v2_a"])
def test_import_accepts_camera_ids_of_letters_digits_dots_underscores_and_dashes(
    code: str,
) -> None:
    [record] = check_csv({**GOOD, "camera_id": code}).records

    assert record.code == code


@pytest.mark.parametrize(
    "code",
    [
        "AST 0001",  # whitespace
        "AST/0001",  # an MQTT topic level separator (cameras/<code>/health) and a path separator
        "AST+",  # MQTT single-level wildcard
        "AST#1",  # MQTT multi-level wildcard
        "-AST",  # would read as an option on a command line
        ".hidden",  # a hidden file name, or ".." for a parent folder
        "_AST",
        "ЖД-1",  # Cyrillic: letters, but not ASCII ones
        "AST:1",
        "AST\\1",
    ],
)
def test_import_rejects_camera_id_that_cannot_be_a_topic_level_or_file_name(code: str) -> None:
    assert reasons_of(camera_id=code) == (
        f"camera_id: {code!r} may hold only letters, digits, '.', '_' and '-' "
        "(ASCII, starting with a letter or digit)",
    )


def test_import_gives_one_reason_for_a_camera_id_with_control_characters() -> None:
    assert reasons_of(camera_id="AST\x001") == (
        "camera_id: 'AST\\x001' contains a control character (U+0000) at position 3",
    )


def test_import_reports_every_reason_of_a_bad_row_at_once() -> None:
    problem = only_problem(
        check_csv({**GOOD, "name": "", "latitude": "x", "status": "gone", "site": "NOPE"})
    )

    assert problem.where == "line 2"
    assert problem.camera_id == "AST-0001"
    assert [reason.split(":")[0] for reason in problem.reasons] == [
        "name",
        "latitude",
        "site",
        "status",
    ]


def test_import_keeps_column_order_for_reasons_found_by_the_district_lookup() -> None:
    outside = only_problem(
        check_csv({**GOOD, "name": "", "latitude": "51.30", "district": "", "site": "NOPE"})
    )
    disagrees = only_problem(check_csv({**GOOD, "district": "East", "status": "gone"}))

    assert [reason.split(":")[0] for reason in outside.reasons] == ["name", "position", "site"]
    assert [reason.split(":")[0] for reason in disagrees.reasons] == ["district", "status"]


def test_import_gives_each_row_of_a_mixed_file_its_own_district_and_problems() -> None:
    rows = [
        {**GOOD, "camera_id": "W-1", "district": ""},
        {**GOOD, "camera_id": "NO-LAT", "latitude": "", "district": ""},
        {**GOOD, "camera_id": "E-1", "longitude": "71.45", "district": ""},
        {**GOOD, "camera_id": "FAR", "latitude": "10", "longitude": "10", "district": ""},
        {**GOOD, "camera_id": "RANGE", "latitude": "95", "district": ""},
        {**GOOD, "camera_id": "SWAP", "latitude": "71.45", "longitude": "51.15", "district": ""},
        {**GOOD, "camera_id": "BORDER", "longitude": "71.40", "district": ""},
        {**GOOD, "camera_id": "E-2", "longitude": "71.49", "district": "East"},
    ]

    validation = check_csv(*rows)

    assert [(r.code, r.district_id) for r in validation.records] == [
        ("W-1", WEST_ID),
        ("E-1", EAST_ID),
        ("BORDER", WEST_ID),  # on the shared border: the lowest district id
        ("E-2", EAST_ID),
    ]
    reasons = {p.camera_id: p.reasons for p in validation.problems}
    assert list(reasons) == ["NO-LAT", "FAR", "RANGE", "SWAP"]
    assert reasons["NO-LAT"] == ("latitude: missing (required)",)
    assert reasons["FAR"] == (
        "position: latitude 10.0, longitude 10.0 lies outside every district",
    )
    assert "is out of range" in reasons["RANGE"][0]
    assert "swapped it would lie in 'East'" in reasons["SWAP"][0]


def test_import_reports_progress_from_nothing_to_every_row() -> None:
    rows = parse_csv(csv_bytes(*({**GOOD, "camera_id": f"C-{n}"} for n in range(1200)))).rows
    told: list[tuple[int, int]] = []

    validation = validate(rows, CONTEXT, lambda done, total: told.append((done, total)))

    assert len(validation.records) == 1200
    assert told[0] == (0, 1200) and told[-1] == (1200, 1200)
    assert [done for done, _ in told] == sorted(done for done, _ in told)


def test_import_checks_a_file_without_rows() -> None:
    assert validate(
        parse_csv(b"camera_id,name,latitude,longitude,main_stream_url\n").rows, CONTEXT
    ) == (Validation((), ()))


def test_import_reports_bad_rows_without_a_camera_id_as_unknown() -> None:
    problem = only_problem(check_csv({**GOOD, "camera_id": ""}))

    assert problem.camera_id is None
    assert problem.reasons == ("camera_id: missing (required)",)


# --- CSV shape ------------------------------------------------------------------------------


def test_import_names_csv_rows_by_the_line_they_start_on() -> None:
    header = ",".join(GOOD)
    row = ",".join(GOOD.values())
    two_line_address = row.replace("1 Park street", '"1 Park street\nsecond line"')
    bad = row.replace("AST-0001", "AST-0002").replace("71.35", "east")
    text = f"{header}\n\n{two_line_address}\n{bad}\n"

    validation = validate(parse_csv(text.encode()).rows, CONTEXT)

    assert [record.address for record in validation.records] == ["1 Park street\nsecond line"]
    assert [problem.where for problem in validation.problems] == ["line 5"]


def test_import_rejects_row_with_the_wrong_number_of_cells() -> None:
    header = ",".join(GOOD)
    row = ",".join(GOOD.values()).replace("Central park gate", "Central park, gate")
    problem = only_problem(validate(parse_csv(f"{header}\n{row}\n".encode()).rows, CONTEXT))

    assert (problem.where, problem.camera_id) == ("line 2", "AST-0001")
    assert problem.reasons == ("has 15 values but the header has 14 columns",)


def test_import_skips_rows_whose_cells_are_all_blank() -> None:
    text = csv_bytes(GOOD) + b",,,,,,,,,,,,,\n\n"

    assert len(parse_csv(text).rows) == 1


def test_csv_header_is_case_insensitive_and_semicolons_are_read() -> None:
    header = ";".join(column.upper() for column in GOOD)
    row = ";".join(GOOD.values())
    validation = validate(parse_csv(f"{header}\n{row}\n".encode()).rows, CONTEXT)

    assert [record.code for record in validation.records] == ["AST-0001"]


def test_csv_byte_order_mark_and_crlf_line_ends_are_read() -> None:
    data = "\ufeff".encode() + csv_bytes(GOOD).replace(b"\n", b"\r\n")

    assert [record.code for record in validate(parse_csv(data).rows, CONTEXT).records] == [
        "AST-0001"
    ]


def test_csv_columns_outside_the_format_are_reported_as_ignored() -> None:
    parsed = parse_csv(csv_bytes({**GOOD, "notes": "x", "Owner": "y"}))

    assert parsed.ignored_columns == ("notes", "Owner")
    assert "notes" not in parsed.rows[0].values


def test_every_other_column_name_belongs_to_one_field_only() -> None:
    names = [name.casefold() for field in COLUMNS for name in (field, *ALIASES[field])]

    assert set(ALIASES) == set(COLUMNS)
    assert sorted(name for name in set(names) if names.count(name) > 1) == []


def test_csv_header_names_are_matched_whatever_their_case_spaces_or_dashes() -> None:
    header = "Camera ID;NAME;Lat;long;stream-url;Дата установки"
    row = "AST-0001;Gate;51.15;71.35;rtsp://10.0.0.1/main;2024-03-01"

    parsed = parse_csv(f"{header}\n{row}\n".encode())
    [record] = validate(parsed.rows, CONTEXT).records

    assert parsed.columns == {
        "camera_id": "Camera ID",
        "name": "NAME",
        "latitude": "Lat",
        "longitude": "long",
        "main_stream_url": "stream-url",
        "installed_at": "Дата установки",
    }
    assert (record.code, record.longitude, record.installed_at) == (
        "AST-0001",
        71.35,
        date(2024, 3, 1),
    )


def test_a_chosen_column_may_give_two_fields() -> None:
    data = b"id,place,lat,lon,url\nC-1,Gate 4,51.15,71.35,rtsp://h/a\n"

    parsed = parse_csv(data, {"name": "Place", "address": "place"})
    [record] = validate(parsed.rows, CONTEXT).records

    assert (record.name, record.address) == ("Gate 4", "Gate 4")


def test_geojson_without_a_required_property_in_any_feature_is_refused_naming_its_names() -> None:
    properties = {"id": "AST-0002", "stream": "rtsp://h/a", "label": "East market"}

    with pytest.raises(RegistryFileError) as raised:
        parse_geojson(geojson_bytes(feature(properties)))
    chosen = parse_geojson(geojson_bytes(feature(properties)), {"name": "label"})

    assert str(raised.value).startswith(
        "no feature has the required properties: name (also read from: camera_name, title,"
    )
    assert "--column name=HEADER" in str(raised.value)
    assert [record.name for record in validate(chosen.rows, CONTEXT).records] == ["East market"]


# --- whole-file errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file: expected a CSV header line"),
        (b"\n \n", "empty file: expected a CSV header line"),
        # A Cyrillic name saved as Windows-1251, as Excel does in a Russian locale.
        (b"camera_id,name\nX,\xca\xe0\xf1\xf1\xe0\n", "not UTF-8 text: byte 0xca at line 2"),
        (
            b"camera_id,name,latitude\n",
            "header lacks required columns: longitude (also read from: lon, lng, long, x, "
            "долгота, бойлық); main_stream_url (also read from: stream_url,",
        ),
        (
            b"camera_id,name,name,latitude,longitude,main_stream_url\n",
            "header repeats columns: name",
        ),
        (
            b'camera_id,name,latitude,longitude,main_stream_url\nC1,"open,1,2,rtsp://h/\n',
            "not valid CSV at line 2: unexpected end of data",
        ),
    ],
)
def test_import_rejects_files_that_are_not_a_registry_csv(data: bytes, message: str) -> None:
    with pytest.raises(RegistryFileError) as raised:
        parse_csv(data)

    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'{"type": "FeatureCollection", "features": [}',
            "not valid JSON at line 1, column 44: Expecting value",
        ),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b'{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
        (b"[1, 2]", "not a GeoJSON FeatureCollection"),
        (b'{"type": "FeatureCollection"}', 'the FeatureCollection has no "features" list'),
    ],
)
def test_import_rejects_files_that_are_not_a_feature_collection(data: bytes, message: str) -> None:
    with pytest.raises(RegistryFileError) as raised:
        parse_geojson(data)

    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("cams.csv", RegistryFormat.CSV),
        ("CAMS.CSV", RegistryFormat.CSV),
        ("cams.geojson", RegistryFormat.GEOJSON),
        ("cams.json", RegistryFormat.GEOJSON),
    ],
)
def test_format_follows_the_file_extension(name: str, fmt: RegistryFormat) -> None:
    assert format_for(PurePath(name)) is fmt


def test_format_of_an_unknown_extension_is_an_error_naming_the_flag() -> None:
    with pytest.raises(RegistryFileError, match=r"--format csv\|geojson"):
        format_for(PurePath("cams.xlsx"))


# --- GeoJSON ----------------------------------------------------------------------------------


def test_geojson_takes_the_position_from_the_point_geometry() -> None:
    [record] = check_geojson(feature(GOOD_PROPERTIES, lon=71.45, lat=51.15)).records

    assert (record.latitude, record.longitude, record.district_id) == (51.15, 71.45, EAST_ID)
    assert record.provided == frozenset()


def test_geojson_accepts_position_properties_that_agree_with_the_geometry() -> None:
    properties = {**GOOD_PROPERTIES, "latitude": 51.15, "longitude": "71.45"}

    assert check_geojson(feature(properties)).problems == ()


def test_geojson_rejects_position_properties_that_disagree_with_the_geometry() -> None:
    problem = only_problem(check_geojson(feature({**GOOD_PROPERTIES, "latitude": 51.16})))

    assert problem.reasons == ("latitude: property 51.16 disagrees with the geometry (51.15)",)


def test_geojson_accepts_a_null_geometry_with_position_properties() -> None:
    properties = {**GOOD_PROPERTIES, "latitude": 51.15, "longitude": 71.35}
    unlocated = {"type": "Feature", "geometry": None, "properties": properties}

    [record] = check_geojson(unlocated).records

    assert record.district_id == WEST_ID


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        (
            {"type": "Polygon", "coordinates": [square(WEST)["coordinates"]]},
            "must be a Point, got Polygon",
        ),
        ({"type": "Point", "coordinates": [71.45]}, "coordinates must be [longitude, latitude]"),
        ({"type": "Point", "coordinates": ["x", 51.1]}, "are not numbers"),
        ({"type": "Point", "coordinates": [True, 51.1]}, "are not numbers"),
        ([71.45, 51.15], "must be a Point, got list"),
    ],
)
def test_geojson_rejects_a_geometry_that_is_not_a_point(geometry: Any, reason: str) -> None:
    problem = only_problem(check_geojson(feature(GOOD_PROPERTIES, geometry)))

    assert problem.where == "features[0]"
    assert problem.camera_id == "AST-0002"
    assert len(problem.reasons) == 1
    assert problem.reasons[0].startswith("geometry: ")
    assert reason in problem.reasons[0]


def test_geojson_rejects_a_feature_without_geometry() -> None:
    unlocated = {"type": "Feature", "properties": GOOD_PROPERTIES}

    assert only_problem(check_geojson(unlocated)).reasons == (
        "geometry: missing (a Point [longitude, latitude] is required)",
    )


def test_geojson_names_bad_features_by_index() -> None:
    validation = check_geojson(
        feature(GOOD_PROPERTIES),
        {"type": "Point", "coordinates": [71.45, 51.15]},
        {"type": "Feature", "geometry": None, "properties": [1]},
    )

    assert [(p.where, p.reasons) for p in validation.problems] == [
        ("features[1]", ("not a GeoJSON Feature",)),
        ("features[2]", ('"properties" is not an object',)),
    ]


def test_geojson_accepts_numeric_camera_ids_as_text() -> None:
    [record] = check_geojson(feature({**GOOD_PROPERTIES, "camera_id": 1042})).records

    assert record.code == "1042"


def test_geojson_rejects_text_properties_of_another_type() -> None:
    problem = only_problem(check_geojson(feature({**GOOD_PROPERTIES, "name": ["a", "b"]})))

    assert problem.reasons == ('name: must be text, got ["a", "b"]',)


def test_geojson_reports_properties_outside_the_format_as_ignored() -> None:
    parsed = parse_geojson(geojson_bytes(feature({**GOOD_PROPERTIES, "notes": "x"})))

    assert parsed.ignored_columns == ("notes",)


# --- writing ------------------------------------------------------------------------------------

RECORDS = (
    CameraRecord(
        code="AST-0001",
        name='Gate "north", Парк',
        latitude=51.123456789012345,
        longitude=71.35,
        district_id=WEST_ID,
        main_stream_url="rtsp://user:p%40ss@10.0.0.1/main",
        address="1 Park street\nsecond line",
        site_code="PARK-1",
        sub_stream_url="rtsp://10.0.0.1/sub",
        status=CameraStatus.DECOMMISSIONED,
        installed_at=date(2020, 1, 31),
        vendor="Hikvision",
        model="DS-2CD2143G2",
        firmware="V5.7.3",
    ),
    CameraRecord(
        code="AST-0002",
        name="Market",
        latitude=51.15,
        longitude=71.45,
        district_id=EAST_ID,
        main_stream_url="file:///srv/video/market.mp4",
    ),
)


@pytest.mark.parametrize(
    ("write", "read"), [(to_csv, parse_csv), (to_geojson, parse_geojson)], ids=["csv", "geojson"]
)
def test_written_registry_reads_back_as_the_same_records(write: Any, read: Any) -> None:
    text = write(RECORDS, NAMES)

    validation = validate(read(text.encode()).rows, CONTEXT)

    assert validation.problems == ()
    assert validation.records == RECORDS


def test_csv_export_writes_the_columns_in_order_and_empty_cells_for_no_value() -> None:
    lines = to_csv(RECORDS[1:], NAMES).splitlines()

    assert lines == [
        ",".join(COLUMNS),
        "AST-0002,Market,,51.15,71.45,East,,file:///srv/video/market.mp4,,active,,,,",
    ]


def test_geojson_export_puts_the_position_in_the_geometry_only() -> None:
    document = json.loads(to_geojson(RECORDS[1:], NAMES))

    [exported] = document["features"]
    assert document["type"] == "FeatureCollection"
    assert exported["geometry"] == {"type": "Point", "coordinates": [71.45, 51.15]}
    assert exported["properties"]["district"] == "East"
    assert exported["properties"]["address"] is None
    assert "latitude" not in exported["properties"]


def test_empty_registry_writes_a_valid_empty_file() -> None:
    assert parse_csv(to_csv((), NAMES).encode()).rows == ()
    assert json.loads(to_geojson((), NAMES)) == {"type": "FeatureCollection", "features": []}
