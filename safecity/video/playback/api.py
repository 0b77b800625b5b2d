"""Recorded video over HTTP: the timeline, HLS playback and MP4 clips.

Everything is scoped like the camera itself (out of scope = 404, as if missing) and limited
to the roles that may watch recordings (``RECORDING_VIEWERS``). Clips and HLS serve the
recorded bytes as they are: nothing is re-encoded, only fragment headers are retimed. Both are
streamed as they are read from the segment files, never staged on disk: an hour's clip
(1.8 GB) starts at once instead of after ~6 s of writing a temporary file.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, status
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safecity.api.deps import CurrentScope, CurrentUser, DbSession
from safecity.api.scoped import ScopedCamera, visible_camera
from safecity.audit.log import record
from safecity.auth.models import User
from safecity.auth.roles import Role, Scope
from safecity.bounds import Day, Id, Moment
from safecity.settings import Settings
from safecity.video.models import CameraStream, RecordedSegment, StreamStatus
from safecity.video.mp4.boxes import Fmp4Error
from safecity.video.mp4.join import Piece, plan_media_segment
from safecity.video.mp4.layout import SegmentLayout, read_layout
from safecity.video.playback.clips import (
    GAP_TOLERANCE,
    ClipError,
    NoRecording,
    plan_clip,
    recording_gaps,
    segments_in_range,
)
from safecity.video.playback.hls import HlsSegment, vod_playlist

router = APIRouter(prefix="/api", tags=["recordings"])

RECORDING_VIEWERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.POLICE_DUTY_OFFICER, Role.UTILITY})
"""Who may play recorded video (within their scope). Analysts work with figures and akimats
with their district's cameras and requests; neither needs to watch the city's archive."""
MAX_PLAYLIST = timedelta(hours=24)
MEDIA_SEGMENT = "video/iso.segment"
"""IANA media type of an ISO BMFF media segment (``.m4s``)."""


class RecordedRange(BaseModel):
    start: datetime
    end: datetime
    segments: int
    bytes: int


class Gap(BaseModel):
    start: datetime
    end: datetime


class Timeline(BaseModel):
    camera_id: int
    start: datetime
    end: datetime
    ranges: list[RecordedRange]
    gaps: list[Gap]
    """Holes inside the asked period, including before the first and after the last range."""
    recorded_seconds: float
    first_recording: datetime | None
    """The oldest recording kept for this camera (what retention left)."""
    recording_since: datetime | None = None
    """Set while the camera is recording: from here to now is the segment being written, not a
    hole (it is indexed when it is finished)."""


def _viewer(user: CurrentUser) -> User:
    if user.role not in RECORDING_VIEWERS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="your role may not watch recordings")
    return user


Viewer = Annotated[User, Depends(_viewer)]


def _segment_being_written(
    session: Session, camera_id: int, last_end: datetime, now: datetime, request: Request
) -> datetime | None:
    """Where the open segment begins, if the camera records now and the index stops just
    before (within two segment lengths)."""
    stream = session.get(CameraStream, camera_id)
    if stream is None or not stream.recording or stream.status is not StreamStatus.ONLINE:
        return None
    open_for = timedelta(seconds=2 * _settings(request).video.segment_seconds + 5)
    return last_end if now - last_end <= open_for else None


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _period(
    request: Request,
    day: Day | None,
    start: datetime | None,
    end: datetime | None,
    longest: timedelta,
) -> tuple[datetime, datetime]:
    """A day in the city's time zone, or an explicit aware start/end."""
    if day is not None:
        if start is not None or end is not None:
            raise HTTPException(422, detail="give either day or start/end, not both")
        zone = _settings(request).zone
        first = datetime.combine(day, time(0), zone)
        return first.astimezone(UTC), (first + timedelta(days=1)).astimezone(UTC)
    if start is None or end is None:
        raise HTTPException(422, detail="give day, or both start and end")
    if end <= start:
        raise HTTPException(422, detail="end must come after start")
    if end - start > longest:
        raise HTTPException(422, detail=f"at most {longest} at a time")
    return start, end


@router.get("/cameras/{camera_id}/recordings", response_model=Timeline)
def camera_timeline(
    request: Request,
    session: DbSession,
    user: Viewer,
    camera: ScopedCamera,
    day: Day | None = None,
    start: Moment | None = None,
    end: Moment | None = None,
) -> Timeline:
    """Which stretches of time are recorded (one entry per continuous range) and the holes."""
    begin, finish = _period(request, day, start, end, timedelta(days=31))
    rows = session.execute(
        select(RecordedSegment.started_at, RecordedSegment.ended_at, RecordedSegment.bytes)
        .where(
            RecordedSegment.camera_id == camera.id,
            RecordedSegment.started_at < finish,
            RecordedSegment.ended_at > begin,
        )
        .order_by(RecordedSegment.started_at)
    ).all()
    ranges: list[RecordedRange] = []
    for started, ended, size in rows:
        if ranges and started - ranges[-1].end <= GAP_TOLERANCE:
            last = ranges[-1]
            last.end = max(last.end, ended)
            last.segments += 1
            last.bytes += size
        else:
            ranges.append(RecordedRange(start=started, end=ended, segments=1, bytes=size))
    gaps: list[Gap] = []
    cursor = begin
    for recorded in ranges:
        if recorded.start - cursor > GAP_TOLERANCE:
            gaps.append(Gap(start=cursor, end=recorded.start))
        cursor = max(cursor, recorded.end)
    now = datetime.now(UTC)
    recording_since = _segment_being_written(session, camera.id, cursor, now, request)
    if recording_since is None and min(finish, now) - cursor > GAP_TOLERANCE:
        gaps.append(Gap(start=cursor, end=min(finish, now)))
    first = session.scalar(
        select(func.min(RecordedSegment.started_at)).where(RecordedSegment.camera_id == camera.id)
    )
    recorded_seconds = sum(
        (min(r.end, finish) - max(r.start, begin)).total_seconds() for r in ranges
    )
    return Timeline(
        camera_id=camera.id,
        start=begin,
        end=finish,
        ranges=ranges,
        gaps=gaps,
        recorded_seconds=round(recorded_seconds, 3),
        recording_since=recording_since if recording_since and recording_since < finish else None,
        first_recording=first,
    )


@router.get(
    "/cameras/{camera_id}/recordings.m3u8",
    response_class=PlainTextResponse,
    responses={200: {"content": {"application/vnd.apple.mpegurl": {}}}},
)
def camera_playlist(
    request: Request,
    session: DbSession,
    user: Viewer,
    camera: ScopedCamera,
    start: Annotated[Moment, Query()],
    end: Annotated[Moment, Query()],
) -> PlainTextResponse:
    """An HLS VOD playlist of the range: per recorded file an init part and a media part timed
    on the playlist's timeline, a discontinuity at every hole. Plays in Safari, VLC, ffplay
    and hls.js; FFmpeg decodes every frame, across files and holes."""
    if end <= start or end - start > MAX_PLAYLIST:
        raise HTTPException(422, detail=f"end must come after start, at most {MAX_PLAYLIST}")
    segments = segments_in_range(session, camera.id, start, end)
    if not segments:
        raise HTTPException(404, detail="nothing recorded in that range")
    record(
        session,
        action="video.playback",
        actor=user.username,
        actor_id=user.id,
        target=f"camera:{camera.id}",
        details={"start": start.isoformat(), "end": end.isoformat()},
        address=request.client.host if request.client else None,
    )
    holes = {after for _, after in recording_gaps(segments)}
    playlist = vod_playlist(
        [
            HlsSegment(
                url=f"segments/{segment.id}/media-{shift}.m4s",
                init_url=f"segments/{segment.id}/init.mp4",
                duration=max(segment.seconds, 0.001),
                started_at=segment.started_at,
                discontinuity=segment.started_at in holes,
            )
            for segment, shift in zip(segments, _shifts(segments), strict=True)
        ]
    )
    return PlainTextResponse(playlist, media_type="application/vnd.apple.mpegurl")


def _shifts(segments: Sequence[RecordedSegment]) -> list[int]:
    """Where each file's time 0 lands on the playlist's timeline, in the file's ticks.

    The timeline starts at the first file's start; each file is placed at its own start, so
    a hole in the recording is a jump in time. From the index alone (no file is opened): a
    file that starts within 50 ms of where the previous one ends (same time scale) is placed
    exactly there, so that wall-clock rounding leaves no overlap or sliver between them.
    """
    origin = segments[0].started_at
    shifts: list[int] = []
    previous: tuple[int, int] | None = None  # (end in ticks, time scale)
    for segment in segments:
        scale = segment.time_scale
        shift = round((segment.started_at - origin).total_seconds() * scale)
        if previous is not None and previous[1] == scale and abs(shift - previous[0]) < scale // 20:
            shift = previous[0]
        shifts.append(shift)
        previous = (shift + round(segment.seconds * scale), scale)
    return shifts


@router.get(
    "/cameras/{camera_id}/segments/{segment_id}/init.mp4",
    response_class=Response,
    responses={200: {"content": {"video/mp4": {}}}},
)
def segment_init(
    camera_id: Id,
    segment_id: Id,
    request: Request,
    session: DbSession,
    scope: CurrentScope,
    user: Viewer,
) -> Response:
    """A recorded file's init part (``ftyp`` + ``moov``): the HLS ``EXT-X-MAP``."""
    path, layout = _segment_layout(request, session, scope, camera_id, segment_id)
    with path.open("rb") as file:
        init = file.read(layout.init_size)
    return Response(init, media_type="video/mp4")


@router.get(
    "/cameras/{camera_id}/segments/{segment_id}/media-{at}.m4s",
    response_class=StreamingResponse,
    responses={200: {"content": {MEDIA_SEGMENT: {}}}},
)
def segment_media(
    camera_id: Id,
    segment_id: Id,
    request: Request,
    session: DbSession,
    scope: CurrentScope,
    user: Viewer,
    at: Annotated[int, Path(ge=0, description="Ticks added to every decode time")],
) -> StreamingResponse:
    """A recorded file's fragments as an HLS media segment, every ``tfdt`` moved by ``at``
    (the playlist gives each file its place on one timeline; the payloads are as recorded).

    The shift is in the path, not a query: the URL must end in ``.m4s``, as FFmpeg's HLS
    demuxer refuses segment URLs whose extension it does not know, and some builds (Debian
    12's) do not look past a query for it."""
    path, layout = _segment_layout(request, session, scope, camera_id, segment_id)
    try:
        plan = plan_media_segment(Piece(path, layout, 0, len(layout.fragments) - 1, at))
    except Fmp4Error as exc:
        raise HTTPException(422, detail=exc.problem) from exc
    return StreamingResponse(
        plan.chunks(), media_type=MEDIA_SEGMENT, headers={"Content-Length": str(plan.size)}
    )


def _segment_layout(
    request: Request, session: Session, scope: Scope, camera_id: int, segment_id: int
) -> tuple[pathlib.Path, SegmentLayout]:
    """The file of one of the camera's segments and its layout; 404 for another camera's.

    The segment endpoints take the camera's id rather than a ``ScopedCamera``: a dependency's
    path parameters are listed after the endpoint's own in the OpenAPI document, and these
    keep the path's order (camera, segment, shift)."""
    camera = visible_camera(session, scope, camera_id)
    segment = session.get(RecordedSegment, segment_id)
    if segment is None or segment.camera_id != camera.id:
        raise HTTPException(404, detail="no such segment")
    path = _settings(request).media_path / segment.path
    try:
        return path, read_layout(path)
    except FileNotFoundError as exc:
        raise HTTPException(410, detail="the segment file is gone from the media folder") from exc
    except Fmp4Error as exc:
        raise HTTPException(422, detail=f"the segment file cannot be read: {exc.problem}") from exc


@router.get(
    "/cameras/{camera_id}/clip.mp4",
    response_class=StreamingResponse,
    responses={200: {"content": {"video/mp4": {}}}, 206: {"content": {"video/mp4": {}}}},
)
def camera_clip(
    request: Request,
    session: DbSession,
    user: Viewer,
    camera: ScopedCamera,
    start: Annotated[Moment, Query()],
    end: Annotated[Moment, Query()],
    download: bool = False,
    range_header: Annotated[str | None, Header(alias="Range")] = None,
    if_range: Annotated[str | None, Header(alias="If-Range")] = None,
) -> StreamingResponse:
    """The range as one MP4 (fragmented, seekable), joined from the segments without
    re-encoding and streamed as it is read; one byte range may be asked (players seek so).
    It starts at the keyframe at or before ``start``; headers say the actual range. For
    court use, export an evidence package instead (signed, audited)."""
    settings = _settings(request)
    try:
        clip = plan_clip(session, settings.media_path, camera, start, end, verify=False)
    except NoRecording as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except ClipError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    name = f"{camera.code}_{clip.starts_at:%Y%m%dT%H%M%SZ}_{clip.ends_at:%Y%m%dT%H%M%SZ}.mp4"
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": _disposition("attachment" if download else "inline", name),
        "X-Clip-Start": clip.starts_at.isoformat(),
        "X-Clip-End": clip.ends_at.isoformat(),
        "X-Clip-Gaps": str(len(clip.gaps)),
    }
    # No validator is sent, so an If-Range never matches: the whole clip then (RFC 9110).
    asked = None if if_range else _byte_range(range_header, clip.bytes)
    if asked is None or asked[0] == 0:  # a player's later range requests are the same viewing
        record(
            session,
            action="video.clip",
            actor=user.username,
            actor_id=user.id,
            target=f"camera:{camera.id}",
            details={
                "start": start.isoformat(),
                "end": end.isoformat(),
                "clip_start": clip.starts_at.isoformat(),
                "clip_end": clip.ends_at.isoformat(),
                "download": download,
            },
            address=request.client.host if request.client else None,
        )
    if asked is None:
        headers["Content-Length"] = str(clip.bytes)
        return StreamingResponse(clip.join.chunks(), media_type="video/mp4", headers=headers)
    first, stop = asked
    headers["Content-Length"] = str(stop - first)
    headers["Content-Range"] = f"bytes {first}-{stop - 1}/{clip.bytes}"
    return StreamingResponse(
        clip.join.chunks(first, stop),
        status_code=status.HTTP_206_PARTIAL_CONTENT,
        media_type="video/mp4",
        headers=headers,
    )


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range asked (RFC 9110), as start and exclusive end; None for the whole
    clip (no header, or several ranges or another form, which a server may ignore); 416 if
    none of it lies within the clip."""
    found = _RANGE.fullmatch(header.strip()) if header else None
    if found is None or found.group(1) == found.group(2) == "":
        return None
    first, last = found.group(1), found.group(2)
    if first == "":  # the last N bytes
        if int(last) == 0:
            raise _unsatisfiable(size)
        return max(size - int(last), 0), size
    if int(first) >= size or (last and int(last) < int(first)):
        raise _unsatisfiable(size)
    return int(first), min(int(last) + 1, size) if last else size


def _unsatisfiable(size: int) -> HTTPException:
    return HTTPException(
        status.HTTP_416_RANGE_NOT_SATISFIABLE, headers={"Content-Range": f"bytes */{size}"}
    )


def _disposition(kind: str, name: str) -> str:
    """``Content-Disposition`` with the file name, RFC 5987-encoded when not plain ASCII."""
    quoted = quote(name)
    if quoted != name:
        return f"{kind}; filename*=utf-8''{quoted}"
    return f'{kind}; filename="{name}"'
