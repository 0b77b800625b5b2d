"""Near repeats: does a crime make another one nearby, soon after, likelier? The Knox test.

Of all pairs of crimes, count those close in space (within ``distance_m``), close in time
(within ``days``) and close in both. Were time and place independent, the pairs close in both
would number (space pairs × time pairs) / all pairs; more than that is a near-repeat pattern.
Its pseudo p-value comes from permutations: the crimes' times are shuffled over their places
and the pairs counted again.

This is pointpats's ``Knox`` (pointpats.spacetime), done with arrays: pointpats builds a
Python set per crime and permutes in a Python loop, which takes seconds for a year of a city's
crimes and minutes with 999 permutations; here the close-in-space pairs are found once (a
k-d tree) and each permutation is one vectorised comparison. For equal seeds the counts,
expectation and pseudo p-value equal pointpats's own (tests/insights/test_near_repeat.py),
since both draw the same permutations from a seeded ``RandomState``. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

MIN_PERMUTATIONS = 19
"""The fewest permutations worth asking for: p can be no smaller than 1 / (permutations + 1),
so 19 is the fewest that can reach 0.05."""

MAX_SPACE_PAIRS = 5_000_000
"""Pairs close in space the test will hold (40 MB of indices); more means a distance far
beyond a near repeat's or a period of many years."""
MAX_PERMUTATION_WORK = 150_000_000
"""The most work one test may do: permutations × (pairs close in space + crimes), the pairs
compared and the times shuffled in each permutation. This machine does 20–110 million a second
(docs/performance.md), so the test takes 1.5–8 seconds at most; without a bound a synchronous
request could hold a worker for many minutes (5,000,000 pairs × 9,999 permutations)."""


class TooManyPairs(ValueError):
    """Too many pairs of crimes are close in space for the test to hold them."""


class TooMuchWork(ValueError):
    """The permutations asked for would take more than ``MAX_PERMUTATION_WORK``."""


@dataclass(frozen=True)
class KnoxResult:
    events: int
    distance_m: float
    days: float
    pairs: int
    """All pairs of crimes: n(n - 1)/2."""
    space_pairs: int
    time_pairs: int
    observed: int
    """Pairs close in both space and time."""
    expected: float
    """What ``observed`` would be were time and place independent."""
    p_value: float
    """Pseudo p-value, one-sided: (permutations with at least ``observed`` + 1) /
    (permutations + 1). None of them can make it smaller than 1 / (permutations + 1)."""
    permutations: int
    seed: int

    @property
    def ratio(self) -> float | None:
        """Observed over expected (the Knox ratio); None where nothing was expected."""
        return self.observed / self.expected if self.expected > 0 else None


def knox_test(
    x: np.ndarray,
    y: np.ndarray,
    t_days: np.ndarray,
    *,
    distance_m: float,
    days: float,
    permutations: int = 999,
    seed: int = 0,
) -> KnoxResult:
    """The Knox test of points (``x``, ``y`` in metres) at times ``t_days`` (days, any
    origin). Pairs at exactly ``distance_m`` or ``days`` count as close, as in pointpats."""
    n = len(x)
    t = np.asarray(t_days, dtype=float)
    pairs = n * (n - 1) // 2
    if n < 2:
        return KnoxResult(n, distance_m, days, 0, 0, 0, 0, 0.0, 1.0, permutations, seed)
    tree = cKDTree(np.column_stack([x, y]))
    close = (int(tree.count_neighbors(tree, distance_m)) - n) // 2
    if close > MAX_SPACE_PAIRS:
        raise TooManyPairs(
            f"more than {MAX_SPACE_PAIRS:,} pairs of crimes lie within {distance_m:g} m of"
            " each other: choose a shorter distance, a shorter period or fewer kinds"
        )
    _check_work(n, close, distance_m, permutations)
    space = tree.query_pairs(distance_m, output_type="ndarray")
    first, second = space[:, 0], space[:, 1]
    ordered = np.sort(t)
    time_pairs = int(
        (np.searchsorted(ordered, ordered + days, side="right") - np.arange(1, n + 1)).sum()
    )
    observed = int((np.abs(t[first] - t[second]) <= days).sum())
    expected = len(space) * time_pairs / pairs
    random = np.random.RandomState(seed)
    exceed = 0
    for _ in range(permutations):
        shuffled = t[random.permutation(n)]
        if int((np.abs(shuffled[first] - shuffled[second]) <= days).sum()) >= observed:
            exceed += 1
    return KnoxResult(
        events=n,
        distance_m=distance_m,
        days=days,
        pairs=pairs,
        space_pairs=len(space),
        time_pairs=time_pairs,
        observed=observed,
        expected=expected,
        p_value=(exceed + 1) / (permutations + 1),
        permutations=permutations,
        seed=seed,
    )


def _check_work(events: int, space_pairs: int, distance_m: float, permutations: int) -> None:
    """TooMuchWork when the permutations would exceed ``MAX_PERMUTATION_WORK``, saying what
    to lower. The number of days does not change the work: only the pairs close in space are
    compared."""
    budget = MAX_PERMUTATION_WORK
    work = permutations * (space_pairs + events)
    if work <= budget:
        return
    fitting = budget // (space_pairs + events)
    fewer = (
        f"at most {fitting:,} permutations for these crimes, "
        if fitting >= MIN_PERMUTATIONS
        else ""
    )
    raise TooMuchWork(
        f"{space_pairs:,} pairs of {events:,} crimes lie within {distance_m:g} m of each other"
        f" and {permutations:,} permutations would compare them {work:,} times; the most one"
        f" request may do is {budget:,} (a few seconds). Choose fewer permutations ({fewer}"
        "999 is enough for p down to 0.001), a shorter distance, a district, a shorter period"
        " or fewer kinds"
    )
