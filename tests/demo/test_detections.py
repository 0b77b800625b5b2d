"""The demo's simulated detections follow the analytics contract, so the real intake takes them."""

from __future__ import annotations

import threading

from safecity.bus import InProcessBus, Message
from safecity.demo.detections import SimulatedDetections
from safecity.ops.alerts.analytics import EVENTS_PATTERN, AnalyticsEvent


def test_each_detection_is_a_valid_analytics_event_for_a_live_camera() -> None:
    bus = InProcessBus()
    received: list[Message] = []
    done = threading.Event()

    def on_event(message: Message) -> None:
        received.append(message)
        if len(received) == 50:
            done.set()

    bus.subscribe(EVENTS_PATTERN, on_event)
    detections = SimulatedDetections(bus, ["CAM-1", "CAM-2"], seed=7)
    for _ in range(50):
        detections.publish_one()
    assert done.wait(5)
    bus.close()
    assert {m.topic for m in received} == {"analytics/events/CAM-1", "analytics/events/CAM-2"}
    events = [AnalyticsEvent.model_validate(m.payload) for m in received]
    assert len({event.kind for event in events}) >= 4
    assert all(0.3 <= event.confidence <= 0.99 for event in events)
    # Made up, and saying so where the operator reads it (the alert's title shows the zone).
    assert all(event.zone and event.zone.endswith("(simulated)") for event in events)
    assert all(event.details == {"simulated": True} for event in events)


def test_it_publishes_on_its_own_until_stopped() -> None:
    bus = InProcessBus()
    arrived = threading.Event()
    bus.subscribe(EVENTS_PATTERN, lambda _message: arrived.set())
    detections = SimulatedDetections(bus, ["CAM-1"], mean_seconds=0.01, first_after=0.01, seed=1)
    detections.start()
    try:
        assert arrived.wait(5)
    finally:
        detections.stop()
        bus.close()
