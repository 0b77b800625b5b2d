"""Hotspot and near-repeat analyses of the caller's crime records: what the API, the console
and the reports call. Reads the store; the arithmetic is in ``grid`` and ``near_repeat``.

``hotspot_analysis(session, scope, query)`` and ``near_repeat_analysis(session, scope, query)``
run only on the records of the districts ``scope`` sees (``auth.scope.district_condition``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from safecity.auth.roles import Scope
from safecity.auth.scope import district_condition
from safecity.city.crime_register import PUBLIC_PLACE_KINDS
from safecity.city.models import District
from safecity.insights.hotspots.grid import (
    GiStar,
    Grid,
    LocalPlane,
    bandwidth_rule,
    check_workload,
    getis_ord_star,
    kernel_density,
    significance_level,
)
from safecity.insights.hotspots.near_repeat import knox_test
from safecity.insights.hotspots.schemas import (
    CellFeature,
    CellGeometry,
    CellProperties,
    CrimeSelection,
    HotspotClass,
    HotspotMap,
    HotspotQuery,
    HotspotSummary,
    NearRepeat,
    NearRepeatQuery,
)
from safecity.insights.models import CrimeRecord

DEFAULT_BAND_CELLS = 1.5
"""Gi* neighbourhood in cells: 1.5 reaches the eight touching cells (queen contiguity)."""
BANDWIDTH_RULE = (
    "spatial Silverman rule (as ArcGIS Kernel Density): 0.9 · min(SD, √(1/ln 2) · Dm) · n^-0.2"
)
CORRECTION = "Benjamini–Hochberg false discovery rate (esda.fdr) at each confidence level"
SECONDS_PER_DAY = 86_400.0


class UnknownDistricts(LookupError):
    """The query names districts the caller does not have (or that do not exist)."""


@dataclass(frozen=True)
class _Crimes:
    districts: Sequence[District]
    longitude: np.ndarray
    latitude: np.ndarray
    days: np.ndarray
    """Days since the Unix epoch."""
    without_position: int


def _districts(session: Session, scope: Scope, selection: CrimeSelection) -> list[District]:
    query = select(District).where(district_condition(scope, District.id)).order_by(District.id)
    if selection.district_id:
        query = query.where(District.id.in_(selection.district_id))
    districts = list(session.scalars(query))
    missing = sorted(set(selection.district_id) - {d.id for d in districts})
    if missing:
        raise UnknownDistricts(
            f"no district {', '.join(map(str, missing))} among yours"
            if len(missing) < 5
            else f"{len(missing)} of the districts asked for are not among yours"
        )
    return districts


def _crimes(session: Session, scope: Scope, selection: CrimeSelection) -> _Crimes:
    districts = _districts(session, scope, selection)
    conditions: list[ColumnElement[bool]] = [
        district_condition(scope, CrimeRecord.district_id),
        CrimeRecord.district_id.in_([d.id for d in districts]),
    ]
    if selection.kind:
        conditions.append(CrimeRecord.kind.in_(selection.kind))
    if selection.public_only:
        conditions.append(CrimeRecord.place_kind.in_(sorted(PUBLIC_PLACE_KINDS)))
    if selection.since is not None:
        conditions.append(CrimeRecord.occurred_at >= selection.since)
    if selection.until is not None:
        conditions.append(CrimeRecord.occurred_at < selection.until)
    positioned = CrimeRecord.latitude.is_not(None) & CrimeRecord.longitude.is_not(None)
    rows = session.execute(
        select(CrimeRecord.longitude, CrimeRecord.latitude, CrimeRecord.occurred_at).where(
            *conditions, positioned
        )
    ).all()
    without = session.scalar(select(func.count()).where(*conditions, ~positioned)) or 0
    return _Crimes(
        districts=districts,
        longitude=np.array([row[0] for row in rows], dtype=float),
        latitude=np.array([row[1] for row in rows], dtype=float),
        days=np.array([row[2].timestamp() / SECONDS_PER_DAY for row in rows], dtype=float),
        without_position=int(without),
    )


def _area(districts: Sequence[District]) -> BaseGeometry:
    return shapely.union_all([shape(d.geometry) for d in districts])


def _without_position_note(count: int) -> list[str]:
    if not count:
        return []
    return [
        f"{count:,} {'record has' if count == 1 else 'records have'} only a district, no"
        " position, and so are left out of the map."
    ]


def hotspot_analysis(session: Session, scope: Scope, query: HotspotQuery) -> HotspotMap:
    """Kernel density and Gi* hotspots on a grid over the caller's districts.

    Raises ``UnknownDistricts`` for a district filter outside the scope and
    ``grid.GridTooLarge`` when the cell size would make too many cells."""
    started = time.perf_counter()
    crimes = _crimes(session, scope, query)
    cell_m = float(query.cell_m)
    band_m = query.band_m if query.band_m is not None else DEFAULT_BAND_CELLS * cell_m
    selection = query.model_dump(mode="json")
    if not crimes.districts:
        return HotspotMap(
            features=[],
            summary=_summary(crimes, 0, 0, cell_m, None, band_m, {}, (0.0, 0.0), started),
            selection=selection,
        )
    area = _area(crimes.districts)
    west, south, east, north = area.bounds
    plane = LocalPlane((west + east) / 2, (south + north) / 2)
    corner_x, corner_y = plane.to_metres(np.array([west, east]), np.array([south, north]))
    grid = Grid.covering(
        (float(corner_x[0]), float(corner_y[0]), float(corner_x[1]), float(corner_y[1])), cell_m
    )
    centre_x, centre_y = grid.all_centres()
    inside = shapely.contains_xy(area, *plane.to_degrees(centre_x, centre_y))
    x, y = plane.to_metres(crimes.longitude, crimes.latitude)
    all_counts = np.bincount(grid.index_of(x, y), minlength=grid.columns * grid.rows)
    study = np.flatnonzero(inside | (all_counts > 0))
    check_workload(len(study), cell_m, band_m)
    counts = all_counts[study]
    cell_x, cell_y = centre_x[study], centre_y[study]

    bandwidth = query.bandwidth_m if query.bandwidth_m is not None else bandwidth_rule(x, y)
    density = (
        kernel_density(all_counts.reshape(grid.rows, grid.columns), cell_m, bandwidth).ravel()[
            study
        ]
        if bandwidth is not None
        else np.zeros(len(study))
    )
    gi = getis_ord_star(counts, cell_x, cell_y, band_m)
    levels = significance_level(gi.z, gi.p)
    classes = [HotspotClass.of_level(int(level)) for level in levels]

    shown = np.flatnonzero((counts > 0) | (density > 0) | (levels != 0))
    features = _features(
        grid,
        plane,
        study[shown],
        counts[shown],
        density[shown],
        GiStar(gi.z[shown], gi.p[shown], gi.p_fdr[shown]),
        [classes[i] for i in shown],
    )
    tally = {kind: 0 for kind in HotspotClass}
    for one in classes:
        tally[one] += 1
    origin_lon, origin_lat = plane.to_degrees(np.array([grid.x0]), np.array([grid.y0]))
    summary = _summary(
        crimes,
        len(study),
        len(features),
        cell_m,
        bandwidth,
        band_m,
        tally,
        (round(float(origin_lon[0]), 6), round(float(origin_lat[0]), 6)),
        started,
        projection=(
            f"equirectangular about {plane.latitude:.4f}°N {plane.longitude:.4f}°E"
            " (distance error under 0.3% across a city)"
        ),
    )
    return HotspotMap(features=features, summary=summary, selection=selection)


def _features(
    grid: Grid,
    plane: LocalPlane,
    index: np.ndarray,
    counts: np.ndarray,
    density: np.ndarray,
    gi: GiStar,
    classes: Sequence[HotspotClass],
) -> list[CellFeature]:
    """The cells as GeoJSON features: their corners back in degrees (to a tenth of a metre).
    Built without validation: thousands of cells, every value made here."""
    row, column = np.divmod(index, grid.columns)
    x0 = grid.x0 + column * grid.cell_m
    y0 = grid.y0 + row * grid.cell_m
    side = grid.cell_m
    xs = np.column_stack([x0, x0 + side, x0 + side, x0, x0])
    ys = np.column_stack([y0, y0, y0 + side, y0 + side, y0])
    lon, lat = plane.to_degrees(xs, ys)
    rings = np.round(np.stack([lon, lat], axis=-1), 6).tolist()
    return [
        CellFeature.model_construct(
            geometry=CellGeometry.model_construct(coordinates=[[tuple(c) for c in ring]]),
            properties=CellProperties.model_construct(
                row=int(r),
                column=int(c),
                count=int(n),
                density=round(float(d), 3),
                z=round(float(z), 4),
                p=float(p),
                p_fdr=float(q),
                hotspot_class=kind,
            ),
        )
        for ring, r, c, n, d, z, p, q, kind in zip(
            rings, row, column, counts, density, gi.z, gi.p, gi.p_fdr, classes, strict=True
        )
    ]


def _summary(
    crimes: _Crimes,
    cells: int,
    shown: int,
    cell_m: float,
    bandwidth: float | None,
    band_m: float,
    classes: dict[HotspotClass, int],
    origin: tuple[float, float],
    started: float,
    projection: str = "none (no districts)",
) -> HotspotSummary:
    notes = _without_position_note(crimes.without_position)
    hot = sum(n for kind, n in classes.items() if kind.startswith("hot"))
    notes.append(
        f"{hot:,} of {cells:,} cells are hot spots: more crimes in and around them than the"
        " area's average would put there by chance, after the false-discovery-rate correction."
        " A hot spot says where crimes concentrate, not why, nor the risk to each resident or"
        " passer-by (busy places have more of both)."
    )
    return HotspotSummary(
        records=len(crimes.longitude),
        without_position=crimes.without_position,
        cells=cells,
        cells_shown=shown,
        cell_m=cell_m,
        bandwidth_m=round(bandwidth, 1) if bandwidth is not None else None,
        bandwidth_rule=BANDWIDTH_RULE,
        band_m=band_m,
        classes=classes,
        correction=CORRECTION,
        projection=projection,
        grid_origin=origin,
        notes=notes,
        seconds=round(time.perf_counter() - started, 3),
    )


def near_repeat_analysis(session: Session, scope: Scope, query: NearRepeatQuery) -> NearRepeat:
    """The Knox test on the caller's crime records. Raises ``UnknownDistricts`` and
    ``near_repeat.TooManyPairs``."""
    started = time.perf_counter()
    crimes = _crimes(session, scope, query)
    if len(crimes.longitude):
        plane = LocalPlane(float(crimes.longitude.mean()), float(crimes.latitude.mean()))
        x, y = plane.to_metres(crimes.longitude, crimes.latitude)
    else:
        x = y = np.zeros(0)
    result = knox_test(
        x,
        y,
        crimes.days,
        distance_m=query.distance_m,
        days=query.days,
        permutations=query.permutations,
        seed=query.seed,
    )
    ratio = result.ratio
    significant = result.p_value < 0.05 and result.observed > result.expected
    return NearRepeat(
        records=result.events,
        without_position=crimes.without_position,
        distance_m=result.distance_m,
        days=result.days,
        pairs=result.pairs,
        space_pairs=result.space_pairs,
        time_pairs=result.time_pairs,
        observed=result.observed,
        expected=round(result.expected, 3),
        ratio=round(ratio, 3) if ratio is not None else None,
        p_value=result.p_value,
        permutations=result.permutations,
        seed=result.seed,
        significant=significant,
        summary=near_repeat_words(result.events, query, result.observed, result.expected,
                                  result.p_value, significant, crimes.without_position),
        seconds=round(time.perf_counter() - started, 3),
        selection=query.model_dump(mode="json"),
    )  # fmt: skip


def near_repeat_words(
    events: int,
    query: NearRepeatQuery,
    observed: int,
    expected: float,
    p_value: float,
    significant: bool,
    without_position: int,
) -> str:
    """The Knox result as a sentence or three for the console and the reports."""
    near = f"{query.distance_m:g} m and {query.days:g} days"
    if events < 2:
        left_out = " ".join(_without_position_note(without_position))
        return f"Too few crimes with a position to test ({events}). {left_out}".strip()
    pairs = f"{observed:,} pairs of the {events:,} crimes lie within {near} of each other"
    chance = (
        f"{expected:,.1f} would by chance (p = {p_value:.3g}, {query.permutations} permutations)"
    )
    if significant:
        verdict = (
            f"Near repeats: after a crime, more follow within {near} than chance explains"
            f" ({observed / expected:.2f} times as many pairs)."
        )
    else:
        verdict = f"No sign of near repeats within {near}."
    return f"{pairs}; {chance}. {verdict}"


def selection_words(selection: dict[str, Any]) -> str:
    """The filters of an analysis in a few words, for a caption."""
    parts = [", ".join(selection.get("kind") or []) or "all kinds"]
    if selection.get("public_only"):
        parts.append("public places only")
    if selection.get("since") or selection.get("until"):
        parts.append(f"{selection.get('since') or '…'} to {selection.get('until') or '…'}")
    return "; ".join(parts)
