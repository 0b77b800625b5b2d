"""What checking a registry file gives: valid camera records, row problems, and what rows are
checked against."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from safecity.city.geo import DistrictLocator
from safecity.city.models import CameraStatus
from safecity.city.registry.columns import OPTIONAL_COLUMNS


@dataclass(frozen=True)
class CameraRecord:
    """One valid registry row. ``provided`` names the optional columns the file carried."""

    code: str
    name: str
    latitude: float
    longitude: float
    district_id: int
    main_stream_url: str
    address: str | None = None
    site_code: str | None = None
    sub_stream_url: str | None = None
    status: CameraStatus = CameraStatus.ACTIVE
    installed_at: date | None = None
    vendor: str | None = None
    model: str | None = None
    firmware: str | None = None
    provided: frozenset[str] = OPTIONAL_COLUMNS


@dataclass(frozen=True)
class RowProblem:
    where: str
    camera_id: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ImportContext:
    """What rows are checked against: district polygons, district names/codes, site codes.

    ``district_keys`` maps a casefolded district name or code to the districts it names (a
    name of one district may be the code of another); ``sites`` maps site codes to ids.
    """

    locator: DistrictLocator
    district_keys: Mapping[str, frozenset[int]]
    sites: Mapping[str, int]


@dataclass(frozen=True)
class Validation:
    records: tuple[CameraRecord, ...]
    problems: tuple[RowProblem, ...]

    @classmethod
    def collect(cls, results: Iterable[CameraRecord | RowProblem]) -> Validation:
        records: list[CameraRecord] = []
        problems: list[RowProblem] = []
        for result in results:
            if isinstance(result, CameraRecord):
                records.append(result)
            else:
                problems.append(result)
        return cls(tuple(records), tuple(problems))
