"""The embedded bus: subscribers in this process, each served by its own delivery thread so a
slow one never holds up a publisher (a camera thread) or the other subscribers."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping
from typing import Any

from safecity.bus.core import Handler, Message, check_pattern, check_topic, topic_matches

log = logging.getLogger(__name__)


class _Subscriber:
    def __init__(self, bus: InProcessBus, pattern: str, handler: Handler, max_pending: int) -> None:
        self.pattern = pattern
        self.dropped = 0
        self._bus = bus
        self._handler = handler
        self._pending: queue.Queue[Message] = queue.Queue(maxsize=max_pending)
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._deliver, name=f"bus:{pattern}", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        return self._pending.qsize()

    def offer(self, message: Message) -> None:
        try:
            self._pending.put_nowait(message)
        except queue.Full:
            # Dropping and counting beats stalling every camera behind one stuck consumer.
            self.dropped += 1

    def _deliver(self) -> None:
        while True:
            try:
                message = self._pending.get(timeout=0.25)
            except queue.Empty:
                if self._closing.is_set():
                    return
                continue
            try:
                self._handler(message)
            except Exception:
                log.exception("bus subscriber for %r failed on %s", self.pattern, message.topic)

    def close(self, timeout: float = 5.0) -> None:
        """Stop taking messages, deliver those already queued (for at most ``timeout``
        seconds), and stop. Never blocks longer, even behind a stuck handler."""
        self._bus._remove(self)
        self._closing.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)


class InProcessBus:
    def __init__(self, max_pending: int = 10_000) -> None:
        self.max_pending = max_pending
        self._subscribers: list[_Subscriber] = []
        self._lock = threading.Lock()

    def publish(self, topic: str, payload: Mapping[str, Any]) -> None:
        check_topic(topic)
        message = Message(topic, payload)
        with self._lock:
            targets = [s for s in self._subscribers if topic_matches(s.pattern, topic)]
        for subscriber in targets:
            subscriber.offer(message)

    def subscribe(
        self, pattern: str, handler: Handler, *, max_pending: int | None = None
    ) -> _Subscriber:
        check_pattern(pattern)
        subscriber = _Subscriber(self, pattern, handler, max_pending or self.max_pending)
        with self._lock:
            self._subscribers.append(subscriber)
        return subscriber

    def _remove(self, subscriber: _Subscriber) -> None:
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def close(self) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber.close()
