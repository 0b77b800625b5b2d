"""Slows down password guessing: too many failed sign-ins for one key (a username, or a
client address) lock that key for a while."""

from __future__ import annotations

import threading
import time
from collections import deque

# Past this many keys, expired ones are dropped, so a stream of made-up names cannot grow
# memory without bound.
PRUNE_ABOVE = 10_000


class LoginThrottle:
    def __init__(self, max_failures: int = 5, window_seconds: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and now - failures[0] > self.window_seconds:
            failures.popleft()
        return failures

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again; 0 when it may try now."""
        now = time.monotonic()
        with self._lock:
            failures = self._recent(key, now)
            if len(failures) < self.max_failures:
                return 0.0
            return self.window_seconds - (now - failures[0])

    def failed(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._failures.setdefault(key, deque()).append(now)
            if len(self._failures) > PRUNE_ABOVE:
                self._failures = {
                    k: recent for k in list(self._failures) if (recent := self._recent(k, now))
                }

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def __len__(self) -> int:
        return len(self._failures)
