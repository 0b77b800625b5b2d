"""Password hashing with Argon2id (OWASP's first choice)."""

from __future__ import annotations

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

PRODUCTION_COST = RFC_9106_LOW_MEMORY
"""Argon2id at 64 MiB, 3 passes, 4 lanes (RFC 9106's second choice, argon2-cffi's default)."""

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
"""What sign-in accepts: a longer password could be set but never typed in."""


class _Hashing:
    def __init__(self, cost: Parameters) -> None:
        self.hasher = PasswordHasher.from_parameters(cost)
        # Verified against when the username is unknown, so a login takes as long either way
        # and response times do not reveal which usernames exist.
        self.dummy_hash = self.hasher.hash("not-a-password")


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
