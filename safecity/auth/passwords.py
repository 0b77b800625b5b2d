"""Password hashing with Argon2id (OWASP's first choice)."""

from __future__ import annotations

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

PRODUCTION_COST = RFC_9106_LOW_MEMORY
"""Argon2id at 64 MiB, 3 passes, 4 lanes (RFC 9106's second choice, argon2-cffi's default)."""

DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$MU1UNpGLyXT8fRtXclW5uw$1EUwF+mNz1pDHdbvbsWiXlrDVAlnhI1Mkx6YbfKTweM"
"""Verified against when the username is unknown, so a login takes as long either way and
response times do not reveal which usernames exist. Written out rather than hashed at import
(half a second that every command paid at start); made at ``PRODUCTION_COST``, which
tests/auth/test_users.py checks."""

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
"""What sign-in accepts: a longer password could be set but never typed in."""


class _Hashing:
    def __init__(self, cost: Parameters) -> None:
        self.hasher = PasswordHasher.from_parameters(cost)
        # At another cost (tests) the dummy is hashed at that cost, so that an unknown
        # username still costs what a known one does.
        self.dummy_hash = DUMMY_HASH if cost == PRODUCTION_COST else self.hasher.hash("dummy")


_hashing = _Hashing(PRODUCTION_COST)


def hash_with_cost(cost: Parameters) -> None:
    """Hash new passwords at ``cost`` from now on. Only tests lower it, to the cheapest, since
    they hash and check passwords by the hundred. A hash names the cost it was made at, so
    hashes made at another cost still verify."""
    global _hashing
    _hashing = _Hashing(cost)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hashing.hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    hashing = _hashing
    try:
        return (
            hashing.hasher.verify(password_hash or hashing.dummy_hash, password)
            and password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False
