from safecity.auth import throttle as throttle_module
from safecity.auth.throttle import LoginThrottle


def test_key_is_locked_after_max_failures_and_freed_by_success() -> None:
    throttle = LoginThrottle(max_failures=3, window_seconds=60)
    for _ in range(3):
        assert throttle.retry_after("ops") == 0
        throttle.failed("ops")
    assert 0 < throttle.retry_after("ops") <= 60
    assert throttle.retry_after("admin") == 0
    throttle.succeeded("ops")
    assert throttle.retry_after("ops") == 0


def test_asking_about_unknown_names_stores_nothing() -> None:
    throttle = LoginThrottle()
    for index in range(100):
        throttle.retry_after(f"guess-{index}")
    assert len(throttle) == 0


def test_expired_keys_are_pruned_when_there_are_many(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(throttle_module, "PRUNE_ABOVE", 10)
    throttle = LoginThrottle(window_seconds=0.0)
    for index in range(50):
        throttle.failed(f"guess-{index}")
    assert len(throttle) <= 11
