"""The maximal covering choice: the optimum checked by trying every subset, the exact
reduction, spopt's own model as the reference, and greedy's known failure."""

from __future__ import annotations

import itertools

import numpy as np
import pulp
import pytest
from scipy.sparse import csr_matrix
from spopt.locate import MCLP

from safecity.planning.placement.coverage import coverage_matrix, covered_by_sites
from safecity.planning.placement.mclp import SolverStatus, greedy_choice, solve_mclp


def _best_by_enumeration(matrix: csr_matrix, weight: np.ndarray, budget: int) -> float:
    dense = matrix.toarray() > 0
    return max(
        float(weight[dense[:, list(subset)].any(axis=1)].sum())
        for subset in itertools.combinations(range(dense.shape[1]), budget)
    )


def _random_case(seed: int) -> tuple[csr_matrix, np.ndarray]:
    """Up to 14 candidate sites and 40 demand points scattered over 1 km², range 180 m:
    sites overlap, some demand is out of every range, weights differ."""
    rng = np.random.default_rng(seed)
    sites = rng.uniform(0, 1000, size=(int(rng.integers(8, 15)), 2))
    demand = rng.uniform(0, 1000, size=(40, 2))
    weight = rng.choice([0.25, 1.0, 1.5, 3.0], size=40)
    return coverage_matrix(demand, sites, 180.0), weight


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("budget", [1, 2, 3, 4])
def test_optimum_matches_enumerating_every_subset(seed: int, budget: int) -> None:
    matrix, weight = _random_case(seed)
    assert matrix.shape[1] >= budget and matrix.nnz > 0

    solution = solve_mclp(matrix, weight, budget)

    best = _best_by_enumeration(matrix, weight, budget)
    assert solution.status is SolverStatus.OPTIMAL
    assert solution.covered_weight == pytest.approx(best)
    assert len(solution.chosen) <= budget
    # The weight reported is what the chosen sites really cover.
    assert weight[covered_by_sites(matrix, solution.chosen)].sum() == pytest.approx(best)


def test_beats_greedy_where_greedy_is_known_to_fail() -> None:
    # Demand a b c d weigh 5 each, e weighs 1. The middle site reaches b, c, e (11): greedy
    # takes it first and then can add only 5; the two outer sites together reach 20.
    weight = np.array([5.0, 5.0, 5.0, 5.0, 1.0])
    reach = {"left": [0, 1], "middle": [1, 2, 4], "right": [2, 3]}
    rows = [row for site in reach.values() for row in site]
    columns = [j for j, site in enumerate(reach.values()) for _ in site]
    matrix = csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(5, 3))

    greedy = greedy_choice(matrix, weight, 2)
    solution = solve_mclp(matrix, weight, 2)

    assert weight[covered_by_sites(matrix, greedy)].sum() == 16.0
    assert solution.covered_weight == 20.0
    assert solution.chosen.tolist() == [0, 2]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pulp 3.3 on spopt's own model
@pytest.mark.parametrize("seed", range(4))
def test_same_optimum_as_spopts_dense_model(seed: int) -> None:
    matrix, weight = _random_case(100 + seed)
    cost = np.where(matrix.toarray() > 0, 0.0, 1000.0)
    reference = MCLP.from_cost_matrix(cost, weight, service_radius=1.0, p_facilities=3)
    reference.solve(pulp.PULP_CBC_CMD(msg=False), results=False)

    solution = solve_mclp(matrix, weight, 3)

    assert solution.covered_weight == pytest.approx(pulp.value(reference.problem.objective))


def test_interchangeable_sites_merge_and_the_preferred_one_is_named() -> None:
    # Sites 0 and 2 reach exactly the same demand; demand 0 and 1 are reached by the same
    # sites. The model holds one of each, and names the site the caller prefers.
    matrix = csr_matrix(
        np.array(
            [
                [1, 0, 1],
                [1, 0, 1],
                [0, 1, 0],
            ]
        )
    )
    weight = np.array([2.0, 2.0, 1.0])

    solution = solve_mclp(matrix, weight, 1, preference=[0.0, 0.0, 1.0])

    assert (solution.model_sites, solution.model_demand) == (2, 2)
    assert solution.chosen.tolist() == [2]
    assert solution.covered_weight == 4.0


def test_a_budget_beyond_the_useful_sites_chooses_only_those() -> None:
    matrix = csr_matrix(np.array([[1, 0, 0], [0, 1, 0]]))

    solution = solve_mclp(matrix, np.array([1.0, 2.0]), 3)

    assert solution.chosen.tolist() == [0, 1]
    assert solution.covered_weight == 3.0


def test_nothing_to_cover_when_all_demand_weighs_nothing() -> None:
    matrix = csr_matrix(np.array([[1, 1], [0, 1]]))

    solution = solve_mclp(matrix, np.zeros(2), 1)

    assert solution.status is SolverStatus.NOTHING_TO_COVER
    assert solution.chosen.size == 0 and solution.covered_weight == 0.0


def test_a_site_on_the_edge_of_the_range_covers() -> None:
    matrix = coverage_matrix([[0.0, 0.0], [100.0, 0.0], [100.5, 0.0]], [[0.0, 0.0]], 100.0)

    assert matrix.toarray().ravel().tolist() == [1, 1, 0]
