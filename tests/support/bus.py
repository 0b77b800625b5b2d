"""A bus that hands each message to its subscribers at once, in the publisher's thread.

Tests drive a subscriber through its real entry, the bus, with no delivery thread to wait
for; and they set what a subscription reports (`dropped`, `pending`) to play one that fell
behind, which the in-process bus does only under a load a test cannot time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from safecity.bus import Message
from safecity.bus.core import Handler, check_pattern, check_topic, topic_matches


@dataclass(eq=False)
class ImmediateSubscription:
    bus: ImmediateBus
    pattern: str
    handler: Handler
    dropped: int = 0
    pending: int = 0

    def close(self) -> None:
        if self in self.bus.subscriptions:
            self.bus.subscriptions.remove(self)


@dataclass
class ImmediateBus:
    subscriptions: list[ImmediateSubscription] = field(default_factory=list)

    def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        check_topic(topic)
        message = Message(topic, payload)
        for subscription in list(self.subscriptions):
            if topic_matches(subscription.pattern, topic):
                subscription.handler(message)

    def subscribe(self, pattern: str, handler: Handler) -> ImmediateSubscription:
        check_pattern(pattern)
        subscription = ImmediateSubscription(self, pattern, handler)
        self.subscriptions.append(subscription)
        return subscription
