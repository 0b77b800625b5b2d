"""Clips: a time range of one camera's recordings as one MP4, without re-encoding.

The segments that overlap the range are found in the index, and their fragments (one per GOP)
are joined byte for byte (``safecity.video.mp4.join.plan_join``). A clip can only start on a
keyframe, so it starts at the last keyframe at or before the requested start and ends with the
GOP that holds the requested end: the clip says its actual range. Holes in the recording (the
camera was offline) stay holes, listed in ``gaps``. For evidence, each source segment's
SHA-256 is checked against the index before it is used.

Playback and download stream the clip (:func:`plan_clip`): it is produced as the client reads
it and never written to disk, which at ~300 MB/s of disk would take ~6 s for an hour. Evidence
needs a file and its hash (:func:`export_clip`).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.city.models import Camera
from safecity.core.files import file_sha256
from safecity.video.models import RecordedSegment
from safecity.video.mp4.boxes import Fmp4Error
from safecity.video.mp4.join import JoinPlan, Piece, plan_join
from safecity.video.mp4.layout import SegmentLayout, read_layout

GAP_TOLERANCE = timedelta(seconds=1)
"""Segments closer than this are one continuous recording (cuts happen between frames)."""
MAX_CLIP = timedelta(hours=24)


class ClipError(Exception):
    """A clip cannot be made as asked; the message says why."""


class NoRecording(ClipError):
    pass


class SegmentAltered(ClipError):
    """A source segment's bytes no longer match the hash stored when it was recorded."""

    def __init__(self, path: str) -> None:
        super().__init__(f"segment {path} does not match its recorded SHA-256: it was altered")
        self.path = path


@dataclass(frozen=True)
class ClipSegment:
    segment_id: int
    path: str
    sha256: str
    started_at: datetime
    ended_at: datetime
    bytes: int


@dataclass(frozen=True)
class ClipRange:
    """What a clip covers: asked for, actually (keyframe to end of GOP), and from which files."""

    camera_code: str
    requested_start: datetime
    requested_end: datetime
    starts_at: datetime
    ends_at: datetime
    segments: tuple[ClipSegment, ...]
    gaps: tuple[tuple[datetime, datetime], ...]


@dataclass(frozen=True)
class Clip(ClipRange):
    """A clip written to a file."""

    bytes: int
    sha256: str


@dataclass(frozen=True)
class ClipPlan(ClipRange):
    """A clip planned and checked, ready to stream (``join.chunks()``) or write."""

    join: JoinPlan

    @property
    def bytes(self) -> int:
        return self.join.size


def check_range(start: datetime, end: datetime, *, longest: timedelta = MAX_CLIP) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ClipError("give times with a time zone (e.g. 2026-11-27T10:00:00+05:00)")
    if end <= start:
        raise ClipError("the end of the range must come after its start")
    if end - start > longest:
        raise ClipError(f"a clip can cover at most {longest}; split the range")


def segments_in_range(
    session: Session, camera_id: int, start: datetime, end: datetime
) -> list[RecordedSegment]:
    return list(
        session.scalars(
            select(RecordedSegment)
            .where(
                RecordedSegment.camera_id == camera_id,
                RecordedSegment.started_at < end,
                RecordedSegment.ended_at > start,
            )
            .order_by(RecordedSegment.started_at)
        )
    )


def plan_clip(
    session: Session,
    media_root: Path,
    camera: Camera,
    start: datetime,
    end: datetime,
    *,
    verify: bool = True,
    longest: timedelta = MAX_CLIP,
) -> ClipPlan:
    """The range's recording as a join plan: every source file found, read (layouts, and with
    ``verify`` the SHA-256 of each) and checked now, so that what can go wrong goes wrong
    before the first byte is sent."""
    check_range(start, end, longest=longest)
    segments = segments_in_range(session, camera.id, start, end)
    if not segments:
        raise NoRecording(f"camera {camera.code} has no recording between {start} and {end}")
    layouts = []
    for segment in segments:
        path = media_root / segment.path
        try:
            if verify and file_sha256(path) != segment.sha256:
                raise SegmentAltered(segment.path)
            layouts.append(read_layout(path))
        except FileNotFoundError as exc:
            raise ClipError(f"segment {segment.path} is missing from the media folder") from exc
        except Fmp4Error as exc:
            raise ClipError(f"segment {segment.path} cannot be read: {exc.problem}") from exc
    pieces, starts_at, ends_at = _pieces(media_root, segments, layouts, start, end)
    try:
        join = plan_join(pieces)
    except Fmp4Error as exc:
        raise ClipError(
            f"the recordings of camera {camera.code} in this range cannot be joined into one "
            f"file ({_in_media(exc, media_root)}); export the parts on either side of that "
            "point separately"
        ) from exc
    return ClipPlan(
        camera_code=camera.code,
        requested_start=start,
        requested_end=end,
        starts_at=starts_at,
        ends_at=ends_at,
        segments=tuple(
            ClipSegment(s.id, s.path, s.sha256, s.started_at, s.ended_at, s.bytes) for s in segments
        ),
        gaps=tuple(recording_gaps(segments)),
        join=join,
    )


def _in_media(error: Fmp4Error, media_root: Path) -> str:
    """The error with its file named inside the media folder: answers and packages must not
    reveal where the server keeps its recordings."""
    where = Path(error.where)
    shown = (
        where.relative_to(media_root).as_posix() if where.is_relative_to(media_root) else where.name
    )
    return f"segment {shown}: {error.problem}"


def export_clip(
    session: Session,
    media_root: Path,
    camera: Camera,
    start: datetime,
    end: datetime,
    out: Path,
    *,
    verify: bool = True,
    longest: timedelta = MAX_CLIP,
) -> Clip:
    """Write the range's recording to ``out`` (created only when complete) and hash it."""
    plan = plan_clip(session, media_root, camera, start, end, verify=verify, longest=longest)
    try:
        result = plan.join.write(out)
    except Fmp4Error as exc:
        raise ClipError(
            f"a segment changed while the clip was written: {_in_media(exc, media_root)}"
        ) from exc
    fields = {f.name: getattr(plan, f.name) for f in dataclasses.fields(ClipRange)}
    return Clip(**fields, bytes=result.size, sha256=file_sha256(out))


def recording_gaps(
    segments: Sequence[RecordedSegment],
) -> list[tuple[datetime, datetime]]:
    """Holes between consecutive segments (ordered by start)."""
    return [
        (before.ended_at, after.started_at)
        for before, after in itertools.pairwise(segments)
        if after.started_at - before.ended_at > GAP_TOLERANCE
    ]


def _pieces(
    media_root: Path,
    segments: Sequence[RecordedSegment],
    layouts: Sequence[SegmentLayout],
    start: datetime,
    end: datetime,
) -> tuple[list[Piece], datetime, datetime]:
    """Which fragments of which files, and where each file lands on the clip's timeline."""
    chosen: list[tuple[RecordedSegment, SegmentLayout, int, int]] = []
    for segment, layout in zip(segments, layouts, strict=True):
        offsets = [
            segment.started_at + timedelta(seconds=f.decode_time / layout.timescale)
            for f in layout.fragments
        ]
        first = 0
        for index, (at, fragment) in enumerate(zip(offsets, layout.fragments, strict=True)):
            if at <= start and fragment.keyframe:
                first = index
        last = max(
            (i for i, at in enumerate(offsets) if at < end),
            default=len(layout.fragments) - 1,
        )
        if first <= last:
            chosen.append((segment, layout, first, last))
    head_segment, head_layout, head_first, _ = chosen[0]
    origin = head_segment.started_at + timedelta(
        seconds=head_layout.fragments[head_first].decode_time / head_layout.timescale
    )
    pieces: list[Piece] = []
    previous_end: int | None = None
    ends_at = origin
    for segment, layout, first, last in chosen:
        scale = layout.timescale
        shift = round((segment.started_at - origin).total_seconds() * scale)
        piece_start = shift + layout.fragments[first].decode_time
        if previous_end is not None and abs(piece_start - previous_end) < scale // 20:
            shift += previous_end - piece_start  # back to back: no rounding overlap or sliver
        pieces.append(Piece(media_root / segment.path, layout, first, last, shift))
        previous_end = shift + layout.fragments[last].end_time
        ends_at = segment.started_at + timedelta(seconds=layout.fragments[last].end_time / scale)
    return pieces, origin, ends_at
