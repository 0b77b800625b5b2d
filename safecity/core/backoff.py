"""How long to wait before reconnecting a camera: doubling, capped, with jitter.

Jitter matters at city scale: when a switch reboots, hundreds of cameras drop at once, and
without it they would all reconnect in the same instant, again and again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial: float
    maximum: float
    jitter: float = 0.5
    """Each wait is drawn uniformly from [(1 - jitter) × base, base]."""
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum:
            raise ValueError("backoff needs 0 < initial <= maximum")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a share between 0 and 1")

    def next_delay(self) -> float:
        base = min(self.maximum, self.initial * 2 ** min(self.attempts, 32))
        self.attempts += 1
        return float(base * (1 - self.jitter * self.rng.random()))

    def reset(self) -> None:
        self.attempts = 0
