import pytest

from safecity.auth import throttle as throttle_module
from safecity.auth.throttle import FailureWindow, LoginThrottle, client_key
from safecity.settings import LoginThrottleSettings

DAY = 86400.0
LIMITS = LoginThrottleSettings(
    user_address_failures=3,
    user_address_window_seconds=60,
    address_failures=6,
    address_window_seconds=60,
    user_failures=10,
    user_window_seconds=600,
    known_address_days=30,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(clock: Clock) -> LoginThrottle:
    return LoginThrottle(LIMITS, clock)


def test_failures_lock_the_user_at_that_address_only(throttle: LoginThrottle, clock: Clock) -> None:
    for _ in range(3):
        assert throttle.retry_after("admin", "10.0.0.1") == 0
        throttle.failed("admin", "10.0.0.1")
        clock.now += 10
    assert throttle.retry_after("admin", "10.0.0.1") == 60 - 30, "until the first leaves"
    assert throttle.retry_after("admin", "10.0.0.2") == 0, "the user elsewhere is not locked"
    assert throttle.retry_after("operator", "10.0.0.1") == 0, "nor others at that address"
    clock.now += 31
    assert throttle.retry_after("admin", "10.0.0.1") == 0


def test_a_sign_in_clears_its_pair_but_not_the_address_count(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for _ in range(2):
        throttle.failed("admin", "10.0.0.1")
    throttle.succeeded("admin", "10.0.0.1")
    throttle.failed("admin", "10.0.0.1")
    assert throttle.retry_after("admin", "10.0.0.1") == 0, "the typos before it are forgiven"
    for index in range(3):
        throttle.failed(f"guess-{index}", "10.0.0.1")
    assert throttle.retry_after("admin", "10.0.0.1") > 0, "six failures from the address"


def test_one_address_spraying_names_is_locked(throttle: LoginThrottle) -> None:
    for index in range(6):
        throttle.failed(f"guess-{index}", "10.0.0.1")
    assert throttle.retry_after("someone-else", "10.0.0.1") > 0
    assert throttle.retry_after("someone-else", "10.0.0.2") == 0


def test_a_guess_spread_over_addresses_locks_the_user_except_where_they_signed_in(
    throttle: LoginThrottle, clock: Clock
) -> None:
    throttle.succeeded("admin", "10.0.0.5")  # the admin's console
    for index in range(10):
        throttle.failed("admin", f"198.51.100.{index}")
    assert throttle.retry_after("admin", "198.51.100.99") > 0
    assert throttle.retry_after("ghost", "198.51.100.99") == 0
    assert throttle.retry_after("admin", "10.0.0.5") == 0, "the known console still gets in"
    assert throttle.retry_after("operator", "10.0.0.5") == 0

    clock.now += 30 * DAY + 1  # the console unused for longer than known_address_days
    for index in range(10):
        throttle.failed("admin", f"198.51.100.{index}")
    assert throttle.retry_after("admin", "10.0.0.5") > 0


def test_made_up_names_are_counted_like_real_ones(throttle: LoginThrottle) -> None:
    """So a 429 for a name says nothing about whether it exists."""
    throttle.succeeded("admin", "10.0.0.5")
    for index in range(10):
        throttle.failed("admin", f"198.51.100.{index}")
        throttle.failed("ghost", f"198.51.100.{index}")
    assert throttle.retry_after("admin", "203.0.113.1") == throttle.retry_after(
        "ghost", "203.0.113.1"
    )


def test_an_ipv6_client_is_counted_by_its_64(throttle: LoginThrottle) -> None:
    for index in range(6):
        throttle.failed(f"guess-{index}", f"2001:db8:1:2::{index + 1:x}")
    assert throttle.retry_after("admin", "2001:db8:1:2:ffff::1") > 0
    assert throttle.retry_after("admin", "2001:db8:1:3::1") == 0
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_key("testclient") == "testclient"


def test_asking_stores_nothing(throttle: LoginThrottle) -> None:
    for index in range(100):
        throttle.retry_after(f"guess-{index}", f"198.51.100.{index}")
    assert len(throttle) == 0


def test_expired_failures_and_known_addresses_are_dropped(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for index in range(100):
        throttle.failed(f"guess-{index}", f"198.51.100.{index}")
        throttle.succeeded(f"user-{index}", f"198.51.100.{index}")
    clock.now += 30 * DAY + 1
    throttle.failed("late", "203.0.113.1")
    throttle.succeeded("late", "203.0.113.1")
    assert len(throttle) == 3  # late: its address and user counted, known (pair forgotten)


def test_memory_stays_bounded_under_a_flood(
    throttle: LoginThrottle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(throttle_module, "MAX_KEYS", 50)
    monkeypatch.setattr(throttle_module, "MAX_KNOWN", 20)
    for index in range(1000):  # all within the window: none expires
        address = f"10.{index // 256}.{index % 256}.1"
        throttle.failed(f"guess-{index}", address)
        throttle.succeeded(f"user-{index}", address)
    assert len(throttle) == 3 * 50 + 20


def test_each_key_keeps_only_its_newest_failures() -> None:
    window = FailureWindow(limit=3, window_seconds=60)
    for second in range(100):
        window.failed("ops", float(second))
    # Locked until the oldest time kept leaves the window: 97, the third newest. Keeping more
    # would count from an older one (0 with all of them: no wait at all).
    assert window.retry_after("ops", 99.0) == 60 - 2
