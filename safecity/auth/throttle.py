"""Slows down password guessing without handing a guesser a way to lock the real user out.

Failed sign-ins are counted three ways (limits in ``api.login``), and each count locks only
what it counts:

- per username *and* client address: a few failures lock that pair. Someone guessing the
  admin's password from elsewhere does not lock the admin out of their own console.
- per client address, whatever the usernames: one address spraying many names is stopped.
- per username, from all addresses: a higher limit that slows a guess spread over many
  addresses, which neither count above sees. It does not apply at the user's *known*
  addresses (those they signed in from lately), so such an attack cannot lock the user out
  of their usual console either.

Nothing here asks the database, and a made-up username is counted and locked exactly like a
real one: neither the 429 nor how long the answer takes tells whether a username exists.
Memory stays bounded however many made-up names and addresses arrive (``MAX_KEYS``).
"""

from __future__ import annotations

import ipaddress
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Callable, Hashable

from safecity.settings import LoginThrottleSettings

# Most keys one count keeps. Past it, the least recently failed key is forgotten (its lock
# too): memory matters more, and evicting a key takes this many failed sign-ins for other keys
# since its last one, each paid for with a password hash, far more than the few tries it frees.
MAX_KEYS = 20_000

# Most (username, address) pairs remembered as known. Only a successful sign-in adds one, so
# a guesser cannot fill it; past it, the pair signed in from longest ago is forgotten.
MAX_KNOWN = 20_000

Clock = Callable[[], float]


def client_key(address: str) -> str:
    """The address as counted: an IPv6 address stands for its /64, which one subscriber gets
    whole (rotating addresses within it must not escape the limits, and privacy extensions
    change a user's own address daily); anything that is not an IP is counted as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class FailureWindow:
    """Failed attempts per key in a sliding window: ``limit`` of them less than
    ``window_seconds`` apart lock the key until the oldest of them leaves the window.

    Only the newest ``limit`` times per key are kept, and keys are ordered least recently
    failed first, so expired keys are dropped from the front as they expire (no scan of all
    keys, which a flood would trigger on every failure). Not thread-safe: LoginThrottle locks.
    """

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._failures: OrderedDict[Hashable, array[float]] = OrderedDict()

    def retry_after(self, key: Hashable, now: float) -> float:
        """Seconds until ``key`` may try again; 0 when it may try now."""
        failures = self._failures.get(key)
        if failures is None or len(failures) < self.limit:
            return 0.0
        return max(0.0, self.window_seconds - (now - failures[0]))

    def failed(self, key: Hashable, now: float) -> None:
        failures = self._failures.get(key)
        if failures is None:
            failures = self._failures[key] = array("d")
        else:
            self._failures.move_to_end(key)
            if len(failures) == self.limit:
                del failures[0]
        failures.append(now)
        while self._failures:
            oldest = next(iter(self._failures.values()))
            if now - oldest[-1] <= self.window_seconds and len(self._failures) <= MAX_KEYS:
                break
            self._failures.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        self._failures.pop(key, None)

    def __len__(self) -> int:
        return len(self._failures)


class LoginThrottle:
    """The sign-in limits of one API process. Usernames are compared as given; the caller
    folds their case, as sign-in does."""

    def __init__(self, settings: LoginThrottleSettings, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._by_user_address = FailureWindow(
            settings.user_address_failures, settings.user_address_window_seconds
        )
        self._by_address = FailureWindow(settings.address_failures, settings.address_window_seconds)
        self._by_user = FailureWindow(settings.user_failures, settings.user_window_seconds)
        self._known_seconds = settings.known_address_days * 86400
        # (username, client key) -> when it last signed in; oldest first.
        self._known: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, username: str, address: str) -> float:
        """Seconds until ``username`` may try to sign in from ``address``; 0 when now."""
        client = client_key(address)
        now = self._clock()
        with self._lock:
            wait = max(
                self._by_user_address.retry_after((username, client), now),
                self._by_address.retry_after(client, now),
            )
            if self._is_known(username, client, now):
                return wait
            return max(wait, self._by_user.retry_after(username, now))

    def failed(self, username: str, address: str) -> None:
        client = client_key(address)
        now = self._clock()
        with self._lock:
            self._by_user_address.failed((username, client), now)
            self._by_address.failed(client, now)
            self._by_user.failed(username, now)

    def succeeded(self, username: str, address: str) -> None:
        """Clears the pair's failures and makes the address known for the user. The address's
        and the user's counts stay: a guesser holding one account must not reset the count of
        the names it sprays, nor a user's sign-in the count of those guessing their password."""
        client = client_key(address)
        now = self._clock()
        with self._lock:
            self._by_user_address.forget((username, client))
            self._known.pop((username, client), None)
            self._known[(username, client)] = now
            while self._known:
                oldest = next(iter(self._known.values()))
                if now - oldest <= self._known_seconds and len(self._known) <= MAX_KNOWN:
                    break
                self._known.popitem(last=False)

    def _is_known(self, username: str, client: str, now: float) -> bool:
        signed_in = self._known.get((username, client))
        return signed_in is not None and now - signed_in <= self._known_seconds

    def __len__(self) -> int:
        """Keys held in memory, all counts and known addresses together."""
        return (
            len(self._by_user_address)
            + len(self._by_address)
            + len(self._by_user)
            + len(self._known)
        )
