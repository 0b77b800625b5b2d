"""HLS (RFC 8216) VOD playlists over the recorder's fragmented MP4 segment files.

Each recorder file is served as two parts: its init section (``ftyp`` + ``moov``, named by
``EXT-X-MAP`` whenever it changes) and its fragments as a media segment. The media parts must
continue one another's timestamps: every recorder file restarts at 0, and FFmpeg's HLS demuxer
(ffplay, ffprobe) then drops the first GOP of every later file, so the server retimes each one
onto the playlist's timeline (``safecity.video.mp4.join.plan_media_segment``). Pure text building;
the caller names the parts and decides where the recording has holes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

__all__ = ["HlsSegment", "vod_playlist"]

_URI_SAFE = "!#$%&'()*+,-./:;=?@[]_~"
"""RFC 3986 reserved and unreserved marks, kept as they are; ``%`` too, so existing escapes
survive. Everything else (spaces, quotes, non-ASCII) is percent-encoded."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class HlsSegment:
    """One recorder file as a media segment: where its init part and media part are."""

    url: str
    """The media part: the file's fragments, timed on the playlist's timeline."""
    init_url: str
    """The init part (``ftyp`` + ``moov``) the media part decodes with."""
    duration: float
    """Seconds of media in the file."""
    started_at: datetime
    """Wall-clock time of the first frame (aware; written in UTC)."""
    discontinuity: bool = False
    """True where the recording has a hole before this file (camera offline, restart): the
    media time jumps there, which RFC 8216 wants marked."""


def vod_playlist(segments: Sequence[HlsSegment], *, target_duration: int | None = None) -> str:
    """A complete VOD media playlist (``#EXT-X-ENDLIST``) over ``segments``, in order.

    ``#EXT-X-TARGETDURATION`` defaults to the longest segment rounded up; a given one must not
    be shorter than any segment (rounded to the nearest second, as RFC 8216 says).
    ``#EXT-X-PROGRAM-DATE-TIME`` opens the playlist and follows every discontinuity, so a
    player maps media time to wall-clock time across holes. ``#EXT-X-MAP`` is written only
    where the init URL changes.
    """
    if not segments:
        raise ValueError("an HLS playlist needs at least one segment")
    for segment in segments:
        _validate(segment)
    longest = max(segment.duration for segment in segments)
    if target_duration is None:
        target_duration = math.ceil(longest)
    elif target_duration < round(longest):
        raise ValueError(
            f"target duration {target_duration} s is shorter than a {longest:.3f} s segment"
        )
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target_duration}",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    mapped: str | None = None
    for number, segment in enumerate(segments):
        if number and segment.discontinuity:
            lines.append("#EXT-X-DISCONTINUITY")
        if number == 0 or segment.discontinuity:
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_program_date_time(segment.started_at)}")
        init = _uri(segment.init_url)
        if init != mapped:
            lines.append(f'#EXT-X-MAP:URI="{init}"')
            mapped = init
        lines += [f"#EXTINF:{segment.duration:.3f},", _uri(segment.url)]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def _validate(segment: HlsSegment) -> None:
    if not (math.isfinite(segment.duration) and segment.duration > 0):
        raise ValueError(f"{segment.url!r}: duration must be a positive number of seconds")
    if segment.started_at.tzinfo is None:
        raise ValueError(f"{segment.url!r}: started_at must be timezone-aware")


def _uri(url: str) -> str:
    """``url`` percent-encoded for a playlist line and a quoted attribute: no quotes, spaces or
    non-ASCII left. Control characters (a newline would inject playlist tags) are refused."""
    if not url or _CONTROL.search(url):
        raise ValueError(f"segment URL {url!r} is empty or has control characters")
    escaped = quote(url, safe=_URI_SAFE)
    if escaped.startswith("#"):
        raise ValueError(f"segment URL {url!r} would read as a playlist tag")
    return escaped


def _program_date_time(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. ``2024-05-01T08:00:00.000Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
