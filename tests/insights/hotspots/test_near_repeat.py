"""The Knox test: equal to pointpats's, finds a planted near-repeat pattern, not a random one."""

from __future__ import annotations

import numpy as np
import pytest
from pointpats.spacetime import Knox

from safecity.insights.hotspots import near_repeat
from safecity.insights.hotspots.near_repeat import TooManyPairs, TooMuchWork, knox_test


def _random_crimes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return rng.uniform(0, 5000, n), rng.uniform(0, 5000, n), rng.uniform(0, 365, n)


def _with_near_repeats(
    rng: np.random.Generator, n: int, repeats: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` crimes at random, then ``repeats`` of them followed by another within ~50 m and
    a week: the burglar who comes back to the street next door."""
    x, y, t = _random_crimes(rng, n)
    source = rng.choice(n, size=repeats, replace=False)
    return (
        np.concatenate([x, x[source] + rng.normal(0, 50, repeats)]),
        np.concatenate([y, y[source] + rng.normal(0, 50, repeats)]),
        np.concatenate([t, t[source] + rng.uniform(0, 7, repeats)]),
    )


@pytest.mark.parametrize("planted", [0, 40])
def test_knox_equals_pointpats_for_the_same_seed(planted: int) -> None:
    x, y, t = _with_near_repeats(np.random.default_rng(21), 400, planted)

    ours = knox_test(x, y, t, distance_m=200, days=7, permutations=99, seed=12345)
    np.random.seed(12345)  # pointpats draws from numpy's global generator
    theirs = Knox(np.column_stack([x, y]), t[:, None], delta=200, tau=7, permutations=99)

    assert ours.observed == theirs.nst
    assert ours.space_pairs == theirs.observed[0].sum()
    assert ours.time_pairs == theirs.observed[:, 0].sum()
    assert ours.expected == pytest.approx(theirs.expected[0, 0])
    assert ours.p_value == theirs.p_sim


def test_knox_finds_planted_near_repeats() -> None:
    x, y, t = _with_near_repeats(np.random.default_rng(1), 1000, 60)

    result = knox_test(x, y, t, distance_m=200, days=14, permutations=999, seed=0)

    assert result.observed - result.expected > 45  # most of the 60 planted pairs
    assert result.p_value == pytest.approx(0.001)  # none of 999 shuffles came close


def test_knox_finds_nothing_in_random_crimes() -> None:
    x, y, t = _random_crimes(np.random.default_rng(1), 1060)

    result = knox_test(x, y, t, distance_m=200, days=14, permutations=999, seed=0)

    assert result.observed == pytest.approx(result.expected, rel=0.35)
    assert result.p_value > 0.1


def test_knox_answers_the_same_for_the_same_seed() -> None:
    x, y, t = _random_crimes(np.random.default_rng(9), 300)
    first = knox_test(x, y, t, distance_m=300, days=10, permutations=199, seed=4)
    again = knox_test(x, y, t, distance_m=300, days=10, permutations=199, seed=4)
    assert first == again


def test_knox_refuses_a_distance_that_pairs_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(near_repeat, "MAX_SPACE_PAIRS", 1000)
    x, y, t = _random_crimes(np.random.default_rng(9), 300)
    with pytest.raises(TooManyPairs, match="choose a shorter distance"):
        knox_test(x, y, t, distance_m=10_000, days=10, permutations=19, seed=0)
    assert knox_test(x, y, t, distance_m=100, days=10, permutations=19, seed=0).space_pairs < 1000


def test_knox_refuses_more_work_than_its_budget_and_says_what_to_lower(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    x, y, t = _random_crimes(np.random.default_rng(9), 300)
    fits = knox_test(x, y, t, distance_m=500, days=10, permutations=19, seed=0)
    work = (fits.space_pairs + fits.events) * 999
    monkeypatch.setattr(near_repeat, "MAX_PERMUTATION_WORK", work - 1)

    with pytest.raises(TooMuchWork) as refused:
        knox_test(x, y, t, distance_m=500, days=10, permutations=999, seed=0)

    words = str(refused.value)
    assert f"{fits.space_pairs:,} pairs" in words and "999 permutations" in words
    assert "at most 998 permutations" in words
    assert "a shorter distance" in words and "a shorter period" in words
    assert knox_test(x, y, t, distance_m=500, days=10, permutations=998, seed=0).events == 300


def test_knox_work_budget_is_a_few_seconds() -> None:
    """The default budget (docs/performance.md): 20–110 million pair comparisons a second
    here, so a few seconds of one core; the default 999 permutations still fit the demo city's
    year at 200 m (11,996 crimes with a position, 81,113 pairs within 200 m: measured)."""
    assert 50_000_000 <= near_repeat.MAX_PERMUTATION_WORK <= 300_000_000
    assert near_repeat.MAX_PERMUTATION_WORK > (81_113 + 11_996) * 999
