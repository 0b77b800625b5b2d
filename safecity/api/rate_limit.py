"""Per-source rate limits for the machine-to-machine endpoints (inbound webhook, analytics).

A token bucket per source: ``per_minute`` tokens, refilled evenly, so a source may burst up to
``per_minute`` requests and then keep to the rate. A request over the limit is answered 429 with
``Retry-After`` before its body is read into the store: nothing of it is kept. The limit counts
verified requests only; a forged one (401) spends nobody's tokens, so an outsider cannot use up
a real source's share by sending its name.
"""

# No ``from __future__ import annotations``: FastAPI resolves the dependency's annotations at
# run time, and ``verified`` below is a closure variable, not a module global.

import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status


@dataclass
class _Bucket:
    tokens: float
    updated: float


class SourceRateLimiter:
    """Token buckets by key; safe to call from several threads."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        """Spend one token: None when allowed, else the seconds until one is available."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket(self.capacity, now))
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            return (1.0 - bucket.tokens) / self.rate


SignedRequest = tuple[str, bytes]
"""The verified source's name and the raw body."""


def source_limiter(request: Request) -> SourceRateLimiter:
    """The app's limiter, made on first use from the settings (on the event loop: the
    dependency below is async, so two requests cannot both make one)."""
    state = request.app.state
    limiter: SourceRateLimiter | None = getattr(state, "source_limiter", None)
    if limiter is None:
        limiter = SourceRateLimiter(state.settings.ops.source_requests_per_minute)
        state.source_limiter = limiter
    return limiter


def limit_per_source(
    verified: Callable[[Request], Awaitable[SignedRequest]], channel: str
) -> Callable[[Request, SignedRequest], Awaitable[None]]:
    """A dependency that answers 429 when the verified source of ``verified`` (a signature
    dependency, run once per request however many depend on it) is over its rate.
    ``channel`` keeps the webhook's and the analytics endpoint's buckets apart."""

    async def check(request: Request, signed: Annotated[SignedRequest, Depends(verified)]) -> None:
        wait = source_limiter(request).take(f"{channel}:{signed[0]}")
        if wait is not None:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"too many requests from {signed[0]!r}; slow down",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )

    return check
