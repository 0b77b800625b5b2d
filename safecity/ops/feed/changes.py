"""The OCC's live feed: what consoles are shown of the bus, fanned out to each console.

``FeedHub`` takes every message under ``ops/`` and asks its ``translate`` what consoles get of
it: the feed API turns the domain events of alerts and incidents (``safecity/ops/events.py``)
into the list endpoints' items; ``console_message`` passes on what was published for the
consoles as it is, on ``ops/feed/<event>`` (escalations, attachments). Each item goes to the
connected consoles cut to what their user may see. The hub numbers items and keeps the latest
ones, so a console that reconnects (EventSource sends Last-Event-ID) gets what it missed; when
the gap is too old, or the console fell too far behind, it is told to ``resync`` (refetch its
lists) rather than being silently left with a stale picture.

An item's payload is JSON-able, with ``district_id`` and ``police_unit_id`` (either may be
missing or null); they decide who sees it. Its ``was`` holds the same two keys before the
change: a console that could see the old state but not the new one gets ``<event>_gone`` with
just the id, so an incident handed to another unit leaves the first unit's queue.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter, Gauge

from safecity.bus import Bus, Message, Subscription

log = logging.getLogger(__name__)

TOPIC_PREFIX = "ops/feed/"
OPS_PATTERN = "ops/#"
SCOPE_KEYS = ("district_id", "police_unit_id")

FEED_EVENTS = Counter("safecity_feed_events_total", "Events relayed to consoles", ["event"])
FEED_CLIENTS = Gauge("safecity_feed_clients", "Consoles connected to the live feed")
FEED_RESYNCS = Counter(
    "safecity_feed_resyncs_total", "Consoles told to refetch (fell behind or reconnected late)"
)


@dataclass(frozen=True)
class FeedItem:
    """What consoles get of one bus message."""

    event: str
    payload: Mapping[str, Any]
    was: Mapping[str, Any] | None = None
    """The scope keys before the change, when they changed."""


Translate = Callable[[Message], FeedItem | None]
"""What consoles get of a bus message under ``ops/``; None: nothing."""


def console_message(message: Message) -> FeedItem | None:
    """A message published for the consoles as it is, on ``ops/feed/<event>``."""
    if not message.topic.startswith(TOPIC_PREFIX):
        return None
    name = message.topic.removeprefix(TOPIC_PREFIX)
    if not name or "/" in name:
        log.warning("ignoring feed message on %s: one level after ops/feed/", message.topic)
        return None
    return FeedItem(name, message.payload)


@dataclass(frozen=True)
class Audience:
    """What one console may see: the same rules as the alert and incident list queries.

    Alerts and incidents go to whoever may list them. Any other event goes only to consoles
    whose ``events`` name it (the user's role may read that thing through the API), within the
    same district or unit limits: an event nobody declared is shown to nobody.
    """

    city_wide: bool = False
    district_ids: frozenset[int] = frozenset()
    police_unit_id: int | None = None
    """Set for a police duty officer: incidents are theirs when assigned to their unit."""
    events: frozenset[str] = frozenset()
    """The other events this console may receive (escalations, attachments…)."""

    def sees(self, event: str, keys: Mapping[str, Any]) -> bool:
        if event not in LISTED_EVENTS and event not in self.events:
            return False
        if self.city_wide:
            return True
        if self.police_unit_id is not None and event != "alert":
            return keys.get("police_unit_id") == self.police_unit_id
        return keys.get("district_id") in self.district_ids


LISTED_EVENTS = frozenset({"alert", "incident"})
"""Events whose visibility is exactly that of the list endpoints."""


@dataclass(frozen=True)
class FeedEvent:
    seq: int
    event: str
    data: str
    """The payload as JSON, encoded once for every console."""
    keys: Mapping[str, Any]
    was: Mapping[str, Any] | None
    object_id: object


def _frame(event: str, event_id: str | None, data: str) -> str:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return "\n".join(lines) + "\n\n"


@dataclass(eq=False)
class FeedClient:
    """One connected console: a bounded queue of SSE frames, filled from the bus thread."""

    audience: Audience
    loop: asyncio.AbstractEventLoop
    epoch: str
    limit: int
    queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    behind: bool = False
    """Set when the queue overflowed: the console gets one ``resync`` instead of a gap."""

    def frame_for(self, event: FeedEvent) -> str | None:
        event_id = f"{self.epoch}-{event.seq}"
        if self.audience.sees(event.event, event.keys):
            return _frame(event.event, event_id, event.data)
        if event.was is not None and self.audience.sees(event.event, event.was):
            gone = json.dumps({"id": event.object_id})
            return _frame(f"{event.event}_gone", event_id, gone)
        return None

    def offer(self, frame: str) -> None:
        """Called on the bus thread."""
        self.loop.call_soon_threadsafe(self.put, frame)

    def take_ready(self, first: str, most: int = 100) -> str:
        """``first`` and the frames queued behind it (up to ``most`` in all), as one chunk:
        a console that fell behind catches up in a few writes instead of one per event."""
        frames = [first]
        while len(frames) < most and not self.queue.empty():
            frames.append(self.queue.get_nowait())
        return "".join(frames)

    def put(self, frame: str) -> None:
        """Called on the console's event loop."""
        if self.behind:
            return
        if self.queue.qsize() >= self.limit:
            self.behind = True
            while not self.queue.empty():
                self.queue.get_nowait()
            FEED_RESYNCS.inc()
            self.queue.put_nowait(_frame("resync", None, '{"reason": "behind"}'))
            return
        self.queue.put_nowait(frame)

    def next_frame_taken(self) -> None:
        """The console drained its resync: deliver live events again."""
        if self.behind and self.queue.empty():
            self.behind = False


def _deliver(deliveries: list[tuple[FeedClient, str]]) -> None:
    for client, frame in deliveries:
        client.put(frame)


class FeedHub:
    """The consoles connected to this process, and the latest events for reconnects."""

    def __init__(
        self,
        bus: Bus,
        *,
        translate: Translate = console_message,
        history: int = 10_000,
        client_limit: int = 5_000,
    ) -> None:
        self.epoch = secrets.token_hex(4)
        """Event ids are ``<epoch>-<seq>``: a restarted hub never mistakes old ids for its own."""
        self._bus = bus
        self._translate = translate
        self._history: deque[FeedEvent] = deque(maxlen=history)
        self._client_limit = client_limit
        self._clients: set[FeedClient] = set()
        self._seq = 0
        self._lock = threading.Lock()
        self._subscription: Subscription | None = None
        self._dropped_seen = 0
        self._catching_up = False

    def start(self) -> None:
        # One subscription for all of them: consoles get the items in the order published.
        self._subscription = self._bus.subscribe(OPS_PATTERN, self._on_message)

    def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None

    @property
    def clients(self) -> int:
        return len(self._clients)

    def _on_message(self, message: Message) -> None:
        if self._catching_up_after_drops():
            return
        item = self._translate(message)
        if item is None:
            return
        payload = item.payload
        try:
            data = json.dumps(payload, separators=(",", ":"), default=str)
        except (TypeError, ValueError):
            log.exception("feed payload on %s is not JSON", message.topic)
            return
        keys = {key: payload.get(key) for key in SCOPE_KEYS}
        with self._lock:
            self._seq += 1
            feed_event = FeedEvent(self._seq, item.event, data, keys, item.was, payload.get("id"))
            self._history.append(feed_event)
            clients = list(self._clients)
        FEED_EVENTS.labels(item.event).inc()
        # One wake-up of each event loop per event, not one per console: the consoles of a
        # process share uvicorn's loop.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[FeedClient, str]]] = {}
        for client in clients:
            frame = client.frame_for(feed_event)
            if frame is not None:
                by_loop.setdefault(client.loop, []).append((client, frame))
        for loop, deliveries in by_loop.items():
            loop.call_soon_threadsafe(_deliver, deliveries)

    def _catching_up_after_drops(self) -> bool:
        """True while this hub works off a backlog from which the bus dropped messages.

        Every console then has a gap it cannot know about. The backlog's messages are older
        than what a console would refetch now, so none is forwarded; once it is worked off,
        every console is told to ``resync`` (refetch), and ids from before the gap cannot be
        replayed.
        """
        subscription = self._subscription
        if subscription is None:
            return False
        if subscription.dropped > self._dropped_seen:
            log.warning(
                "the live feed lost %d messages: consoles will refetch",
                subscription.dropped - self._dropped_seen,
            )
            self._dropped_seen = subscription.dropped
            with self._lock:
                self._history.clear()
                self._seq += 1  # a console back with any earlier id is past a gap: resync
            self._catching_up = True
        if not self._catching_up:
            return False
        if subscription.pending == 0:
            self._catching_up = False
            with self._lock:
                clients = list(self._clients)
            for client in clients:
                client.offer(_frame("resync", None, '{"reason": "feed overloaded"}'))
        return True

    def connect(self, audience: Audience, last_event_id: str | None) -> FeedClient:
        """Register a console. Its queue starts with what it missed since ``last_event_id``,
        or with ``resync`` when that is no longer known, then receives live events."""
        client = FeedClient(audience, asyncio.get_running_loop(), self.epoch, self._client_limit)
        with self._lock:
            missed = self._missed_since(last_event_id) if last_event_id else []
            self._clients.add(client)
        FEED_CLIENTS.set(len(self._clients))
        if missed is None:
            FEED_RESYNCS.inc()
            client.queue.put_nowait(_frame("resync", None, '{"reason": "reconnected late"}'))
        else:
            for feed_event in missed:
                frame = client.frame_for(feed_event)
                if frame is not None:
                    client.queue.put_nowait(frame)
        return client

    def disconnect(self, client: FeedClient) -> None:
        with self._lock:
            self._clients.discard(client)
        FEED_CLIENTS.set(len(self._clients))

    def _missed_since(self, last_event_id: str) -> list[FeedEvent] | None:
        """Events after ``last_event_id``; None when the gap cannot be filled."""
        epoch, _, seq_text = last_event_id.partition("-")
        if epoch != self.epoch or not seq_text.isdigit():
            return None
        seq = int(seq_text)
        if seq > self._seq:
            return None
        oldest = self._history[0].seq if self._history else self._seq + 1
        if seq + 1 < oldest:
            return None
        return [e for e in self._history if e.seq > seq]

    def hello(self) -> str:
        return _frame("hello", None, json.dumps({"epoch": self.epoch}))
