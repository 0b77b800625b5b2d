"""The feed's parts without HTTP: who sees what, replaying, falling behind."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from safecity.bus import InProcessBus
from safecity.ops.feed.changes import Audience, FeedHub
from tests.support.bus import ImmediateBus

CITY = Audience(city_wide=True)
WEST = Audience(district_ids=frozenset({1}))
UNIT_7 = Audience(district_ids=frozenset({2}), police_unit_id=7)
NOBODY = Audience()
OCC = Audience(city_wide=True, events=frozenset({"escalation", "incident_attachment"}))
UNIT_7_FILES = Audience(
    district_ids=frozenset({2}), police_unit_id=7, events=frozenset({"incident_attachment"})
)


@pytest.mark.parametrize(
    ("audience", "event", "keys", "sees"),
    [
        (CITY, "incident", {"district_id": None, "police_unit_id": None}, True),
        (WEST, "alert", {"district_id": 1}, True),
        (WEST, "alert", {"district_id": 2}, False),
        (WEST, "alert", {"district_id": None}, False),
        (WEST, "incident", {"district_id": 1, "police_unit_id": 7}, True),
        # an officer: alerts of the unit's districts, incidents of the unit's queue
        (UNIT_7, "alert", {"district_id": 2}, True),
        (UNIT_7, "incident", {"district_id": 2, "police_unit_id": None}, False),
        (UNIT_7, "incident", {"district_id": 1, "police_unit_id": 7}, True),
        (NOBODY, "alert", {"district_id": 1}, False),
        # other events: only to consoles whose role may read them, within the same limits
        (CITY, "escalation", {"district_id": 1}, False),
        (OCC, "escalation", {"district_id": 1}, True),
        (OCC, "something_new", {"district_id": 1}, False),
        (UNIT_7_FILES, "incident_attachment", {"district_id": 1, "police_unit_id": 7}, True),
        (UNIT_7_FILES, "incident_attachment", {"district_id": 2, "police_unit_id": 8}, False),
        (UNIT_7, "incident_attachment", {"district_id": 2, "police_unit_id": 7}, False),
    ],
)
def test_who_sees_what(audience: Audience, event: str, keys: dict[str, int], sees: bool) -> None:
    assert audience.sees(event, keys) is sees


@pytest.fixture
def bus() -> Iterator[InProcessBus]:
    bus = InProcessBus()
    yield bus
    bus.close()


@pytest.fixture
def hub_bus() -> ImmediateBus:
    return ImmediateBus()


def _publish_alert(bus: ImmediateBus, alert_id: int, district_id: int = 1) -> None:
    bus.publish("ops/feed/alert", {"id": alert_id, "district_id": district_id})


async def _handed_over() -> None:
    """The hub hands frames to a console's loop with call_soon_threadsafe, which runs them
    before this task resumes."""
    await asyncio.sleep(0)


def test_a_console_that_falls_behind_is_told_to_resync_then_gets_live_events_again(
    hub_bus: ImmediateBus,
) -> None:
    hub = FeedHub(hub_bus, client_limit=3)
    hub.start()

    async def scenario() -> list[str]:
        client = hub.connect(CITY, None)
        for number in range(10):
            _publish_alert(hub_bus, number)
        await _handed_over()
        frames = [client.queue.get_nowait() for _ in range(client.queue.qsize())]
        client.next_frame_taken()
        _publish_alert(hub_bus, 99)
        await _handed_over()
        frames.append(client.queue.get_nowait())
        hub.disconnect(client)
        return frames

    frames = asyncio.run(scenario())
    names = [frame.split("\n", 1)[0] for frame in frames]
    # What it had queued is dropped with the resync: it refetches its lists anyway.
    assert names == ["event: resync", "event: alert"]
    assert json.loads(frames[-1].rsplit("data: ", 1)[1]) == {"id": 99, "district_id": 1}


def test_a_burst_reaches_every_console_in_order_and_goes_out_in_few_writes(
    hub_bus: ImmediateBus,
) -> None:
    hub = FeedHub(hub_bus)
    hub.start()

    async def scenario() -> tuple[list[str], list[str]]:
        west, unit = hub.connect(WEST, None), hub.connect(UNIT_7, None)
        for number in range(150):
            _publish_alert(hub_bus, number, district_id=1 + number % 2)
        await _handed_over()
        chunks = []
        while not west.queue.empty():
            chunks.append(west.take_ready(west.queue.get_nowait(), most=50))
        officer = [unit.queue.get_nowait() for _ in range(unit.queue.qsize())]
        hub.disconnect(west)
        hub.disconnect(unit)
        return chunks, officer

    chunks, officer = asyncio.run(scenario())
    assert len(chunks) == 2  # 75 frames for the west district: 50 in one write, then 25
    ids = [
        json.loads(line[6:])["id"] for line in "".join(chunks).splitlines() if line[:5] == "data:"
    ]
    assert ids == list(range(0, 150, 2))
    assert [json.loads(frame.rsplit("data: ", 1)[1])["id"] for frame in officer] == list(
        range(1, 150, 2)
    )


def test_replay_after_a_gap_is_exact_or_a_resync(hub_bus: ImmediateBus) -> None:
    hub = FeedHub(hub_bus, history=5)
    hub.start()
    for number in range(8):
        _publish_alert(hub_bus, number)

    async def replay(last_event_id: str) -> list[str]:
        client = hub.connect(WEST, last_event_id)
        frames = [client.queue.get_nowait() for _ in range(client.queue.qsize())]
        hub.disconnect(client)
        return frames

    kept = asyncio.run(replay(f"{hub.epoch}-6"))
    assert [frame.split("\n")[1] for frame in kept] == [f"id: {hub.epoch}-7", f"id: {hub.epoch}-8"]
    assert asyncio.run(replay(f"{hub.epoch}-8")) == []
    for too_old in (f"{hub.epoch}-1", "another-3", f"{hub.epoch}-99", "garbage"):
        [frame] = asyncio.run(replay(too_old))
        assert frame.startswith("event: resync")


def test_messages_the_bus_dropped_make_every_console_refetch(hub_bus: ImmediateBus) -> None:
    hub = FeedHub(hub_bus)
    hub.start()
    [subscription] = hub_bus.subscriptions

    async def scenario() -> tuple[list[str], list[str]]:
        client = hub.connect(CITY, None)
        _publish_alert(hub_bus, 1)
        last_id = f"{hub.epoch}-1"
        subscription.dropped += 3
        _publish_alert(hub_bus, 2)
        await _handed_over()
        frames = [client.queue.get_nowait() for _ in range(client.queue.qsize())]
        hub.disconnect(client)
        back = hub.connect(CITY, last_id)
        replay = [back.queue.get_nowait() for _ in range(back.queue.qsize())]
        hub.disconnect(back)
        return frames, replay

    frames, replay = asyncio.run(scenario())
    hub.stop()
    assert hub_bus.subscriptions == []
    # The message handled with the gap in the backlog is not sent: the refetch covers it.
    assert [frame.split("\n", 1)[0] for frame in frames] == ["event: alert", "event: resync"]
    assert [frame.split("\n", 1)[0] for frame in replay] == ["event: resync"]


def test_after_drops_the_backlog_is_not_forwarded_and_resync_comes_once_it_is_worked_off(
    hub_bus: ImmediateBus,
) -> None:
    hub = FeedHub(hub_bus)
    hub.start()
    [backlog] = hub_bus.subscriptions

    async def scenario() -> list[str]:
        client = hub.connect(CITY, None)
        backlog.dropped, backlog.pending = 5, 2
        for number, left in ((1, 1), (2, 0)):  # old snapshots still queued behind the gap
            _publish_alert(hub_bus, number)
            backlog.pending = left
        _publish_alert(hub_bus, 3)
        _publish_alert(hub_bus, 4)  # live again
        await _handed_over()
        frames = [client.queue.get_nowait() for _ in range(client.queue.qsize())]
        hub.disconnect(client)
        return frames

    frames = asyncio.run(scenario())
    assert [frame.split("\n", 1)[0] for frame in frames] == ["event: resync", "event: alert"]
    assert '"id":4' in frames[1]
