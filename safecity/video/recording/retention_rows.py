"""The segment index as retention reads it: segments with their paths, a bounded batch at a
time, and the legal holds that pin them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from safecity.video.models import LegalHold, RecordedSegment
from safecity.video.recording.retention import HoldSpan, SegmentRef

IN_CHUNK = 500
"""Ids per IN (...) list: well under every backend's bound-parameter limit."""

_T = TypeVar("_T")
_Segment = RecordedSegment
SegmentQuery = Select[int, int, datetime, datetime, int, str]
SEGMENT_COLUMNS = (
    _Segment.id,
    _Segment.camera_id,
    _Segment.started_at,
    _Segment.ended_at,
    _Segment.bytes,
    _Segment.path,
)


def unheld() -> ColumnElement[bool]:
    """No active hold pins this segment (the same overlap rule as ``HoldSpan.pins``)."""
    return ~(
        select(LegalHold.id)
        .where(
            LegalHold.camera_id == _Segment.camera_id,
            LegalHold.released_at.is_(None),
            LegalHold.starts_at <= _Segment.ended_at,
            LegalHold.ends_at >= _Segment.started_at,
        )
        .exists()
    )


def fetch(session: Session, query: SegmentQuery) -> list[tuple[SegmentRef, str]]:
    """Run a query over ``SEGMENT_COLUMNS``: each segment for the planner, with its path."""
    return [
        (SegmentRef(segment_id, camera_id, started_at, ended_at, size), path)
        for segment_id, camera_id, started_at, ended_at, size, path in session.execute(query)
    ]


def chunks(items: Sequence[_T], size: int = IN_CHUNK) -> Iterable[Sequence[_T]]:
    return (items[start : start + size] for start in range(0, len(items), size))


def active_holds(session: Session, segments: Sequence[SegmentRef]) -> list[HoldSpan]:
    """The active holds that could pin any of these segments."""
    if not segments:
        return []
    rows = session.execute(
        select(LegalHold.camera_id, LegalHold.starts_at, LegalHold.ends_at).where(
            LegalHold.released_at.is_(None),
            LegalHold.camera_id.in_(sorted({s.camera_id for s in segments})),
            LegalHold.starts_at <= max(s.ended_at for s in segments),
            LegalHold.ends_at >= min(s.started_at for s in segments),
        )
    )
    return [HoldSpan(camera_id, starts_at, ends_at) for camera_id, starts_at, ends_at in rows]
