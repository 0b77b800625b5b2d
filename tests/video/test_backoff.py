import random

import pytest

from safecity.core.backoff import Backoff


def test_waits_double_up_to_the_cap_with_jitter_below_the_base() -> None:
    backoff = Backoff(1.0, 8.0, jitter=0.5, rng=random.Random(1))
    waits = [backoff.next_delay() for _ in range(6)]
    bases = [1, 2, 4, 8, 8, 8]
    for wait, base in zip(waits, bases, strict=True):
        assert base * 0.5 <= wait <= base


def test_jitter_spreads_cameras_that_dropped_together() -> None:
    firsts = {
        round(Backoff(4.0, 60.0, rng=random.Random(seed)).next_delay(), 3) for seed in range(50)
    }
    assert len(firsts) > 40, "a switch reboot must not bring 50 cameras back in one instant"


def test_reset_starts_over() -> None:
    backoff = Backoff(1.0, 60.0, jitter=0.0)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 1.0


@pytest.mark.parametrize(("initial", "maximum", "jitter"), [(0, 1, 0.5), (2, 1, 0.5), (1, 2, 1.5)])
def test_nonsense_is_refused(initial: float, maximum: float, jitter: float) -> None:
    with pytest.raises(ValueError):
        Backoff(initial, maximum, jitter=jitter)
