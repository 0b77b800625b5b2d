"""Who covers whom: a camera covers a demand point within its range (a disc of ``radius_m``).

Answered with a k-d tree on the local plane, so a city's thousands of candidates and demand
points cost milliseconds and the coverage matrix holds only the pairs in range (a few per
demand point), never the full candidates × demand table.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csr_matrix
from scipy.spatial import cKDTree


def _points(xy: ArrayLike) -> NDArray[np.float64]:
    return np.asarray(xy, dtype=float).reshape(-1, 2)


def covered(demand_xy: ArrayLike, cameras_xy: ArrayLike, radius_m: float) -> NDArray[np.bool_]:
    """Which demand points lie within ``radius_m`` of at least one camera (the edge counts)."""
    demand = _points(demand_xy)
    cameras = _points(cameras_xy)
    if cameras.shape[0] == 0 or demand.shape[0] == 0:
        return np.zeros(demand.shape[0], dtype=bool)
    distance, _ = cKDTree(cameras).query(demand, k=1, distance_upper_bound=radius_m * (1 + 1e-9))
    return np.asarray(np.isfinite(distance))


def coverage_matrix(demand_xy: ArrayLike, sites_xy: ArrayLike, radius_m: float) -> csr_matrix:
    """A sparse (demand × sites) matrix of 1 where the site covers the demand point."""
    demand = _points(demand_xy)
    sites = _points(sites_xy)
    shape = (demand.shape[0], sites.shape[0])
    if 0 in shape:
        return csr_matrix(shape, dtype=np.int8)
    pairs = cKDTree(demand).sparse_distance_matrix(
        cKDTree(sites), radius_m * (1 + 1e-9), output_type="ndarray"
    )
    # A pair at distance 0 is in range too, though a sparse matrix would drop its 0.
    return csr_matrix((np.ones(pairs.size, dtype=np.int8), (pairs["i"], pairs["j"])), shape=shape)


def covered_by_sites(matrix: csr_matrix, chosen: ArrayLike) -> NDArray[np.bool_]:
    """Which demand points (rows) at least one of the ``chosen`` sites (columns) covers."""
    columns = np.asarray(chosen, dtype=np.int64).reshape(-1)
    if columns.size == 0:
        return np.zeros(matrix.shape[0], dtype=bool)
    return np.asarray(matrix[:, columns].sum(axis=1)).reshape(-1) > 0
