"""The bus interface and MQTT topic rules, shared by every backend."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from safecity.core.clock import utcnow


@dataclass(frozen=True)
class Message:
    topic: str
    payload: Mapping[str, Any]
    published_at: datetime = field(default_factory=utcnow)


Handler = Callable[[Message], None]


class Subscription(Protocol):
    dropped: int
    """Messages lost because this subscriber fell too far behind (a backend that never drops
    keeps 0). Consumers that must not miss anything silently watch it."""

    @property
    def pending(self) -> int:
        """Messages received and not yet handled (0 for backends that hand over at once)."""
        ...

    def close(self) -> None: ...


class Bus(Protocol):
    def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        """Deliver to every matching subscriber. Never blocks on a slow subscriber."""
        ...

    def subscribe(self, pattern: str, handler: Handler) -> Subscription: ...


def check_topic(topic: str) -> None:
    if not topic or "+" in topic or "#" in topic or "\x00" in topic:
        raise ValueError(f"invalid topic {topic!r}: non-empty, no wildcards, no NUL")


def check_pattern(pattern: str) -> None:
    levels = pattern.split("/")
    for index, level in enumerate(levels):
        if ("#" in level and (level != "#" or index != len(levels) - 1)) or (
            "+" in level and level != "+"
        ):
            raise ValueError(f"invalid pattern {pattern!r}: '+' fills a level, '#' only ends one")


def topic_matches(pattern: str, topic: str) -> bool:
    """MQTT matching: `+` is one level, a final `#` is any number of levels (zero included)."""
    pattern_levels = pattern.split("/")
    topic_levels = topic.split("/")
    for index, level in enumerate(pattern_levels):
        if level == "#":
            return True
        if index >= len(topic_levels) or (level != "+" and level != topic_levels[index]):
            return False
    return len(pattern_levels) == len(topic_levels)
