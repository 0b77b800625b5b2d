"""The hash chain, pure (no I/O): each row's hash covers its content and the previous row's
hash, so changing, removing or re-hashing a row shows up when the chain is walked in seq order.

``actor_id`` is deliberately not hashed: it is a convenience link to ``users`` that the
database itself sets to NULL when a user row is deleted (ON DELETE SET NULL), which must not
read as tampering. The actor's name, which is hashed, is the authoritative attribution.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

GENESIS_HASH = "0" * 64


def canonical_bytes(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str | None,
    details: Mapping[str, Any],
    address: str | None,
    prev_hash: str,
) -> bytes:
    """Sorted-key, compact JSON of what a row's hash covers (UTF-8)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given; audit timestamps are aware UTC")
    content = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "target": target,
        "details": details,
        "address": address,
        "prev_hash": prev_hash,
    }
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str | None,
    details: Mapping[str, Any],
    address: str | None,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the row's canonical bytes."""
    return hashlib.sha256(
        canonical_bytes(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            target=target,
            details=details,
            address=address,
            prev_hash=prev_hash,
        )
    ).hexdigest()


@dataclass(frozen=True)
class ChainRow:
    """A stored row as the verifier sees it."""

    seq: int
    at: datetime
    actor: str
    action: str
    target: str | None
    details: Mapping[str, Any]
    address: str | None
    prev_hash: str
    hash: str

    def recomputed_hash(self) -> str:
        return entry_hash(
            seq=self.seq,
            at=self.at,
            actor=self.actor,
            action=self.action,
            target=self.target,
            details=self.details,
            address=self.address,
            prev_hash=self.prev_hash,
        )


class FindingKind(StrEnum):
    CHANGED = "changed"  # the row's content no longer matches its stored hash
    MISSING = "missing"  # seq numbers are absent
    UNLINKED = "unlinked"  # the row's prev_hash is not the previous row's hash
    ORDER = "order"  # seq does not increase (should be impossible: seq is unique)


@dataclass(frozen=True)
class Finding:
    seq: int
    kind: FindingKind
    message: str

    def __str__(self) -> str:
        return self.message


class ChainVerifier:
    """Walks rows one by one in seq order (so a log of any length streams through it)."""

    def __init__(self) -> None:
        self.rows = 0
        self.last: ChainRow | None = None

    def feed(self, row: ChainRow) -> list[Finding]:
        findings: list[Finding] = []
        previous = self.last
        expected_seq = previous.seq + 1 if previous else 1
        if row.seq < expected_seq:
            findings.append(
                Finding(
                    row.seq,
                    FindingKind.ORDER,
                    f"row {row.seq} is out of order: it comes after row {expected_seq - 1}",
                )
            )
        elif row.seq > expected_seq:
            first, last = expected_seq, row.seq - 1
            what = f"row {first} is" if first == last else f"rows {first}–{last} are"
            findings.append(
                Finding(first, FindingKind.MISSING, f"{what} missing (a gap before row {row.seq})")
            )
        if row.recomputed_hash() != row.hash:
            findings.append(
                Finding(
                    row.seq,
                    FindingKind.CHANGED,
                    f"row {row.seq} was changed: its content does not match its stored hash",
                )
            )
        if row.seq == expected_seq:
            expected_prev = previous.hash if previous else GENESIS_HASH
            if row.prev_hash != expected_prev:
                before = (
                    f"row {previous.seq}'s hash"
                    if previous
                    else "the genesis hash (row 1 should start the chain)"
                )
                cause = (
                    f"row {previous.seq} was changed and its hash recomputed, or a row was "
                    "removed and the rest renumbered"
                    if previous
                    else "rows before it were removed and the rest renumbered"
                )
                findings.append(
                    Finding(
                        row.seq,
                        FindingKind.UNLINKED,
                        f"row {row.seq} does not link to the chain: its prev_hash is not "
                        f"{before} ({cause})",
                    )
                )
        self.rows += 1
        self.last = row
        return findings


def verify_chain(rows: Iterable[ChainRow]) -> list[Finding]:
    """Every finding in ``rows`` (given in seq order); empty when the chain is intact."""
    verifier = ChainVerifier()
    return [finding for row in rows for finding in verifier.feed(row)]
