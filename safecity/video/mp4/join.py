"""Fragments of several segment files joined into one MP4, by copying bytes.

A join rewrites a few fields in each ``moof`` and copies the payloads as they are. It is
planned first (:func:`plan_join`: every output byte's source, and the total size), then either
written to a file, the kernel copying the payloads (``safecity.video.mp4.copying``: a 1.8 GB
hour costs about what copying the files costs), or streamed to an HTTP client as it is read,
which never touches the disk. The same plan, for one file, retimes it as an HLS media segment
(:func:`plan_media_segment`) so that a playlist of files that each start at 0 plays as one
continuous timeline.

Pieces that cannot be joined by copying bytes (another time scale, codec or decoder
configuration; an edit list) raise :class:`Fmp4Error`.
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from safecity.video.mp4.boxes import (
    MAX_SMALL_BOX,
    U32,
    U64,
    Box,
    Fmp4Error,
    children,
    decode_header,
    make_box,
    malformed,
    read_exactly,
    require,
    u32,
)
from safecity.video.mp4.copying import copy_range, ended_early, write_all
from safecity.video.mp4.layout import NO_DEFAULTS, Fragment, SegmentLayout, parse_moof

_STREAM_CHUNK = 1 << 20
"""Bytes per ``pread`` when streaming: few calls per fragment, little memory per client."""


@dataclass(frozen=True)
class Piece:
    """Fragments ``first``..``last`` (inclusive) of one segment file, placed in the output.

    ``shift`` (ticks, may be negative) is added to every decode time of the piece: it is where
    the piece's time 0 lands on the output timeline. Each recorder file starts at 0, so a clip
    cut from several files gives each its start on the clip's timeline.
    """

    path: str | os.PathLike[str]
    layout: SegmentLayout
    first: int
    last: int
    shift: int = 0


@dataclass(frozen=True)
class JoinResult:
    path: Path
    duration: int
    """Ticks from 0 to the end of the last fragment on the output timeline."""
    timescale: int
    size: int
    """Bytes written."""
    fragments: int

    @property
    def seconds(self) -> float:
        return self.duration / self.timescale


@dataclass(frozen=True)
class _Planned:
    """A fragment as it will be produced: where, when and with what number."""

    fragment: Fragment
    decode_time: int
    """Its ``tfdt`` on the output timeline."""
    position: int
    """Byte offset of its ``moof`` in the output (a moved base data offset points from it)."""
    sequence: int
    """Its ``mfhd`` sequence number in the output."""


@dataclass(frozen=True)
class _Source:
    """One piece's share of the output: the file and its fragments, in order."""

    path: str | os.PathLike[str]
    items: tuple[_Planned, ...]


@dataclass(frozen=True)
class _Span:
    """Bytes to copy unchanged from an open source file: a fragment's ``mdat`` and any box
    between it and the ``moof``. Files copy them in the kernel, streams read them."""

    fd: int
    offset: int
    count: int
    where: str


@dataclass(frozen=True)
class JoinPlan:
    """Every byte of a join, decided and checked before the first one is produced.

    A plan knows its :attr:`size` up front (a patched ``moof`` keeps its size), so an HTTP
    response can announce its ``Content-Length`` and stream the clip as it is read, without
    writing it to disk first: :meth:`chunks` and :meth:`write` produce the same bytes. Source
    files are opened only while producing; one changed since ``read_layout`` (or deleted
    in between) raises :class:`Fmp4Error` then, possibly after bytes went out.
    """

    header: bytes
    """``ftyp`` + ``moov`` with the join's durations, or ``b""`` for a bare media segment."""
    trailer: bytes
    """The ``mfra`` index, or ``b""`` for a bare media segment."""
    duration: int
    """Ticks from 0 to the end of the last fragment on the output timeline."""
    timescale: int
    track_id: int
    """Every output ``moof`` carries this track id (the first piece's)."""
    size: int
    """Bytes the output will have."""
    fragments: int
    _sources: tuple[_Source, ...]

    @property
    def seconds(self) -> float:
        return self.duration / self.timescale

    def chunks(
        self, start: int = 0, stop: int | None = None, *, chunk_size: int = _STREAM_CHUNK
    ) -> Iterator[bytes]:
        """Bytes ``start`` to ``stop`` (exclusive; default: to the end) of the output, as
        byte strings of at most ``chunk_size`` (but whole ``moof`` boxes and header): payloads
        are read with ``pread`` as they are asked for, never held whole in memory. Files
        wholly outside the range are not opened (an HTTP range request seeks cheaply)."""
        stop = self.size if stop is None else stop
        if not 0 <= start <= stop <= self.size:
            raise ValueError(f"bytes {start}..{stop} asked of {self.size}")
        for part in self._parts(start, stop):
            if isinstance(part, bytes):
                yield part
                continue
            offset, end = part.offset, part.offset + part.count
            while offset < end:
                data = os.pread(part.fd, min(chunk_size, end - offset), offset)
                if not data:
                    raise ended_early(part.where, end)
                yield data
                offset += len(data)

    def write(self, out: str | os.PathLike[str]) -> JoinResult:
        """Write the output at ``out``, the payloads copied by the kernel, never by Python.

        The file appears at ``out`` only when complete (it is written as ``out.part``, then
        renamed); it is not fsynced.
        """
        target = Path(out)
        partial = target.with_name(target.name + ".part")
        try:
            with open(partial, "wb", buffering=0) as file:
                for part in self._parts(0, self.size):
                    if isinstance(part, bytes):
                        write_all(file.fileno(), part)
                    else:
                        copy_range(part.fd, file.fileno(), part.offset, part.count, part.where)
            os.replace(partial, target)
        except BaseException:
            with contextlib.suppress(OSError):
                partial.unlink()
            raise
        return JoinResult(target, self.duration, self.timescale, self.size, self.fragments)

    def _parts(self, start: int, stop: int) -> Iterator[bytes | _Span]:
        """What both :meth:`chunks` and :meth:`write` produce, in order, cut to bytes
        ``start`` to ``stop``: literal bytes, or spans of a source file to copy."""
        for at, part in self._placed(start, stop):
            length = len(part) if isinstance(part, bytes) else part.count
            low, high = max(start - at, 0), min(stop - at, length)
            if low >= high:
                continue
            if isinstance(part, bytes):
                yield part[low:high]
            else:
                yield _Span(part.fd, part.offset + low, high - low, part.where)

    def _placed(self, start: int, stop: int) -> Iterator[tuple[int, bytes | _Span]]:
        """Header, each fragment as its patched ``moof`` and the span after it, then the
        index, each with its output offset; fragments outside ``start``..``stop`` skipped."""
        yield 0, self.header
        for source in self._sources:
            first, last = source.items[0], source.items[-1]
            if last.position + last.fragment.size <= start or first.position >= stop:
                continue
            where = os.fspath(source.path)
            with open(source.path, "rb", buffering=0) as file:
                for item in source.items:
                    fragment = item.fragment
                    if item.position + fragment.size <= start:
                        continue
                    if item.position >= stop:
                        break
                    moof = _patched_moof(file.fileno(), where, item, self.track_id)
                    yield item.position, moof
                    rest = fragment.size - len(moof)
                    span = _Span(file.fileno(), fragment.offset + len(moof), rest, where)
                    yield item.position + len(moof), span
        yield self.size - len(self.trailer), self.trailer


def plan_join(pieces: Sequence[Piece]) -> JoinPlan:
    """Plan one fragmented MP4 from fragments of several segment files, no re-encode.

    The output is the first piece's ``ftyp`` + ``moov`` (with the clip's duration in ``mvhd``,
    ``tkhd``, ``mdhd`` and a new ``mehd``), every chosen fragment with its ``tfdt`` moved by its
    piece's shift and ``mfhd`` renumbered 1..n, then an ``mfra`` index so players can seek
    without reading every ``moof``.

    A gap between pieces stays a gap: the decode time jumps, and players hold the last frame
    (or skip) for the missing time, as the timeline says; nothing is filled in.

    Every piece must share the time scale, codec, picture size and decoder configuration
    (SPS/PPS) of the first, start on a keyframe and not overlap the previous piece; otherwise
    :class:`Fmp4Error`. Reads the first piece's init section.
    """
    if not pieces:
        raise ValueError("a join needs at least one piece")
    _check_compatible(pieces)
    first = pieces[0]
    where = os.fspath(first.path)
    with open(first.path, "rb") as stream:
        init = read_exactly(stream, 0, first.layout.init_size, where)
    duration = _end_time(pieces)
    with malformed(where, Box(b"moov", 0, 0, len(init))):
        header = _patched_init(init, duration, first.layout.timescale, where)
    sources, index, end = _place(pieces, len(header))
    trailer = _mfra(first.layout.track_id, index)
    return JoinPlan(
        header=header,
        trailer=trailer,
        duration=duration,
        timescale=first.layout.timescale,
        track_id=first.layout.track_id,
        size=end + len(trailer),
        fragments=len(index),
        _sources=sources,
    )


def plan_media_segment(piece: Piece) -> JoinPlan:
    """The piece's fragments alone, retimed by its shift: an HLS / CMAF media segment that
    plays after the file's own init section (its first ``init_size`` bytes).

    Recorder files each restart their timeline at 0; a player that reads a playlist of them
    as one stream (FFmpeg's HLS demuxer) needs the times to go on from file to file, which a
    shift to the file's place on the playlist's timeline gives. Only the ``moof`` boxes change
    (a base data offset, which FFmpeg's ``default_base_moof`` leaves out, then counts from the
    start of the media segment, the resource it is in).
    """
    sources, index, end = _place([piece], 0)
    return JoinPlan(
        header=b"",
        trailer=b"",
        duration=_end_time([piece]),
        timescale=piece.layout.timescale,
        track_id=piece.layout.track_id,
        size=end,
        fragments=len(index),
        _sources=sources,
    )


def join_fragments(pieces: Sequence[Piece], out: str | os.PathLike[str]) -> JoinResult:
    """Write the join of ``pieces`` (see :func:`plan_join`) at ``out``, created only when
    complete; :meth:`JoinPlan.chunks` streams the same bytes instead."""
    return plan_join(pieces).write(out)


def _check_compatible(pieces: Sequence[Piece]) -> None:
    """Fragments decode only with the init they were made for: insist it is the same."""
    reference = pieces[0].layout
    for piece in pieces[1:]:
        layout = piece.layout
        checks: tuple[tuple[str, object, object], ...] = (
            ("time scale", layout.timescale, reference.timescale),
            ("codec", layout.codec, reference.codec),
            ("picture size", (layout.width, layout.height), (reference.width, reference.height)),
            ("decoder configuration", layout.codec_config, reference.codec_config),
        )
        for what, mine, theirs in checks:
            if mine != theirs:
                shown = "" if isinstance(mine, bytes) else f" ({mine} vs {theirs})"
                raise Fmp4Error(
                    os.fspath(piece.path),
                    f"cannot join it to {os.path.basename(pieces[0].path)}: different {what}{shown}; "
                    "remux instead",
                )


def _chosen(piece: Piece) -> tuple[Fragment, ...]:
    """The piece's fragments, checked: in range and starting on a keyframe."""
    where, count = os.fspath(piece.path), len(piece.layout.fragments)
    if not 0 <= piece.first <= piece.last < count:
        raise Fmp4Error(where, f"fragments {piece.first}..{piece.last} asked of {count}")
    chosen = piece.layout.fragments[piece.first : piece.last + 1]
    if not chosen[0].keyframe:
        raise Fmp4Error(where, f"fragment {piece.first} does not start with a keyframe")
    return chosen


def _end_time(pieces: Sequence[Piece]) -> int:
    return max(piece.shift + _chosen(piece)[-1].end_time for piece in pieces)


def _place(
    pieces: Sequence[Piece], start: int
) -> tuple[tuple[_Source, ...], list[tuple[int, int]], int]:
    """Every output fragment from byte ``start`` on, its time never going back; returns the
    sources, the ``mfra`` entries (presentation time, ``moof`` offset) and the end offset."""
    sources: list[_Source] = []
    index: list[tuple[int, int]] = []
    end_time, position = 0, start
    for piece in pieces:
        where, items = os.fspath(piece.path), []
        for fragment in _chosen(piece):
            decode_time = fragment.decode_time + piece.shift
            if not decode_time < 1 << 64:
                raise Fmp4Error(where, f"a decode time of {decode_time} does not fit a tfdt")
            if decode_time < end_time:
                raise Fmp4Error(
                    where,
                    f"the fragment at byte {fragment.offset} would start at "
                    f"{decode_time}, before the end of the previous one ({end_time}): overlap",
                )
            items.append(_Planned(fragment, decode_time, position, len(index) + 1))
            index.append((max(0, decode_time + fragment.composition_offset), position))
            end_time, position = decode_time + fragment.duration, position + fragment.size
        sources.append(_Source(piece.path, tuple(items)))
    return tuple(sources), index, position


def _patched_init(init: bytes, duration: int, timescale: int, where: str) -> bytes:
    """``ftyp`` + ``moov`` of the first piece with the clip's duration written in."""
    moov = next((b for b in children(init, 0, len(init), where, 0) if b.type == b"moov"), None)
    if moov is None:
        raise Fmp4Error(where, f"no moov in the first {len(init)} bytes")
    mvhd = require(init, moov, b"mvhd", where, 0)
    movie_scale = u32(init, mvhd.start + (20 if init[mvhd.start] == 1 else 12))
    movie_duration = -(-duration * movie_scale // timescale)  # rounded up

    def patch(kind: bytes, payload: bytes) -> bytes | None:
        if kind == b"edts":
            raise Fmp4Error(where, "has an edit list, which would cut the clip; remux instead")
        if kind == b"mehd":
            return None  # replaced below
        if kind == b"mvex":
            return make_box(b"mehd", b"\x01\0\0\0" + U64.pack(movie_duration)) + payload
        if kind in (b"mvhd", b"tkhd"):
            return _with_duration(payload, movie_duration, 2 if kind == b"tkhd" else 1)
        if kind == b"mdhd":
            return _with_duration(payload, duration, 1)
        return payload

    body = _rewrite(init, moov.start, moov.end, patch, where)
    return init[: moov.offset] + make_box(b"moov", body) + init[moov.end :]


_REWRITE_INTO = frozenset({b"moov", b"trak", b"mdia", b"mvex"})
"""The containers on the way to the boxes ``_patched_init`` changes; others are copied whole."""


def _rewrite(
    buf: bytes, start: int, end: int, patch: Callable[[bytes, bytes], bytes | None], where: str
) -> bytes:
    """The boxes of ``buf[start:end]`` re-serialized through ``patch(type, payload)`` (None
    drops the box); containers get their sizes from their new content."""
    out = []
    for box in children(buf, start, end, where, 0):
        if box.type in _REWRITE_INTO:
            payload = _rewrite(buf, box.start, box.end, patch, where)
        else:
            payload = buf[box.start : box.end]
        patched = patch(box.type, payload)
        if patched is not None:
            out.append(make_box(box.type, patched))
    return b"".join(out)


def _with_duration(payload: bytes, duration: int, fields_before: int) -> bytes:
    """``mvhd``/``mdhd`` payload (1 field between the times and the duration) or ``tkhd`` (2)
    carrying ``duration``, widened to version 1 when it does not fit 32 bits."""
    if payload[0] == 0 and duration > 0xFFFF_FFFF:
        created, modified = struct.unpack_from(">II", payload, 4)
        middle = payload[12 : 12 + 4 * fields_before]
        rest = payload[16 + 4 * fields_before :]
        payload = b"\x01" + payload[1:4] + struct.pack(">QQ", created, modified) + middle
        payload += bytes(8) + rest
    if payload[0] == 1:
        at = 20 + 4 * fields_before
        return payload[:at] + U64.pack(duration) + payload[at + 8 :]
    at = 12 + 4 * fields_before
    return payload[:at] + U32.pack(duration) + payload[at + 4 :]


def _patched_moof(fd: int, where: str, item: _Planned, track_id: int) -> bytes:
    """The fragment's ``moof`` with its new sequence number, track id and decode time, and its
    base data offset (if any: FFmpeg's ``default_base_moof`` leaves it out) moved along."""
    offset, changed = item.fragment.offset, "changed since read_layout"
    try:
        box = decode_header(os.pread(fd, 16, offset), offset, offset + item.fragment.size, where)
    except Fmp4Error as error:
        raise Fmp4Error(where, f"{changed}: {error.problem}") from error
    data = os.pread(fd, box.size, offset) if box.type == b"moof" else b""
    if len(data) != box.size or box.size > MAX_SMALL_BOX:
        raise Fmp4Error(where, f"{changed}: no whole moof at byte {offset}")
    with malformed(where, box):
        moof = parse_moof(data, offset, NO_DEFAULTS, where)
    if moof.decode_time != item.fragment.decode_time:
        raise Fmp4Error(where, f"{changed}: the moof at byte {offset} has another decode time")
    buf = bytearray(data)
    U32.pack_into(buf, moof.sequence_at, item.sequence)
    U32.pack_into(buf, moof.track_id_at, track_id)
    if moof.decode_time_wide:
        U64.pack_into(buf, moof.decode_time_at, item.decode_time)
    elif item.decode_time <= 0xFFFF_FFFF:
        U32.pack_into(buf, moof.decode_time_at, item.decode_time)
    else:
        raise Fmp4Error(where, f"the 32-bit tfdt at byte {offset} cannot hold {item.decode_time}")
    if moof.base_data_offset_at is not None:
        moved = U64.unpack_from(buf, moof.base_data_offset_at)[0] - offset + item.position
        U64.pack_into(buf, moof.base_data_offset_at, moved)
    return bytes(buf)


def _mfra(track_id: int, index: Sequence[tuple[int, int]]) -> bytes:
    """``mfra`` with one ``tfra`` entry (time, moof offset) per fragment, as FFmpeg writes it:
    version 1, times being the presentation time of each fragment's first (sync) sample."""
    entries = b"".join(struct.pack(">QQBBB", time, offset, 1, 1, 1) for time, offset in index)
    tfra = make_box(b"tfra", b"\x01\0\0\0" + struct.pack(">III", track_id, 0, len(index)) + entries)
    size = 8 + len(tfra) + 16
    return make_box(b"mfra", tfra + make_box(b"mfro", bytes(4) + U32.pack(size)))
