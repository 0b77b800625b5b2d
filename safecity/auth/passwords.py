"""Password hashing with Argon2id (OWASP's first choice)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$MU1UNpGLyXT8fRtXclW5uw$1EUwF+mNz1pDHdbvbsWiXlrDVAlnhI1Mkx6YbfKTweM"
"""Verified against when the username is unknown, so a login takes as long either way and
response times do not reveal which usernames exist. Written out rather than hashed at import
(half a second that every command paid at start); made with the hasher's parameters, which
tests/auth/test_users.py checks are still the ones it uses."""

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
"""What sign-in accepts: a longer password could be set but never typed in."""


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
