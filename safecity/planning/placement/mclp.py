"""The maximal covering location problem: choose ``budget`` sites that cover the most weight.

maximise Σ wᵢ·yᵢ  subject to  yᵢ ≤ Σ_{j covers i} xⱼ,  Σ xⱼ = p,  x, y ∈ {0, 1}
(Church & ReVelle 1974), on spopt's ``MCLP`` model and solved by the CBC that pulp ships.

Why not ``MCLP.from_cost_matrix`` as it stands: it takes a dense demand × sites cost matrix and
writes every coverage constraint over every site, zeros included, so a city's 5,000 demand
points × 8,000 sites is 40 million pulp terms (minutes, gigabytes) for a model whose
constraints hold a handful of terms each (bench/placement.py measures both). Here the same
model, the same spopt object with the same variables (``FacilityModelBuilder``), is written
from the sparse coverage matrix: one term per pair in range.

Before the model is written the problem is made smaller without changing its optimum: demand
points no site reaches and sites that reach no demand are left out; demand points reached by
the same set of sites become one (their weights summed); sites that reach the same set of
demand points become one (the one the caller prefers, say a requested point, stands for them).
A greedy choice is CBC's warm start, so a run stopped at its time limit is never worse than
greedy, and it stands in if CBC returns nothing at all.
"""

from __future__ import annotations

import enum
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pulp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csc_matrix, csr_matrix
from spopt.locate import MCLP
from spopt.locate.base import FacilityModelBuilder


class SolverStatus(enum.StrEnum):
    OPTIMAL = "optimal"
    """CBC proved the choice optimal."""
    TIME_LIMIT = "time_limit"
    """CBC stopped at its time limit with the best choice it had found (at least greedy's)."""
    GREEDY = "greedy"
    """CBC returned no choice at all; the greedy one stands in."""
    NOTHING_TO_COVER = "nothing_to_cover"
    """No site reaches any demand: there is nothing to choose."""


class ModelTooLarge(ValueError):
    """The reduced model holds more site-covers-demand pairs than the caller allows."""

    def __init__(self, pairs: int, limit: int, sites: int, demand: int) -> None:
        super().__init__(f"{pairs:,} coverage pairs, more than the {limit:,} allowed")
        self.pairs, self.limit, self.sites, self.demand = pairs, limit, sites, demand


@dataclass(frozen=True)
class CoveringSolution:
    chosen: NDArray[np.int64]
    """Column indices of the chosen sites, ascending; fewer than the budget where fewer sites
    reach any demand."""
    covered_weight: float
    status: SolverStatus
    model_sites: int
    """Sites in the model after the reduction."""
    model_demand: int
    """Demand points in the model after the reduction."""
    build_seconds: float
    solve_seconds: float


def solve_mclp(
    coverage: csr_matrix,
    weights: ArrayLike,
    budget: int,
    *,
    time_limit_s: float = 20.0,
    preference: ArrayLike | None = None,
    max_pairs: int | None = None,
) -> CoveringSolution:
    """The sites (columns of ``coverage``, demand × sites) that cover the most ``weights``
    (one per row). ``preference`` (one number per site, higher first) picks which of several
    interchangeable sites is named. Raises ``ModelTooLarge`` before writing a model whose
    coverage (after the reduction) holds more than ``max_pairs`` pairs: the time limit bounds
    CBC only, and writing such a model takes longer than solving it."""
    started = time.perf_counter()
    matrix = csr_matrix(coverage, dtype=np.int8)
    matrix.sum_duplicates()
    weight = np.asarray(weights, dtype=float).reshape(-1)
    if weight.size != matrix.shape[0]:
        raise ValueError("one weight per demand point (row)")
    if budget < 1:
        raise ValueError("the budget is at least one site")
    rank = (
        np.zeros(matrix.shape[1])
        if preference is None
        else np.asarray(preference, dtype=float).reshape(-1)
    )
    reduced = _reduce(matrix, weight, rank)
    if max_pairs is not None and reduced.matrix.nnz > max_pairs:
        raise ModelTooLarge(
            reduced.matrix.nnz, max_pairs, int(reduced.sites.size), int(reduced.weight.size)
        )
    p = min(budget, reduced.sites.size)
    if p == 0:
        return CoveringSolution(
            np.empty(0, dtype=np.int64), 0.0, SolverStatus.NOTHING_TO_COVER, 0, 0,
            time.perf_counter() - started, 0.0,
        )  # fmt: skip
    greedy = greedy_choice(reduced.matrix, reduced.weight, p)
    with _pulp_3_api():
        model = _model(reduced.matrix, reduced.weight, p, greedy)
        built = time.perf_counter()
        status = _solve(model, time_limit_s)
    solved = time.perf_counter()
    if status is SolverStatus.GREEDY:
        picked = greedy
    else:
        picked = np.array(
            [j for j, x in enumerate(model.fac_vars) if (x.value() or 0) > 0.5], dtype=np.int64
        )
    chosen = np.sort(reduced.sites[picked])
    return CoveringSolution(
        chosen=chosen,
        covered_weight=float(weight[_covered_rows(matrix, chosen)].sum()),
        status=status,
        model_sites=int(reduced.sites.size),
        model_demand=int(reduced.weight.size),
        build_seconds=built - started,
        solve_seconds=solved - built,
    )


@dataclass(frozen=True)
class _Reduced:
    matrix: csr_matrix
    """Merged demand × kept sites."""
    weight: NDArray[np.float64]
    sites: NDArray[np.int64]
    """For each kept column, the original site it stands for."""


def _reduce(matrix: csr_matrix, weight: NDArray[np.float64], rank: NDArray[np.float64]) -> _Reduced:
    rows = np.nonzero((weight > 0) & (np.diff(matrix.indptr) > 0))[0]
    kept = matrix[rows]
    kept.sort_indices()
    # Demand points reached by the same sites are one point for the model.
    groups: dict[bytes, int] = {}
    group_of = np.empty(rows.size, dtype=np.int64)
    for position in range(rows.size):
        key = kept.indices[kept.indptr[position] : kept.indptr[position + 1]].tobytes()
        group_of[position] = groups.setdefault(key, len(groups))
    merge = csr_matrix(
        (np.ones(rows.size), (group_of, np.arange(rows.size))), shape=(len(groups), rows.size)
    )
    merged = csc_matrix((merge @ kept) > 0, dtype=np.int8)
    merged_weight = np.asarray(merge @ weight[rows]).reshape(-1)
    # Sites that reach the same points are interchangeable: keep the preferred one.
    merged.sort_indices()
    best: dict[bytes, int] = {}
    for site in range(merged.shape[1]):
        start, end = merged.indptr[site], merged.indptr[site + 1]
        if start == end:
            continue
        key = merged.indices[start:end].tobytes()
        holder = best.get(key)
        if holder is None or rank[site] > rank[holder]:
            best[key] = site
    sites = np.array(sorted(best.values()), dtype=np.int64)
    return _Reduced(csr_matrix(merged[:, sites]), merged_weight, sites)


def greedy_choice(
    matrix: csr_matrix, weight: NDArray[np.float64], budget: int
) -> NDArray[np.int64]:
    """Column by column, the site that adds the most weight not yet covered (the classic
    (1 - 1/e)-approximation); stops early when no site adds any."""
    by_site = csc_matrix(matrix)
    gain = np.asarray(matrix.T @ weight, dtype=float).reshape(-1)
    covered = np.zeros(matrix.shape[0], dtype=bool)
    chosen: list[int] = []
    for _ in range(min(budget, matrix.shape[1])):
        site = int(np.argmax(gain))
        if gain[site] <= 0:
            break
        chosen.append(site)
        reached = by_site.indices[by_site.indptr[site] : by_site.indptr[site + 1]]
        for row in reached[~covered[reached]]:
            gain[matrix.indices[matrix.indptr[row] : matrix.indptr[row + 1]]] -= weight[row]
        covered[reached] = True
        gain[site] = -np.inf
    return np.array(chosen, dtype=np.int64)


def _model(
    matrix: csr_matrix, weight: NDArray[np.float64], budget: int, start: NDArray[np.int64]
) -> MCLP:
    """spopt's MCLP with its own variables (x[j] sites, y[i] demand), written sparsely."""
    n_demand, n_sites = matrix.shape
    model = MCLP("placement", pulp.LpProblem("placement", pulp.LpMaximize))
    FacilityModelBuilder.add_facility_integer_variable(model, range(n_sites), "x[{i}]")
    FacilityModelBuilder.add_client_integer_variable(model, range(n_demand), "y[{i}]")
    x: list[pulp.LpVariable] = model.fac_vars
    y: list[pulp.LpVariable] = model.cli_vars
    model.aij = matrix
    problem = model.problem
    problem += pulp.LpAffineExpression(zip(y, weight.tolist(), strict=True))
    for i in range(n_demand):
        sites = matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]]
        reach = pulp.LpAffineExpression([(x[j], 1) for j in sites.tolist()] + [(y[i], -1)])
        problem += pulp.LpConstraint(reach, pulp.LpConstraintGE, f"cover_{i}", 0)
    problem += pulp.LpConstraint(
        pulp.LpAffineExpression((site, 1) for site in x), pulp.LpConstraintEQ, "budget", budget
    )
    # Greedy's choice, completed to the budget, as CBC's first solution.
    start_set = set(start.tolist())
    for j in range(n_sites):
        if len(start_set) >= budget:
            break
        start_set.add(j)
    for j, site in enumerate(x):
        site.setInitialValue(1 if j in start_set else 0)
    covered = np.zeros(n_demand, dtype=bool)
    by_site = csc_matrix(matrix)
    for j in start_set:
        covered[by_site.indices[by_site.indptr[j] : by_site.indptr[j + 1]]] = True
    for i, point in enumerate(y):
        point.setInitialValue(1 if covered[i] else 0)
    return model


def _solve(model: MCLP, time_limit_s: float) -> SolverStatus:
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, warmStart=True)
    try:
        model.solve(solver, results=False)
    except (RuntimeError, pulp.PulpSolverError):
        return SolverStatus.GREEDY
    if model.problem.sol_status == pulp.LpSolutionOptimal:
        return SolverStatus.OPTIMAL
    return SolverStatus.TIME_LIMIT


@contextmanager
def _pulp_3_api() -> Iterator[None]:
    """pulp 3.3 warns that free-standing variables and PULP_CBC_CMD go in pulp 4.0; spopt
    0.7 makes its variables the 3.x way and CBC ships as PULP_CBC_CMD, so each plan would
    log thousands of warnings about code that is not ours to change."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pulp\.")
        yield


def _covered_rows(matrix: csr_matrix, chosen: NDArray[np.int64]) -> NDArray[np.bool_]:
    if chosen.size == 0:
        return np.zeros(matrix.shape[0], dtype=bool)
    return np.asarray(matrix[:, chosen].sum(axis=1)).reshape(-1) > 0
