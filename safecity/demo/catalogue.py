"""What the demo city is made of: the kinds and numbers of sites, their names, schedules and
tasks, the streets of each district, the utility companies, and the camera models on sale.

Data only, with the few helpers that validate it as it is declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from safecity.city.models import CameraStatus, SiteKind
from safecity.city.schedule import SiteTask, WatchWindow, Weekday


@dataclass(frozen=True)
class Utility:
    code: str
    name: str
    facilities: tuple[str, ...]
    """Name templates of the facilities it owns; ``{n}`` is the facility's number."""


UTILITIES: tuple[Utility, ...] = (
    Utility("astana-su-arnasy", "Astana Su Arnasy (water and sewerage)",
            ("Water pumping station No. {n}", "Sewage pumping station No. {n}")),
    Utility("astana-teplotranzit", "Astana-Teplotranzit (district heating)",
            ("Heat pumping station No. {n}", "Heat distribution point No. {n}")),
    Utility("astana-rek", "Astana-REK (power distribution)",
            ("Substation 110 kV No. {n}", "Distribution substation No. {n}")),
    Utility("astana-zharyk", "Astana Zharyk (street lighting)",
            ("Street lighting control point No. {n}",)),
)  # fmt: skip


# Sites of each kind per 100,000 residents (a district gets at least one of each).
SITES_PER_100K: dict[SiteKind, float] = {
    SiteKind.SCHOOL: 5.0, SiteKind.YARD: 4.5, SiteKind.PARK: 1.5, SiteKind.UTILITY_FACILITY: 2.0,
    SiteKind.TRANSPORT_HUB: 1.0, SiteKind.MARKET: 0.8, SiteKind.STREET: 0.8, SiteKind.SQUARE: 0.6,
    SiteKind.HOSPITAL: 1.0, SiteKind.OTHER: 0.4,
}  # fmt: skip
# How many cameras watch one site of each kind: fewest, most.
CAMERAS_PER_SITE: dict[SiteKind, tuple[int, int]] = {
    SiteKind.SCHOOL: (2, 3), SiteKind.YARD: (1, 2), SiteKind.PARK: (3, 5),
    SiteKind.UTILITY_FACILITY: (1, 3), SiteKind.TRANSPORT_HUB: (5, 8), SiteKind.MARKET: (4, 6),
    SiteKind.STREET: (3, 5), SiteKind.SQUARE: (3, 5), SiteKind.HOSPITAL: (2, 3), SiteKind.OTHER: (3, 5),
}  # fmt: skip
# Share of a kind's sites spread evenly over the district rather than round its busy centres.
SITE_SPREAD: dict[SiteKind, float] = {
    SiteKind.SCHOOL: 0.25, SiteKind.YARD: 0.25, SiteKind.PARK: 0.3, SiteKind.UTILITY_FACILITY: 0.6,
    SiteKind.TRANSPORT_HUB: 0.1, SiteKind.MARKET: 0.1, SiteKind.STREET: 0.0, SiteKind.SQUARE: 0.0,
    SiteKind.HOSPITAL: 0.2, SiteKind.OTHER: 0.2,
}  # fmt: skip
CAMERA_VIEWS: dict[SiteKind, tuple[str, ...]] = {
    SiteKind.SCHOOL: ("main entrance", "schoolyard", "sports ground"),
    SiteKind.YARD: ("playground", "car park"),
    SiteKind.PARK: ("main gate", "central alley", "playground", "pond", "south gate"),
    SiteKind.UTILITY_FACILITY: ("gate", "perimeter", "machine hall"),
    SiteKind.TRANSPORT_HUB: (
        "main entrance", "ticket hall", "platform 1", "platform 2", "taxi rank", "car park",
        "waiting hall", "bus bays",
    ),
    SiteKind.MARKET: ("main entrance", "rows A-D", "rows E-H", "loading bay", "car park", "food hall"),
    SiteKind.STREET: ("north end", "crossing", "shops", "south end", "bar row"),
    SiteKind.SQUARE: ("centre", "north side", "south side", "fountain", "stage"),
    SiteKind.HOSPITAL: ("emergency entrance", "main entrance", "car park"),
    SiteKind.OTHER: ("main entrance", "car park", "east side", "west side", "plaza"),
}  # fmt: skip
# Well-known places used first for a district's sites of that kind.
LANDMARKS: dict[str, dict[SiteKind, tuple[str, ...]]] = {
    "almaty": {SiteKind.TRANSPORT_HUB: ("Saparzhay Bus Station",), SiteKind.MARKET: ("Shapagat Market",)},
    "baikonyr": {SiteKind.PARK: ("Zheruyik Park",), SiteKind.MARKET: ("Alem Market",)},
    "nura": {SiteKind.OTHER: ("EXPO 2017 Grounds",), SiteKind.PARK: ("Triathlon Park",)},
    "saryarka": {
        SiteKind.TRANSPORT_HUB: ("Astana-1 Railway Station",), SiteKind.MARKET: ("Artem Market",),
        SiteKind.SQUARE: ("Old Square",), SiteKind.PARK: ("Central Park",),
    },
    "yesil": {
        SiteKind.TRANSPORT_HUB: ("Nurly Zhol Railway Station",), SiteKind.OTHER: ("Khan Shatyr",),
        SiteKind.SQUARE: ("Baiterek, Nurzhol Boulevard", "Kazakh Eli Square"),
        SiteKind.PARK: ("Presidential Park",),
    },
}  # fmt: skip
# Names used next, city-wide; then the templates ({n}: a number, {street}, {address}).
NAMES: dict[SiteKind, tuple[str, ...]] = {
    SiteKind.PARK: (
        "Gashyktar Park", "Family Park", "Arai Park", "Zhastar Park", "Koktal Park",
        "Botanical Garden", "Atatürk Park", "Student Park", "Zhetisu Park", "Yessenberlin Park",
    ),
    SiteKind.YARD: tuple(
        f"Yard of {complex_name} residential complex"
        for complex_name in (
            "Highvill", "Northern Lights", "Green Quarter", "Nursaya", "Ak Bota", "Millennium",
            "Sky City", "Orda", "Altyn Kala", "Zhagalau", "Samal", "Comfort Town", "Ecopark",
            "Grand Astana", "Astana Towers", "Kokzhiek", "Shanyrak", "Arman", "Tulpar", "Nurly Tau",
        )
    ),
    SiteKind.MARKET: ("Sharyn Market", "Tulpar Market", "Zhibek Zholy Market", "Kazakhstan Market"),
    SiteKind.OTHER: ("Astana Arena", "Barys Arena", "Central Concert Hall", "Saryarka Velodrome"),
}  # fmt: skip
TEMPLATES: dict[SiteKind, tuple[str, ...]] = {
    SiteKind.SCHOOL: ("Secondary School No. {n}", "School-Lyceum No. {n}", "School-Gymnasium No. {n}"),
    SiteKind.YARD: ("Courtyard, {address}",),
    SiteKind.PARK: ("Public garden on {street}",),
    SiteKind.TRANSPORT_HUB: ("{street} LRT station", "{street} bus interchange"),
    SiteKind.MARKET: ("{street} market",),
    SiteKind.STREET: ("{street} pedestrian zone", "{street} nightlife strip"),
    SiteKind.SQUARE: ("Square on {street}",),
    SiteKind.HOSPITAL: (
        "City Multidisciplinary Hospital No. {n}", "Children's City Hospital No. {n}",
        "City Polyclinic No. {n}",
    ),
    SiteKind.OTHER: ("Sports complex, {address}", "Shopping centre, {address}"),
}  # fmt: skip
# Owner of sites of each kind: a district's akimat, the city's, or nobody we know (private).
DISTRICT_OWNED = frozenset({SiteKind.SCHOOL, SiteKind.YARD, SiteKind.PARK, SiteKind.STREET})
CITY_OWNED = frozenset({SiteKind.TRANSPORT_HUB, SiteKind.SQUARE, SiteKind.HOSPITAL})

STREETS: dict[str, tuple[str, ...]] = {
    "almaty": (
        "Tauelsizdik Ave", "Momyshuly Ave", "Shakarim Kudaiberdyuly Ave", "Ryskulbekov St",
        "Zhumabayev Ave", "Akzhol St", "Kazhymukan St", "Abylai Khan Ave", "Ilyas Zhansugurov St",
        "Tlendiyev St",
    ),
    "baikonyr": (
        "Kosshygululy St", "Zhubanov St", "Sembinov St", "Petrov St", "Ryskulov St",
        "Gumilyov St", "Yesenberlin St", "Akan Seri St", "Zheltoksan St", "Potanin St",
    ),
    "nura": (
        "Ulu Dala Ave", "Korgalzhyn Highway", "Turkistan St", "Mukhamedkhanov St",
        "Alikhan Bokeikhan St", "Baitursynuly St", "Nazhimedenov St", "Sarayshyk St",
        "Hussein bin Talal St", "Kerey-Zhanibek Khans St",
    ),
    "saryarka": (
        "Respublika Ave", "Abai Ave", "Seifullin St", "Beibitshilik St", "Auezov St",
        "Pushkin St", "Zhenis Ave", "Saryarka Ave", "Bogenbay Batyr Ave", "Kenesary St",
        "Imanov St", "Valikhanov St",
    ),
    "yesil": (
        "Kabanbay Batyr Ave", "Turan Ave", "Mangilik El Ave", "Kunaev St", "Dostyk St",
        "Syganak St", "Orynbor St", "Sauran St", "Akmeshit St", "Nurzhol Blvd",
    ),
}  # fmt: skip

_ALL_DAYS: list[Weekday] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_WORKDAYS: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
_WEEKEND: list[Weekday] = ["sat", "sun"]


def _window(days: list[Weekday], start: time, end: time) -> dict[str, Any]:
    return WatchWindow(days=days, start=start, end=end).model_dump(mode="json")


def _task(kind: str, description: str, *, always: bool = False) -> dict[str, Any]:
    return SiteTask.model_validate(
        {"kind": kind, "description": description, "during_schedule_only": not always}
    ).model_dump(mode="json")


SCHEDULES: dict[SiteKind, tuple[dict[str, Any], ...]] = {
    SiteKind.SCHOOL: (
        _window(_WORKDAYS, time(18, 0), time(7, 30)), _window(_WEEKEND, time(7, 30), time(18, 0)),
    ),
    SiteKind.YARD: (_window(_ALL_DAYS, time(22, 0), time(6, 0)),),
    SiteKind.PARK: (
        _window(_ALL_DAYS, time(23, 0), time(6, 0)), _window(_WEEKEND, time(10, 0), time(22, 0)),
    ),
    SiteKind.UTILITY_FACILITY: (_window(_ALL_DAYS, time(20, 0), time(8, 0)),),
    SiteKind.TRANSPORT_HUB: (_window(_ALL_DAYS, time(5, 30), time(1, 0)),),
    SiteKind.MARKET: (
        _window(_ALL_DAYS, time(8, 0), time(20, 0)), _window(_ALL_DAYS, time(21, 0), time(7, 0)),
    ),
    SiteKind.STREET: (_window(["thu", "fri", "sat"], time(20, 0), time(4, 0)),),
    SiteKind.SQUARE: (_window(_ALL_DAYS, time(18, 0), time(2, 0)),),
    SiteKind.HOSPITAL: (_window(_ALL_DAYS, time(20, 0), time(7, 0)),),
    SiteKind.OTHER: (_window(["fri", "sat", "sun"], time(16, 0), time(0, 0)),),
}  # fmt: skip
TASKS: dict[SiteKind, tuple[dict[str, Any], ...]] = {
    SiteKind.SCHOOL: (
        _task("intrusion", "Someone on school grounds after hours"),
        _task("loitering", "Groups lingering at the gate after classes"),
    ),
    SiteKind.YARD: (
        _task("vandalism", "Damage to playground equipment or cars at night"),
        _task("loitering", "Loitering by the entrances at night"),
    ),
    SiteKind.PARK: (
        _task("vandalism", "Damage to lamps, benches and fountains"),
        _task("crowd", "Crowds at weekend events"),
        _task("fire_smoke", "Fire or smoke on the lawns", always=True),
    ),
    SiteKind.UTILITY_FACILITY: (
        _task("intrusion", "Anyone inside the fence", always=True),
        _task("tamper", "Camera covered, turned or cut", always=True),
        _task("patrol_check", "Night guard round seen at the gate"),
    ),
    SiteKind.TRANSPORT_HUB: (
        _task("crowd", "Overcrowding on platforms and in halls"),
        _task("loitering", "Loitering in the waiting hall"),
        _task("line_crossing", "Someone crossing the platform edge"),
    ),
    SiteKind.MARKET: (
        _task("crowd", "Crowding in the rows during trading hours"),
        _task("intrusion", "Anyone in the rows after closing"),
        _task("fire_smoke", "Fire or smoke in the rows", always=True),
    ),
    SiteKind.STREET: (
        _task("crowd", "Fights and crowds outside bars at night"),
        _task("vandalism", "Damage to shop fronts"),
    ),
    SiteKind.SQUARE: (
        _task("crowd", "Unplanned gatherings"),
        _task("vandalism", "Damage to monuments and fountains"),
    ),
    SiteKind.HOSPITAL: (
        _task("loitering", "Loitering at the emergency entrance at night"),
        _task("line_crossing", "Cars stopping in the ambulance lane", always=True),
    ),
    SiteKind.OTHER: (
        _task("crowd", "Crowds at events"),
        _task("tamper", "Camera covered, turned or cut", always=True),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class CameraModel:
    vendor: str
    model: str
    firmwares: tuple[str, ...]
    share: float
    main_path: str
    sub_path: str


_HIKVISION = ("/Streaming/Channels/101", "/Streaming/Channels/102")
_DAHUA = ("/cam/realmonitor?channel=1&subtype=0", "/cam/realmonitor?channel=1&subtype=1")
_UNIVIEW = ("/unicast/c1/s0/live", "/unicast/c1/s1/live")
CAMERA_MODELS: tuple[CameraModel, ...] = (
    CameraModel("Hikvision", "DS-2CD2T47G2-L", ("V5.7.3 build 220112", "V5.7.12 build 230301"), 0.30, *_HIKVISION),
    CameraModel("Hikvision", "DS-2CD2143G2-IS", ("V5.7.3 build 220112", "V5.7.15 build 230815"), 0.14, *_HIKVISION),
    CameraModel("Hikvision", "DS-2DE4425IW-DE", ("V5.6.15 build 210425", "V5.7.1 build 220718"), 0.06, *_HIKVISION),
    CameraModel("Dahua", "IPC-HFW2441S-S", ("V2.820.0000000.5.R", "V2.840.0000000.2.R"), 0.18, *_DAHUA),
    CameraModel("Dahua", "IPC-HDBW3441E-AS", ("V2.820.0000000.18.R", "V2.840.0000000.9.R"), 0.10, *_DAHUA),
    CameraModel("Uniview", "IPC2124LB-SF28KM-G", ("IPC_G6103-B0005P22D1907", "IPC_G6103-B0010P60D2208"), 0.13, *_UNIVIEW),
    CameraModel("Uniview", "IPC3614SB-ADF28KM-I0", ("IPC_G6103-B0005P22D1907", "IPC_G6103-B0010P60D2208"), 0.09, *_UNIVIEW),
)  # fmt: skip
STATUS_SHARES: dict[CameraStatus, float] = {
    CameraStatus.ACTIVE: 0.95,
    CameraStatus.MAINTENANCE: 0.03,
    CameraStatus.PLANNED: 0.02,
}
