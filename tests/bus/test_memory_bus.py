import threading
import time

import pytest

from safecity.bus import InProcessBus, Message, topic_matches


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [
        ("cameras/+/health", "cameras/AST-1/health", True),
        ("cameras/+/health", "cameras/AST-1/motion", False),
        ("cameras/#", "cameras/AST-1/health", True),
        ("cameras/#", "cameras", True),
        ("cameras/+", "cameras/AST-1/health", False),
        ("alerts/district-1", "alerts/district-1", True),
        ("alerts/district-1", "alerts/district-10", False),
    ],
)
def test_topics_match_like_mqtt(pattern: str, topic: str, expected: bool) -> None:
    assert topic_matches(pattern, topic) is expected


def test_subscribers_get_only_matching_messages_in_order() -> None:
    bus = InProcessBus()
    got: list[Message] = []
    done = threading.Event()

    def handler(message: Message) -> None:
        got.append(message)
        if len(got) == 3:
            done.set()

    bus.subscribe("cameras/+/health", handler)
    for index in range(3):
        bus.publish("cameras/AST-1/health", {"n": index})
        bus.publish("cameras/AST-1/motion", {"n": index})
    assert done.wait(2)
    assert [m.payload["n"] for m in got] == [0, 1, 2]
    bus.close()


def test_slow_subscriber_neither_blocks_publisher_nor_others() -> None:
    bus = InProcessBus()
    release = threading.Event()
    fast: list[Message] = []
    slow = bus.subscribe("t/#", lambda _m: release.wait(5), max_pending=5)
    bus.subscribe("t/#", fast.append)
    started = time.perf_counter()
    for index in range(50):
        bus.publish("t/x", {"n": index})
    assert time.perf_counter() - started < 0.5
    deadline = time.monotonic() + 2
    while len(fast) < 50 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(fast) == 50
    assert slow.dropped >= 40, "the stuck subscriber drops and counts instead of queueing forever"
    release.set()
    bus.close()


def test_failing_handler_does_not_stop_delivery() -> None:
    bus = InProcessBus()
    got: list[int] = []

    def handler(message: Message) -> None:
        if message.payload["n"] == 0:
            raise RuntimeError("boom")
        got.append(message.payload["n"])

    bus.subscribe("t", handler)
    bus.publish("t", {"n": 0})
    bus.publish("t", {"n": 1})
    deadline = time.monotonic() + 2
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
    assert got == [1]
    bus.close()


@pytest.mark.parametrize("bad", ["", "a/+/b", "a/#"])
def test_publish_refuses_wildcard_topics(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid topic"):
        InProcessBus().publish(bad, {})


@pytest.mark.parametrize("bad", ["a/#/b", "a/b#", "a+/b"])
def test_subscribe_refuses_malformed_patterns(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid pattern"):
        InProcessBus().subscribe(bad, lambda _m: None)


def test_close_returns_even_behind_a_stuck_subscriber() -> None:
    bus = InProcessBus()
    release = threading.Event()
    stuck = bus.subscribe("t", lambda _m: release.wait(10), max_pending=2)
    for index in range(10):
        bus.publish("t", {"n": index})
    started = time.perf_counter()
    stuck.close(timeout=0.5)
    assert time.perf_counter() - started < 1.5
    release.set()


def test_close_delivers_what_was_already_published() -> None:
    bus = InProcessBus()
    got: list[int] = []
    subscription = bus.subscribe("t", lambda m: got.append(m.payload["n"]))
    for index in range(100):
        bus.publish("t", {"n": index})
    subscription.close()
    assert got == list(range(100))
