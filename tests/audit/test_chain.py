"""The hash chain without a database: what each kind of tampering looks like."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from safecity.audit.chain import (
    GENESIS_HASH,
    ChainRow,
    FindingKind,
    canonical_bytes,
    entry_hash,
    verify_chain,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def make_chain(n: int) -> list[ChainRow]:
    rows: list[ChainRow] = []
    prev = GENESIS_HASH
    for seq in range(1, n + 1):
        content = dict(
            seq=seq,
            at=T0 + timedelta(seconds=seq, microseconds=seq),
            actor="operator",
            action="video.playback",
            target=f"camera:{seq}",
            details={"start": "2026-03-01T07:00:00+00:00", "n": seq},
            address="10.0.0.1",
            prev_hash=prev,
        )
        digest = entry_hash(**content)  # type: ignore[arg-type]
        rows.append(ChainRow(**content, hash=digest))  # type: ignore[arg-type]
        prev = digest
    return rows


def rehash(row: ChainRow) -> ChainRow:
    return dataclasses.replace(row, hash=row.recomputed_hash())


def test_canonical_bytes_are_sorted_compact_json_with_microseconds() -> None:
    data = canonical_bytes(
        seq=1,
        at=T0,
        actor="a",
        action="auth.login",
        target=None,
        details={"b": 1, "a": "é"},
        address=None,
        prev_hash=GENESIS_HASH,
    )
    assert data.startswith(b'{"action":"auth.login","actor":"a","address":null,"at":')
    assert b'"2026-03-01T08:00:00.000000+00:00"' in data
    assert '{"a":"é","b":1}'.encode() in data


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        entry_hash(
            seq=1,
            at=datetime(2026, 1, 1),
            actor="a",
            action="x",
            target=None,
            details={},
            address=None,
            prev_hash=GENESIS_HASH,
        )


def test_an_intact_chain_has_no_findings() -> None:
    assert verify_chain(make_chain(5)) == []
    assert verify_chain([]) == []


def test_a_changed_row_is_named() -> None:
    rows = make_chain(5)
    rows[2] = dataclasses.replace(rows[2], details={"n": 99})
    (finding,) = verify_chain(rows)
    assert (finding.seq, finding.kind) == (3, FindingKind.CHANGED)
    assert "row 3 was changed" in finding.message


def test_a_changed_row_whose_hash_was_recomputed_breaks_the_next_link() -> None:
    rows = make_chain(5)
    rows[2] = rehash(dataclasses.replace(rows[2], actor="someone-else"))
    (finding,) = verify_chain(rows)
    assert (finding.seq, finding.kind) == (4, FindingKind.UNLINKED)
    assert "row 4 does not link" in finding.message and "row 3" in finding.message


def test_a_deleted_row_is_named_missing() -> None:
    rows = make_chain(5)
    del rows[1]
    (finding,) = verify_chain(rows)
    assert (finding.seq, finding.kind) == (2, FindingKind.MISSING)
    assert finding.message == "row 2 is missing (a gap before row 3)"


def test_deleted_first_rows_are_missing() -> None:
    (finding,) = verify_chain(make_chain(5)[2:])
    assert finding.message == "rows 1–2 are missing (a gap before row 3)"


def test_a_deleted_row_with_the_rest_renumbered_and_rehashed_breaks_a_link() -> None:
    rows = make_chain(4)
    renumbered = [rows[0]] + [rehash(dataclasses.replace(r, seq=r.seq - 1)) for r in rows[2:]]
    findings = verify_chain(renumbered)
    # Every rehashed row's own link breaks, starting at the first renumbered one.
    assert [(f.seq, f.kind) for f in findings] == [
        (2, FindingKind.UNLINKED),
        (3, FindingKind.UNLINKED),
    ]


def test_a_forged_first_row_is_unlinked() -> None:
    rows = make_chain(2)
    rows[0] = rehash(dataclasses.replace(rows[0], prev_hash="f" * 64))
    kinds = [(f.seq, f.kind) for f in verify_chain(rows)]
    assert kinds == [(1, FindingKind.UNLINKED), (2, FindingKind.UNLINKED)]
