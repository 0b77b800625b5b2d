"""Signatures of the inbound alert webhook.

An outside system signs ``"<timestamp>.<raw body>"`` with HMAC-SHA256 and its shared secret and
sends ``X-SafeCity-Source: <name>``, ``X-SafeCity-Timestamp: <unix seconds>`` and
``X-SafeCity-Signature: sha256=<hex>``. A timestamp more than ``MAX_SKEW`` from now is refused,
so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Mapping

from pydantic import SecretStr

SOURCE_HEADER = "X-SafeCity-Source"
TIMESTAMP_HEADER = "X-SafeCity-Timestamp"
SIGNATURE_HEADER = "X-SafeCity-Signature"
MAX_SKEW = 300  # seconds
_PREFIX = "sha256="
_UNKNOWN_SOURCE_SECRET = b"\x00" * 32  # compared against, so unknown sources take as long

log = logging.getLogger(__name__)


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The X-SafeCity-Signature value for ``body`` sent at ``timestamp``."""
    message = str(timestamp).encode("utf-8") + b"." + body
    return _PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verified_source(
    sources: Mapping[str, SecretStr] | Mapping[str, str],
    *,
    source: str | None,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float | None = None,
) -> str | None:
    """The source's name when the request is signed by it and fresh; otherwise None.
    ``sources``: name to secret, as the settings keep them (``SecretStr``) or plain."""
    stored = sources.get(source) if source else None
    secret = stored.get_secret_value() if isinstance(stored, SecretStr) else stored
    try:
        sent_at = int(timestamp or "")
    except ValueError:
        return None
    skew = sent_at - (time.time() if now is None else now)
    fresh = abs(skew) <= MAX_SKEW
    expected = (
        sign(secret, timestamp or "", body)
        if secret
        else _PREFIX + hmac.new(_UNKNOWN_SOURCE_SECRET, body, hashlib.sha256).hexdigest()
    )
    matches = hmac.compare_digest(expected.encode("ascii"), (signature or "").encode("utf-8"))
    if matches and secret and not fresh:
        # Only for a good signature: anybody may send a bad one, and fill the log with it.
        # A sender whose every request is refused this way has a clock that is off (or ours).
        log.warning(
            "refused a request signed by %s: its timestamp is %+.0f s from this server's "
            "clock (allowed: ±%d s); check that both clocks are kept by NTP",
            source,
            skew,
            MAX_SKEW,
        )
    return source if matches and fresh and secret else None
