"""What a camera should watch: crime records weighted by kind, gathered into small cells.

A record's weight says how much it matters that a camera would have seen it. The defaults
put violent crime in the street first and fraud last (most fraud happens on a telephone or
online, where no camera looks); a planner overrides any of them per query. Records in one
cell of ``cell_m`` metres become one demand point at their weighted centroid, so a year of
a city's records becomes a few thousand points and the point lies where the records are,
not at the cell's corner.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from safecity.city.crime_register import CrimeKind

DEFAULT_KIND_WEIGHTS: Mapping[CrimeKind, float] = {
    CrimeKind.ROBBERY: 3.0,
    CrimeKind.ASSAULT: 3.0,
    CrimeKind.HOOLIGANISM: 2.0,
    CrimeKind.VEHICLE_THEFT: 2.0,
    CrimeKind.THEFT: 1.5,
    CrimeKind.VANDALISM: 1.0,
    CrimeKind.DRUGS: 1.0,
    CrimeKind.OTHER: 0.5,
    CrimeKind.FRAUD: 0.25,
}
"""Relative weights of the kinds: robbery and assault (violence a camera sees and an operator
can act on) 3; hooliganism and vehicle theft 2; theft 1.5; vandalism and drugs 1; other 0.5;
fraud 0.25. Every kind is listed, so a new kind fails the test that checks it."""


def kind_weights(overrides: Mapping[CrimeKind, float] | None = None) -> dict[CrimeKind, float]:
    """The default table with ``overrides`` applied; refuses a negative or non-finite weight."""
    weights = dict(DEFAULT_KIND_WEIGHTS)
    for kind, weight in (overrides or {}).items():
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(f"the weight of {kind.value} must be a number of 0 or more")
        weights[CrimeKind(kind)] = float(weight)
    return weights


@dataclass(frozen=True)
class DemandPoints:
    """Demand points on the local plane: ``xy`` (n, 2) metres, the summed ``weight`` and the
    number of ``records`` behind each."""

    xy: NDArray[np.float64]
    weight: NDArray[np.float64]
    records: NDArray[np.int64]

    def __len__(self) -> int:
        return int(self.weight.size)

    @property
    def total_weight(self) -> float:
        return float(self.weight.sum())


def gather_demand(xy: ArrayLike, weight: ArrayLike, cell_m: float) -> DemandPoints:
    """One point per occupied square cell of ``cell_m`` metres: the weighted centroid of its
    records (their plain centroid where all weigh 0), their summed weight and their count.
    Records of weight 0 still count as records, so coverage in records stays honest."""
    if not cell_m > 0:
        raise ValueError("the demand cell must be larger than 0 m")
    points = np.asarray(xy, dtype=float).reshape(-1, 2)
    weights = np.asarray(weight, dtype=float).reshape(-1)
    if points.shape[0] != weights.size:
        raise ValueError("one weight per record")
    if weights.size == 0:
        return DemandPoints(np.empty((0, 2)), np.empty(0), np.empty(0, dtype=np.int64))
    cells = np.floor(points / cell_m).astype(np.int64)
    _, cell_of, records = np.unique(cells, axis=0, return_inverse=True, return_counts=True)
    cell_of = cell_of.reshape(-1)
    total = np.bincount(cell_of, weights=weights)
    # Where a cell's records all weigh 0 its point is their plain centroid.
    share = np.where(total[cell_of] > 0, weights, 1.0)
    norm = np.bincount(cell_of, weights=share)
    centroid = np.column_stack(
        [
            np.bincount(cell_of, weights=points[:, 0] * share) / norm,
            np.bincount(cell_of, weights=points[:, 1] * share) / norm,
        ]
    )
    return DemandPoints(centroid, total.astype(float), records.astype(np.int64))
