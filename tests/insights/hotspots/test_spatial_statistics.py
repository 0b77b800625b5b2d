"""The spatial statistics behind the hotspot map, checked against published figures, a
textbook formula and planted patterns."""

from __future__ import annotations

import math

import esda
import geopandas
import numpy as np
import pytest
from libpysal.examples import load_example
from libpysal.weights import Queen

from safecity.insights.hotspots.grid import (
    Grid,
    GridTooLarge,
    LocalPlane,
    bandwidth_rule,
    benjamini_hochberg,
    check_workload,
    getis_ord_star,
    kernel_density,
    neighbours_within,
    significance_level,
)


def test_morans_i_of_columbus_crime_matches_the_published_value() -> None:
    """Moran's I of CRIME (residential burglaries and vehicle thefts per 1,000 households) in
    the 49 Columbus, Ohio neighbourhoods of Anselin (1988, Spatial Econometrics, table 12.1),
    queen contiguity, row-standardised.

    Reference: R's spdep, ``moran.test(columbus$CRIME, nb2listw(poly2nb(columbus)))`` (queen,
    style "W", randomisation) prints I = 0.500188557, E[I] = -0.020833333, Var[I] =
    0.008689289, standard deviate 5.5894, as in Roger Bivand's spdep course notes and its
    many reproductions; GeoDa's Moran scatter plot of CRIME with queen weights shows I = 0.500.
    The example ships inside the libpysal wheel: no download, works offline."""
    example = load_example("columbus")
    frame = geopandas.read_file(example.get_path("columbus.shp"))
    assert len(frame) == 49
    weights = Queen.from_dataframe(frame, use_index=False)
    weights.transform = "r"

    moran = esda.Moran(frame["CRIME"].to_numpy(), weights, permutations=0)

    assert pytest.approx(0.500188557, abs=5e-10) == moran.I
    assert pytest.approx(-1 / 48) == moran.EI
    assert moran.VI_rand == pytest.approx(0.008689289, abs=5e-10)
    assert moran.z_rand == pytest.approx(5.5894, abs=5e-5)


def _textbook_gi_star(counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Ord and Getis (1995), eq. 14, with the cell itself among its neighbours."""
    n = len(counts)
    mean = counts.mean()
    s = math.sqrt((counts**2).mean() - mean**2)
    sum_w = weights.sum(axis=1)
    numerator = weights @ counts - mean * sum_w
    denominator = s * np.sqrt((n * (weights**2).sum(axis=1) - sum_w**2) / (n - 1))
    return np.asarray(numerator / denominator)


def test_gi_star_is_ord_and_getis_formula_on_queen_neighbours() -> None:
    rng = np.random.default_rng(3)
    grid = Grid(0.0, 0.0, 100.0, columns=6, rows=5)
    x, y = grid.all_centres()
    counts = rng.poisson(4.0, size=30)
    distance = np.hypot(x[:, None] - x[None, :], y[:, None] - y[None, :])
    queen = (distance <= 150.0).astype(float)  # itself and the touching cells

    gi = getis_ord_star(counts, x, y, band_m=150.0)

    np.testing.assert_allclose(gi.z, _textbook_gi_star(counts.astype(float), queen), rtol=1e-9)


def _analyse(
    x: np.ndarray, y: np.ndarray, cell_m: float, *, fdr: bool = True
) -> tuple[Grid, np.ndarray]:
    grid = Grid.covering((0.0, 0.0, 2000.0, 2000.0), cell_m)
    counts = np.bincount(grid.index_of(x, y), minlength=grid.columns * grid.rows)
    cx, cy = grid.all_centres()
    gi = getis_ord_star(counts, cx, cy, band_m=1.5 * cell_m)
    return grid, significance_level(gi.z, gi.p, fdr=fdr)


def test_gi_star_finds_a_planted_cluster_and_nothing_far_from_it() -> None:
    rng = np.random.default_rng(11)
    x = np.concatenate([rng.uniform(0, 2000, 2000), rng.normal(1450, 60, 150)])
    y = np.concatenate([rng.uniform(0, 2000, 2000), rng.normal(650, 60, 150)])

    grid, level = _analyse(x, y, 100.0)

    planted = int(grid.index_of(np.array([1450.0]), np.array([650.0]))[0])
    assert level[planted] == 99
    cx, cy = grid.all_centres()
    hot = level > 0
    assert hot.sum() >= 4
    assert np.hypot(cx[hot] - 1450, cy[hot] - 650).max() < 400


def test_fdr_removes_the_chance_hotspots_of_a_uniform_pattern() -> None:
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 2000, 4000), rng.uniform(0, 2000, 4000)

    _, uncorrected = _analyse(x, y, 100.0, fdr=False)
    _, corrected = _analyse(x, y, 100.0)

    assert (uncorrected != 0).sum() >= 10  # chance alone passes 90% in about one cell of ten
    assert (corrected != 0).sum() == 0


def test_fdr_adjusted_p_agrees_with_esda_cutoff() -> None:
    rng = np.random.default_rng(2)
    p = np.concatenate([rng.uniform(0, 0.002, 15), rng.uniform(0, 1, 400)])
    adjusted = benjamini_hochberg(p)
    for alpha in (0.01, 0.05, 0.10):
        assert set(np.flatnonzero(adjusted <= alpha)) == set(
            np.flatnonzero(p <= esda.fdr(p, alpha))
        )
    assert (adjusted >= p).all()


def _exact_quartic_density(
    x: np.ndarray, y: np.ndarray, at: tuple[float, float], h: float
) -> float:
    d2 = (x - at[0]) ** 2 + (y - at[1]) ** 2
    return float((3 / (math.pi * h**2) * np.where(d2 < h**2, (1 - d2 / h**2) ** 2, 0)).sum() * 1e6)


def test_kernel_density_integrates_to_the_points_and_matches_the_exact_sum() -> None:
    rng = np.random.default_rng(8)
    x, y = rng.uniform(800, 1200, 300), rng.uniform(800, 1200, 300)
    grid = Grid.covering((0.0, 0.0, 2000.0, 2000.0), 20.0)
    counts = np.bincount(grid.index_of(x, y), minlength=grid.columns * grid.rows)

    density = kernel_density(counts.reshape(grid.rows, grid.columns), 20.0, 300.0).ravel()

    cell_km2 = (20.0 / 1000) ** 2
    assert density.sum() * cell_km2 == pytest.approx(300)
    middle = int(grid.index_of(np.array([1000.0]), np.array([1000.0]))[0])
    cx, cy = grid.centres(np.array([middle]))
    exact = _exact_quartic_density(x, y, (float(cx[0]), float(cy[0])), 300.0)
    assert density[middle] == pytest.approx(exact, rel=0.03)  # binned: points moved < 15 m
    assert density[0] == 0  # the far corner is beyond the radius of every point


def test_bandwidth_rule_follows_the_standard_distance() -> None:
    rng = np.random.default_rng(4)
    x, y = rng.normal(0, 1000, 5000), rng.normal(0, 1000, 5000)
    # Standard distance √2·1000; median distance of a 2-D normal sigma√(2 ln 2): the rule takes
    # the smaller of √2·1000 and √(1/ln 2)·1000·√(2 ln 2) = √2·1000 — both the same here.
    expected = 0.9 * math.sqrt(2) * 1000 * 5000 ** (-0.2)
    assert bandwidth_rule(x, y) == pytest.approx(expected, rel=0.03)
    assert bandwidth_rule(np.array([1.0]), np.array([1.0])) is None


def test_a_grid_too_fine_for_its_area_is_refused_with_the_smallest_cell_that_fits() -> None:
    with pytest.raises(GridTooLarge, match="choose cells of at least 100 m"):
        Grid.covering((0.0, 0.0, 30_000.0, 20_000.0), 50.0, max_cells=60_000)
    assert Grid.covering((0.0, 0.0, 30_000.0, 20_000.0), 100.0, max_cells=60_000).columns == 300


def test_gi_star_work_is_bounded_by_its_neighbour_links() -> None:
    assert neighbours_within(150.0, 100.0) == 9  # queen: itself and the eight touching
    assert neighbours_within(100.0, 100.0) == 5  # rook
    check_workload(40_000, 100.0, 150.0)
    with pytest.raises(GridTooLarge, match="links for Gi"):
        check_workload(40_000, 100.0, 300.0)


def test_local_plane_keeps_city_distances_within_a_fraction_of_a_percent() -> None:
    plane = LocalPlane(71.45, 51.15)
    # Two points 0.1° of longitude apart on the parallel 51.25°N: haversine says 6,968 m.
    lon, lat = np.array([71.40, 71.50]), np.array([51.25, 51.25])
    x, y = plane.to_metres(lon, lat)
    phi = math.radians(51.25)
    dlon = math.radians(0.1)
    haversine = 2 * 6_371_008.8 * math.asin(math.cos(phi) * math.sin(dlon / 2))
    assert math.hypot(x[1] - x[0], y[1] - y[0]) == pytest.approx(haversine, rel=3e-3)
    back_lon, back_lat = plane.to_degrees(x, y)
    np.testing.assert_allclose(back_lon, lon)
    np.testing.assert_allclose(back_lat, lat)


def test_kernel_density_keeps_the_mass_of_a_crime_at_the_grid_edge() -> None:
    """One crime in a corner cell and one in the middle, a radius wider than half the grid:
    most of the corner crime's kernel falls off the grid, yet each crime still adds one."""
    grid = Grid.covering((0.0, 0.0, 2000.0, 2000.0), 100.0)
    counts = np.bincount(
        grid.index_of(np.array([50.0, 1050.0]), np.array([50.0, 1050.0])),
        minlength=grid.columns * grid.rows,
    ).reshape(grid.rows, grid.columns)
    assert counts[0, 0] == 1 and counts.sum() == 2

    density = kernel_density(counts, 100.0, 1500.0)

    cell_km2 = (100.0 / 1000) ** 2
    assert density.sum() * cell_km2 == pytest.approx(2, abs=1e-6)
    assert (density >= 0).all()
