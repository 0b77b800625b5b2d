"""Crime points on a square grid: a local metric plane, kernel density and Getis-Ord Gi*.

Pure: numpy arrays in, numpy arrays out. Positions are projected to metres with an
equirectangular projection about the study area's centre (x east, y north): at city scale
(±15 km, ±0.15° of latitude at 51°N) its distances are off by under 0.3%, well below a cell.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import esda
import numpy as np
from libpysal.weights import DistanceBand
from scipy.signal import fftconvolve
from scipy.stats import norm

EARTH_RADIUS_M = 6_371_008.8
"""The mean Earth radius (IUGG)."""
MAX_CELLS = 40_000
"""The most cells one grid may have: a 250 m grid over a 50 × 50 km city, or a 100 m one over
20 × 20 km. Beyond it the answer would be megabytes and the analysis many seconds."""
MAX_WEIGHTS = 400_000
"""The most neighbour links Gi* may weigh (cells × neighbours each): libpysal's weights are
Python objects, and 400,000 of them take about four seconds."""
CONFIDENCE_LEVELS = (0.99, 0.95, 0.90)


@dataclass(frozen=True)
class LocalPlane:
    """Equirectangular projection about (``longitude``, ``latitude``), in metres."""

    longitude: float
    latitude: float

    def to_metres(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scale = math.cos(math.radians(self.latitude))
        x = np.radians(np.asarray(lon, dtype=float) - self.longitude) * EARTH_RADIUS_M * scale
        y = np.radians(np.asarray(lat, dtype=float) - self.latitude) * EARTH_RADIUS_M
        return x, y

    def to_degrees(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scale = math.cos(math.radians(self.latitude))
        lon = self.longitude + np.degrees(np.asarray(x, dtype=float) / (EARTH_RADIUS_M * scale))
        lat = self.latitude + np.degrees(np.asarray(y, dtype=float) / EARTH_RADIUS_M)
        return lon, lat


class GridTooLarge(ValueError):
    """The cell size asked for makes more than ``MAX_CELLS`` cells over the area."""


@dataclass(frozen=True)
class Grid:
    """Square cells of ``cell_m`` metres laid from (``x0``, ``y0``), the south-west corner,
    ``columns`` east by ``rows`` north. Cell (row, column) has index ``row * columns + column``."""

    x0: float
    y0: float
    cell_m: float
    columns: int
    rows: int

    @classmethod
    def covering(
        cls, bounds: tuple[float, float, float, float], cell_m: float, max_cells: int = MAX_CELLS
    ) -> Grid:
        """The grid over ``bounds`` (west, south, east, north in metres), or GridTooLarge."""
        west, south, east, north = bounds
        columns = max(1, math.ceil((east - west) / cell_m))
        rows = max(1, math.ceil((north - south) / cell_m))
        if columns * rows > max_cells:
            smallest = math.ceil(math.sqrt((east - west) * (north - south) / max_cells))
            raise GridTooLarge(
                f"a {cell_m:g} m grid over this area has {columns * rows:,} cells and the most"
                f" is {max_cells:,}: choose cells of at least {smallest} m or a smaller area"
            )
        return cls(west, south, float(cell_m), columns, rows)

    def centres(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        row, column = np.divmod(index, self.columns)
        return self.x0 + (column + 0.5) * self.cell_m, self.y0 + (row + 0.5) * self.cell_m

    def all_centres(self) -> tuple[np.ndarray, np.ndarray]:
        return self.centres(np.arange(self.columns * self.rows))

    def index_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The cell of each point (points on the grid's edges fall in the edge cells)."""
        column = np.clip(((x - self.x0) // self.cell_m).astype(int), 0, self.columns - 1)
        row = np.clip(((y - self.y0) // self.cell_m).astype(int), 0, self.rows - 1)
        return np.asarray(row * self.columns + column)


def neighbours_within(band_m: float, cell_m: float) -> int:
    """How many cells (itself included) have their centre within ``band_m`` of a cell's."""
    reach = int(band_m // cell_m)
    steps = np.arange(-reach, reach + 1) * cell_m
    return int((steps[:, None] ** 2 + steps[None, :] ** 2 <= band_m**2).sum())


def check_workload(cells: int, cell_m: float, band_m: float) -> None:
    """GridTooLarge when Gi* over ``cells`` would weigh more than ``MAX_WEIGHTS`` links."""
    links = cells * neighbours_within(band_m, cell_m)
    if links > MAX_WEIGHTS:
        raise GridTooLarge(
            f"{cells:,} cells with neighbours within {band_m:g} m make {links:,} links for"
            f" Gi* and the most is {MAX_WEIGHTS:,}: choose larger cells, a shorter band or a"
            " smaller area"
        )


def bandwidth_rule(x: np.ndarray, y: np.ndarray) -> float | None:
    """The kernel's search radius by the spatial variant of Silverman's rule of thumb that
    ArcGIS's Kernel Density uses: 0.9 · min(SD, √(1/ln 2) · Dm) · n^(-1/5), where SD is the
    standard distance of the points and Dm their median distance from the mean centre. None
    for fewer than two distinct points."""
    n = len(x)
    if n < 2:
        return None
    dx, dy = x - x.mean(), y - y.mean()
    standard_distance = math.sqrt(float((dx**2).mean() + (dy**2).mean()))
    median_distance = float(np.median(np.hypot(dx, dy)))
    radius = 0.9 * min(standard_distance, math.sqrt(1 / math.log(2)) * median_distance)
    radius *= n ** (-0.2)
    return radius if radius > 0 else None


def kernel_density(counts: np.ndarray, cell_m: float, bandwidth_m: float) -> np.ndarray:
    """Crimes per km² at each cell centre of a (rows, columns) grid of ``counts``, by the
    quartic (biweight) kernel of radius ``bandwidth_m`` (Silverman 1986, eq. 4.5):
    K(d) = 3/(pi h²)·(1 - d²/h²)² for d < h.

    Binned: each crime counts at its cell's centre (off by at most 0.7 of a cell) and the
    counts are convolved with the kernel sampled on the grid (FFT), so the cost depends on
    the grid, not on the radius or the number of crimes. The sampled kernel is scaled to sum
    to one. The convolution is linear (zero-padded by the kernel's reach, then cropped to the
    grid: ``mode="same"``), so near an edge part of a crime's kernel falls outside the grid;
    edge correction: each crime's contribution is divided by the share of its kernel that lies
    inside the grid. So the densities times the cell area add up to the crimes, edge cells
    included (tests/insights/hotspots/test_spatial_statistics.py)."""
    reach = int(bandwidth_m // cell_m)
    offsets = np.arange(-reach, reach + 1) * cell_m
    distance2 = offsets[:, None] ** 2 + offsets[None, :] ** 2
    kernel = np.where(distance2 < bandwidth_m**2, (1.0 - distance2 / bandwidth_m**2) ** 2, 0.0)
    kernel /= kernel.sum()
    counts = counts.astype(float)
    # The kernel is symmetric: its mass inside the grid about each cell is the grid of ones
    # convolved with it. At least the kernel's centre weight, so never zero.
    inside = fftconvolve(np.ones_like(counts), kernel, mode="same")
    weights = np.divide(counts, inside, out=np.zeros_like(counts), where=counts > 0)
    density = fftconvolve(weights, kernel, mode="same") / (cell_m / 1000.0) ** 2
    return np.asarray(np.where(density > 1e-9, density, 0.0))


@dataclass(frozen=True)
class GiStar:
    """Getis-Ord Gi* of each cell: its z-score, the two-sided p-value under the normal
    approximation, and that p-value adjusted for the false discovery rate (Benjamini–Hochberg)."""

    z: np.ndarray
    p: np.ndarray
    p_fdr: np.ndarray


def getis_ord_star(
    counts: np.ndarray, cell_x: np.ndarray, cell_y: np.ndarray, band_m: float
) -> GiStar:
    """Gi* (Ord and Getis 1995) of ``counts`` with binary distance-band weights: a cell's
    neighbours are the cells whose centres lie within ``band_m`` of its own, and itself.

    z comes from esda's ``G_Local`` (``star=True``, binary weights, no permutations: the
    analytical z the statistic was designed for). A constant field has no variance: every z
    is then 0 and every p 1."""
    n = len(counts)
    if n < 2 or np.ptp(counts) == 0:
        return GiStar(np.zeros(n), np.ones(n), np.ones(n))
    with warnings.catch_warnings():
        # Cells with no neighbour but themselves (an island of the area) are expected.
        warnings.simplefilter("ignore", UserWarning)
        weights = DistanceBand(
            np.column_stack([cell_x, cell_y]), threshold=band_m, binary=True, silence_warnings=True
        )
        statistic = esda.G_Local(
            counts.astype(float), weights, transform="B", permutations=0, star=True
        )
    z = np.nan_to_num(np.asarray(statistic.Zs, dtype=float).ravel())
    p = 2.0 * norm.sf(np.abs(z))
    return GiStar(z, p, benjamini_hochberg(p))


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """p-values adjusted for the false discovery rate (Benjamini and Hochberg 1995): a cell is
    significant at level alpha with FDR control exactly when its adjusted p is at most alpha."""
    n = len(p)
    if n == 0:
        return np.asarray(p, dtype=float)
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    result = np.empty(n)
    result[order] = np.minimum(adjusted, 1.0)
    return result


def significance_level(z: np.ndarray, p: np.ndarray, *, fdr: bool = True) -> np.ndarray:
    """Each cell's confidence as a signed level: +99, +95, +90 (hot), -99, -95, -90 (cold) or
    0 (not significant). With ``fdr`` the cut-off at each level is esda's ``fdr`` (Benjamini–
    Hochberg) over all the cells' p-values; without it, the level itself."""
    level = np.zeros(len(p), dtype=int)
    for confidence in sorted(CONFIDENCE_LEVELS):
        alpha = round(1.0 - confidence, 10)
        cutoff = esda.fdr(p, alpha) if fdr and len(p) else alpha
        passed = p <= cutoff
        level[passed] = round(confidence * 100)
    return np.where(z < 0, -level, level)
