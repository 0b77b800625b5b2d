"""Fragmented MP4 (ISO BMFF) segment files: read where their fragments lie, join them into a clip.

The recorder writes each camera's video as ~10 s files with FFmpeg's mp4 muxer and
``movflags=frag_keyframe+empty_moov+default_base_moof``: ``ftyp``, a ``moov`` whose sample tables
are empty (``mvex/trex`` announces fragments), then one ``moof`` + ``mdat`` pair per GOP, each
opening on a keyframe, and an ``mfra`` index at the end. Every file's timeline starts at 0.

Knowing where each fragment lies and when it plays lets the server serve and export video by
copying bytes: no decoding, no re-encoding and no demuxer reading every packet. So this module
reads only box headers and the small boxes (``moov``, ``moof``) and seeks over ``mdat``
payloads; a join rewrites a few fields in each ``moof`` and copies the payloads as they are.
A join is planned first (:func:`plan_join`: every output byte's source, and the total size),
then either written to a file, the kernel copying the payloads (``copy_file_range``: a 1.8 GB
hour costs about what copying the files costs), or streamed to an HTTP client as it is read,
which never touches the disk. The same plan, for one file, retimes it as an HLS media segment
(:func:`plan_media_segment`) so that a playlist of files that each start at 0 plays as one
continuous timeline.

Only what the recorder writes is supported: one track per file (video, H.264 or H.265), one
``traf`` per ``moof``, ``tfdt`` present. Anything else raises :class:`Fmp4Error`, and the caller
falls back to a PyAV remux, which handles every file but reads every packet.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "Fmp4Error",
    "Fragment",
    "JoinPlan",
    "JoinResult",
    "Piece",
    "SegmentLayout",
    "join_fragments",
    "plan_join",
    "plan_media_segment",
    "read_layout",
]

Source = str | os.PathLike[str] | bytes
"""A segment file's path, or its whole content."""

_MAX_SMALL_BOX = 64 << 20
"""A ``moov`` or ``moof`` larger than this is not a recorder segment; refuse to load it."""

_NON_SYNC = 0x0001_0000
"""sample_is_non_sync_sample in the ISO BMFF sample flags."""
_DEPENDS_ON_OTHERS = 0x0100_0000
"""sample_depends_on == 1 (not an I picture) in the sample flags."""
_DEPENDS_ON_MASK = 0x0300_0000

# tfhd flags
_BASE_DATA_OFFSET = 0x01
_DESCRIPTION_INDEX = 0x02
_DEFAULT_DURATION = 0x08
_DEFAULT_SIZE = 0x10
_DEFAULT_FLAGS = 0x20
# trun flags
_DATA_OFFSET = 0x01
_FIRST_SAMPLE_FLAGS = 0x04
_SAMPLE_FIELDS = (0x100, 0x200, 0x400, 0x800)  # duration, size, flags, composition offset

_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_COPY_CHUNK = 64 << 20
"""Most bytes asked of one copy system call (a ~1 MB fragment takes one call)."""
_STREAM_CHUNK = 1 << 20
"""Bytes per ``pread`` when streaming: few calls per fragment, little memory per client."""


class Fmp4Error(ValueError):
    """A file that is not a fragmented MP4 this module understands, or pieces that cannot be
    joined by copying bytes. The message names the file and, for a bad box, its byte offset;
    ``problem`` is the same without the file, for answers that must not reveal the server's
    folders (the caller names the recording its own way)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


@dataclass(frozen=True)
class Fragment:
    """One ``moof`` + ``mdat`` pair: a GOP that can be copied on its own."""

    offset: int
    """Byte offset of the ``moof`` in the file."""
    size: int
    """Bytes of ``moof`` and ``mdat`` together."""
    decode_time: int
    """``tfdt`` base media decode time, in ticks of the track's time scale."""
    duration: int
    """Sum of the sample durations, in ticks."""
    samples: int
    keyframe: bool
    """Whether the first sample is a sync sample (a fragment that can start playback)."""
    composition_offset: int = 0
    """The first sample's composition offset (B-frames): it shows at decode_time + this."""

    @property
    def end_time(self) -> int:
        return self.decode_time + self.duration


@dataclass(frozen=True)
class SegmentLayout:
    """What a player or a join needs to know about a segment file, without its payloads."""

    init_size: int
    """Bytes of ``ftyp`` + ``moov`` (the HLS ``EXT-X-MAP`` byte range / MSE init segment)."""
    file_size: int
    timescale: int
    """Ticks per second of the track (``mdhd``)."""
    track_id: int
    codec: str
    """RFC 6381 codec string for MSE and HLS, e.g. ``avc1.64001f`` or ``hvc1.1.6.L93.B0``."""
    width: int
    height: int
    codec_config: bytes
    """The sample entry's ``avcC``/``hvcC`` box (SPS/PPS/VPS): equal bytes decode alike."""
    fragments: tuple[Fragment, ...]

    @property
    def start_time(self) -> int:
        return self.fragments[0].decode_time

    @property
    def end_time(self) -> int:
        return self.fragments[-1].end_time

    @property
    def duration(self) -> int:
        """Ticks from the first fragment's start to the last one's end."""
        return self.end_time - self.start_time

    @property
    def seconds(self) -> float:
        return self.duration / self.timescale


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


# ----------------------------------------------------------------------------- box headers


@dataclass(frozen=True)
class _Box:
    type: bytes
    offset: int
    """Of the header, in the coordinates of the buffer or file it was read from."""
    header: int
    end: int

    @property
    def start(self) -> int:
        """Where the payload begins."""
        return self.offset + self.header

    @property
    def size(self) -> int:
        return self.end - self.offset


def _decode_header(head: bytes, offset: int, limit: int, where: str) -> _Box:
    """The box whose header ``head`` starts at ``offset``; it must end by ``limit``."""
    if len(head) < 8:
        raise Fmp4Error(where, f"truncated box header at byte {offset}")
    size, kind = struct.unpack_from(">I4s", head)
    header = 8
    if size == 1:
        if len(head) < 16:
            raise Fmp4Error(where, f"truncated box header at byte {offset}")
        size, header = _U64.unpack_from(head, 8)[0], 16
    elif size == 0:  # "extends to the end of the file" (or of its container)
        size = limit - offset
    name = kind.decode("latin-1")
    if size < header:
        raise Fmp4Error(where, f"box {name!r} at byte {offset} has an invalid size {size}")
    if offset + size > limit:
        raise Fmp4Error(
            where,
            f"box {name!r} at byte {offset} needs {size} bytes but only "
            f"{limit - offset} remain (truncated file?)",
        )
    return _Box(kind, offset, header, offset + size)


def _children(buf: bytes, start: int, end: int, where: str, base: int) -> Iterator[_Box]:
    """The boxes in ``buf[start:end]``; ``base`` is the file offset of ``buf[0]`` (for errors)."""
    pos = start
    while pos < end:
        box = _decode_header(buf[pos : pos + 16], pos + base, end + base, where)
        yield _Box(box.type, pos, box.header, box.end - base)
        pos = box.end - base


def _child(buf: bytes, parent: _Box, kind: bytes, where: str, base: int) -> _Box | None:
    return next(
        (b for b in _children(buf, parent.start, parent.end, where, base) if b.type == kind), None
    )


def _require(buf: bytes, parent: _Box, path: bytes, where: str, base: int) -> _Box:
    """The box at ``path`` (types separated by ``/``) under ``parent``, or an Fmp4Error."""
    box = parent
    for kind in path.split(b"/"):
        found = _child(buf, box, kind, where, base)
        if found is None:
            name = parent.type.decode("latin-1")
            raise Fmp4Error(where, f"no {path.decode()} in {name!r} at byte {parent.offset + base}")
        box = found
    return box


def _u32(buf: bytes, pos: int) -> int:
    return int(_U32.unpack_from(buf, pos)[0])


def _flags(buf: bytes, box: _Box) -> int:
    return int.from_bytes(buf[box.start + 1 : box.start + 4], "big")


def _read_exactly(stream: BinaryIO, offset: int, size: int, where: str) -> bytes:
    stream.seek(offset)
    data = stream.read(size)
    if len(data) != size:
        raise Fmp4Error(where, f"file ends inside the box at byte {offset} (truncated file?)")
    return data


# ----------------------------------------------------------------------------- moov


@dataclass(frozen=True)
class _Defaults:
    """The ``trex`` sample defaults a ``tfhd`` may leave out."""

    duration: int
    flags: int


_NO_DEFAULTS = _Defaults(0, 0)


@dataclass(frozen=True)
class _Movie:
    timescale: int
    track_id: int
    codec: str
    width: int
    height: int
    codec_config: bytes
    defaults: _Defaults


def _parse_moov(buf: bytes, base: int, where: str) -> _Movie:
    """The track facts of a ``moov`` held in ``buf`` (which starts at file offset ``base``)."""
    moov = next(_children(buf, 0, len(buf), where, base))
    traks = [b for b in _children(buf, moov.start, moov.end, where, base) if b.type == b"trak"]
    if len(traks) != 1:
        raise Fmp4Error(where, f"{len(traks)} tracks; only single-track segments are supported")
    trak = traks[0]
    hdlr = _require(buf, trak, b"mdia/hdlr", where, base)
    if buf[hdlr.start + 8 : hdlr.start + 12] != b"vide":
        raise Fmp4Error(where, f"the track at byte {trak.offset + base} is not video")
    tkhd = _require(buf, trak, b"tkhd", where, base)
    mdhd = _require(buf, trak, b"mdia/mdhd", where, base)
    track_id = _u32(buf, tkhd.start + (20 if buf[tkhd.start] == 1 else 12))
    timescale = _u32(buf, mdhd.start + (20 if buf[mdhd.start] == 1 else 12))
    if timescale == 0:
        raise Fmp4Error(where, f"time scale 0 in mdhd at byte {mdhd.offset + base}")
    stsd = _require(buf, trak, b"mdia/minf/stbl/stsd", where, base)
    entry = next(_children(buf, stsd.start + 8, stsd.end, where, base), None)
    if entry is None:
        raise Fmp4Error(where, f"no sample entry in the stsd at byte {stsd.offset + base}")
    width, height = struct.unpack_from(">HH", buf, entry.start + 24)
    config = _codec_config(buf, entry, where, base)
    return _Movie(
        timescale=timescale,
        track_id=track_id,
        codec=_codec_string(entry.type.decode("latin-1"), config),
        width=width,
        height=height,
        codec_config=config,
        defaults=_trex_defaults(buf, moov, track_id, where, base),
    )


def _trex_defaults(buf: bytes, moov: _Box, track_id: int, where: str, base: int) -> _Defaults:
    """The track's ``mvex/trex`` sample defaults; no ``mvex`` means no fragments."""
    mvex = _child(buf, moov, b"mvex", where, base)
    if mvex is None:
        raise Fmp4Error(where, f"not a fragmented MP4 (no mvex in the moov at byte {base})")
    for trex in _children(buf, mvex.start, mvex.end, where, base):
        if trex.type == b"trex" and _u32(buf, trex.start + 4) == track_id:
            duration, flags = struct.unpack_from(">I4xI", buf, trex.start + 12)
            return _Defaults(duration, flags)
    return _NO_DEFAULTS


def _codec_config(buf: bytes, entry: _Box, where: str, base: int) -> bytes:
    """The decoder configuration box of a visual sample entry (78 bytes of fields first)."""
    for box in _children(buf, entry.start + 78, entry.end, where, base):
        if box.type in (b"avcC", b"hvcC", b"av1C", b"vpcC"):
            return buf[box.offset : box.end]
    return buf[entry.offset : entry.end]


def _codec_string(fourcc: str, config: bytes) -> str:
    """RFC 6381 ``codecs`` value: avc1.PPCCLL (ISO 14496-15 annex), hvc1 per annex E."""
    kind, payload = config[4:8], config[8:]
    if kind == b"avcC" and len(payload) >= 4:
        return f"{fourcc}.{payload[1]:02x}{payload[2]:02x}{payload[3]:02x}"
    if kind == b"hvcC" and len(payload) >= 13:
        return f"{fourcc}.{_hevc_suffix(payload)}"
    return fourcc


def _hevc_suffix(hvcc: bytes) -> str:
    """``[A-C]profile.compat.{L|H}level[.constraint bytes]`` from an ``hvcC`` payload."""
    space, tier, profile = hvcc[1] >> 6, (hvcc[1] >> 5) & 1, hvcc[1] & 0x1F
    compat = int(f"{_u32(hvcc, 2):032b}"[::-1], 2)  # written bit-reversed
    constraints = list(hvcc[6:12])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    parts = [
        f"{'' if space == 0 else 'ABC'[space - 1]}{profile}",
        f"{compat:X}",
        f"{'HL'[tier == 0]}{hvcc[12]}",
        *(f"{byte:X}" for byte in constraints),
    ]
    return ".".join(parts)


# ----------------------------------------------------------------------------- moof


@dataclass(frozen=True)
class _Moof:
    """A parsed ``moof``: its timing, and where the fields a join rewrites lie in it."""

    sequence_at: int
    track_id_at: int
    base_data_offset_at: int | None
    decode_time_at: int
    decode_time_wide: bool
    decode_time: int
    duration: int
    samples: int
    keyframe: bool
    composition_offset: int


@dataclass(frozen=True)
class _Trun:
    samples: int
    duration: int
    first_flags: int | None
    first_composition_offset: int


def _parse_moof(buf: bytes, base: int, defaults: _Defaults, where: str) -> _Moof:
    """Timing and rewrite positions of a ``moof`` held whole in ``buf`` (file offset ``base``)."""
    moof = next(_children(buf, 0, len(buf), where, base))
    mfhd = _require(buf, moof, b"mfhd", where, base)
    trafs = [b for b in _children(buf, moof.start, moof.end, where, base) if b.type == b"traf"]
    if len(trafs) != 1:
        raise Fmp4Error(where, f"{len(trafs)} traf boxes in the moof at byte {base}")
    traf = trafs[0]
    tfhd = _require(buf, traf, b"tfhd", where, base)
    tfdt = _require(buf, traf, b"tfdt", where, base)
    header = _parse_tfhd(buf, tfhd, defaults, where, base)
    runs = [
        _parse_trun(buf, box, header.defaults.duration, where, base)
        for box in _children(buf, traf.start, traf.end, where, base)
        if box.type == b"trun"
    ]
    if not runs:
        raise Fmp4Error(where, f"no trun in the moof at byte {base}")
    first_flags = runs[0].first_flags
    samples = sum(run.samples for run in runs)
    wide = buf[tfdt.start] == 1
    return _Moof(
        sequence_at=mfhd.start + 4,
        track_id_at=tfhd.start + 4,
        base_data_offset_at=header.base_data_offset_at,
        decode_time_at=tfdt.start + 4,
        decode_time_wide=wide,
        decode_time=int((_U64 if wide else _U32).unpack_from(buf, tfdt.start + 4)[0]),
        duration=sum(run.duration for run in runs),
        samples=samples,
        keyframe=samples > 0
        and _is_sync(header.defaults.flags if first_flags is None else first_flags),
        composition_offset=runs[0].first_composition_offset,
    )


@dataclass(frozen=True)
class _Tfhd:
    base_data_offset_at: int | None
    defaults: _Defaults
    """The ``trex`` defaults, overridden by those the ``tfhd`` carries."""


def _parse_tfhd(buf: bytes, tfhd: _Box, defaults: _Defaults, where: str, base: int) -> _Tfhd:
    """Optional fields, present as the flags say, in this order: base data offset (8 bytes),
    sample description index, default duration, default size, default flags (4 each)."""
    flags = _flags(buf, tfhd)
    pos = tfhd.start + 8
    base_data_offset_at = pos if flags & _BASE_DATA_OFFSET else None
    pos += 8 * bool(flags & _BASE_DATA_OFFSET) + 4 * bool(flags & _DESCRIPTION_INDEX)
    duration, flags_value = defaults.duration, defaults.flags
    if flags & _DEFAULT_DURATION:
        duration, pos = _u32(buf, pos), pos + 4
    pos += 4 * bool(flags & _DEFAULT_SIZE)
    if flags & _DEFAULT_FLAGS:
        flags_value, pos = _u32(buf, pos), pos + 4
    if pos > tfhd.end:
        raise Fmp4Error(where, f"tfhd at byte {tfhd.offset + base} is too short for its flags")
    return _Tfhd(base_data_offset_at, _Defaults(duration, flags_value))


def _is_sync(flags: int) -> bool:
    """As FFmpeg reads it: neither marked non-sync nor depending on other samples."""
    return not flags & _NON_SYNC and flags & _DEPENDS_ON_MASK != _DEPENDS_ON_OTHERS


def _parse_trun(buf: bytes, trun: _Box, default_duration: int, where: str, base: int) -> _Trun:
    """Sample count, summed duration, and the first sample's flags and composition offset."""
    version, flags, count = buf[trun.start], _flags(buf, trun), _u32(buf, trun.start + 4)
    pos = trun.start + 8 + 4 * bool(flags & _DATA_OFFSET)
    first_flags = None
    if flags & _FIRST_SAMPLE_FLAGS:
        first_flags, pos = _u32(buf, pos), pos + 4
    present = [bool(flags & field) for field in _SAMPLE_FIELDS]
    width = sum(present)
    if pos + 4 * width * count > trun.end:
        raise Fmp4Error(where, f"trun at byte {trun.offset + base} is shorter than its samples")
    values = struct.unpack_from(f">{width * count}I", buf, pos) if width and count else ()
    column = {field: sum(present[:i]) for i, field in enumerate(_SAMPLE_FIELDS) if present[i]}
    duration = sum(values[column[0x100] :: width]) if 0x100 in column else default_duration * count
    if first_flags is None and 0x400 in column and count:
        first_flags = values[column[0x400]]
    offset = values[column[0x800]] if 0x800 in column and count else 0
    if version == 1 and offset >= 1 << 31:  # version 1 offsets are signed
        offset -= 1 << 32
    return _Trun(count, duration, first_flags, offset)


# ----------------------------------------------------------------------------- layout


@contextlib.contextmanager
def _opened(source: Source) -> Iterator[tuple[BinaryIO, str, int]]:
    if isinstance(source, bytes):
        yield io.BytesIO(source), "<bytes>", len(source)
        return
    with open(source, "rb") as stream:
        yield stream, os.fspath(source), os.fstat(stream.fileno()).st_size


def read_layout(source: Source) -> SegmentLayout:
    """The init size, track facts and fragments of a recorder segment (a path or its bytes).

    Reads the ``moov`` and each ``moof`` whole but only the 8 or 16 header bytes of an
    ``mdat``, seeking past its payload: a 5 MB segment costs a few kilobytes of reads.
    """
    with _opened(source) as (stream, where, size):
        movie: _Movie | None = None
        init_size = 0
        fragments: list[Fragment] = []
        pending: tuple[int, _Moof] | None = None
        for box in _top_level(stream, size, where):
            if box.type == b"moov":
                with _malformed(where, box):
                    buf = _read_small(stream, box, where)
                    movie, init_size = _parse_moov(buf, box.offset, where), box.end
            elif box.type == b"moof":
                if movie is None or pending is not None:
                    raise Fmp4Error(where, f"moof at byte {box.offset} without moov or mdat")
                with _malformed(where, box):
                    buf = _read_small(stream, box, where)
                    pending = (box.offset, _parse_moof(buf, box.offset, movie.defaults, where))
            elif box.type == b"mdat" and pending is not None:
                fragments.append(_fragment(pending[0], box.end, pending[1]))
                pending = None
    if movie is None:
        raise Fmp4Error(where, "no moov box (not an MP4 file?)")
    if pending is not None:
        raise Fmp4Error(where, f"the moof at byte {pending[0]} has no mdat (truncated file?)")
    if not fragments:
        raise Fmp4Error(where, "no moof/mdat fragments (not a fragmented MP4, or empty)")
    return SegmentLayout(
        init_size=init_size,
        file_size=size,
        timescale=movie.timescale,
        track_id=movie.track_id,
        codec=movie.codec,
        width=movie.width,
        height=movie.height,
        codec_config=movie.codec_config,
        fragments=tuple(fragments),
    )


@contextlib.contextmanager
def _malformed(where: str, box: _Box) -> Iterator[None]:
    """Fields that run past their box surface as struct or index errors: name the box."""
    try:
        yield
    except (struct.error, IndexError) as error:
        name = box.type.decode("latin-1")
        raise Fmp4Error(where, f"malformed {name!r} at byte {box.offset}: {error}") from error


def _top_level(stream: BinaryIO, size: int, where: str) -> Iterator[_Box]:
    pos = 0
    while pos < size:
        stream.seek(pos)
        box = _decode_header(stream.read(16), pos, size, where)
        yield box
        pos = box.end


def _read_small(stream: BinaryIO, box: _Box, where: str) -> bytes:
    if box.size > _MAX_SMALL_BOX:
        name = box.type.decode("latin-1")
        raise Fmp4Error(where, f"{name!r} at byte {box.offset} is implausibly large ({box.size})")
    return _read_exactly(stream, box.offset, box.size, where)


def _fragment(offset: int, end: int, moof: _Moof) -> Fragment:
    return Fragment(
        offset=offset,
        size=end - offset,
        decode_time=moof.decode_time,
        duration=moof.duration,
        samples=moof.samples,
        keyframe=moof.keyframe,
        composition_offset=moof.composition_offset,
    )


# ----------------------------------------------------------------------------- join


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
    files are opened only while producing; one changed since :func:`read_layout` (or deleted
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
                    raise _ended_early(part.where, end)
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
                        _write_all(file.fileno(), part)
                    else:
                        _copy(part.fd, file.fileno(), part.offset, part.count, part.where)
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
    :class:`Fmp4Error` (remux with PyAV instead). Reads the first piece's init section.
    """
    if not pieces:
        raise ValueError("a join needs at least one piece")
    _check_compatible(pieces)
    first = pieces[0]
    where = os.fspath(first.path)
    with open(first.path, "rb") as stream:
        init = _read_exactly(stream, 0, first.layout.init_size, where)
    duration = _end_time(pieces)
    with _malformed(where, _Box(b"moov", 0, 0, len(init))):
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
    moov = next((b for b in _children(init, 0, len(init), where, 0) if b.type == b"moov"), None)
    if moov is None:
        raise Fmp4Error(where, f"no moov in the first {len(init)} bytes")
    mvhd = _require(init, moov, b"mvhd", where, 0)
    movie_scale = _u32(init, mvhd.start + (20 if init[mvhd.start] == 1 else 12))
    movie_duration = -(-duration * movie_scale // timescale)  # rounded up

    def patch(kind: bytes, payload: bytes) -> bytes | None:
        if kind == b"edts":
            raise Fmp4Error(where, "has an edit list, which would cut the clip; remux instead")
        if kind == b"mehd":
            return None  # replaced below
        if kind == b"mvex":
            return _box(b"mehd", b"\x01\0\0\0" + _U64.pack(movie_duration)) + payload
        if kind in (b"mvhd", b"tkhd"):
            return _with_duration(payload, movie_duration, 2 if kind == b"tkhd" else 1)
        if kind == b"mdhd":
            return _with_duration(payload, duration, 1)
        return payload

    body = _rewrite(init, moov.start, moov.end, patch, where)
    return init[: moov.offset] + _box(b"moov", body) + init[moov.end :]


_REWRITE_INTO = frozenset({b"moov", b"trak", b"mdia", b"mvex"})
"""The containers on the way to the boxes ``_patched_init`` changes; others are copied whole."""


def _rewrite(
    buf: bytes, start: int, end: int, patch: Callable[[bytes, bytes], bytes | None], where: str
) -> bytes:
    """The boxes of ``buf[start:end]`` re-serialized through ``patch(type, payload)`` (None
    drops the box); containers get their sizes from their new content."""
    out = []
    for box in _children(buf, start, end, where, 0):
        if box.type in _REWRITE_INTO:
            payload = _rewrite(buf, box.start, box.end, patch, where)
        else:
            payload = buf[box.start : box.end]
        patched = patch(box.type, payload)
        if patched is not None:
            out.append(_box(box.type, patched))
    return b"".join(out)


def _box(kind: bytes, payload: bytes) -> bytes:
    return _U32.pack(len(payload) + 8) + kind + payload


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
        return payload[:at] + _U64.pack(duration) + payload[at + 8 :]
    at = 12 + 4 * fields_before
    return payload[:at] + _U32.pack(duration) + payload[at + 4 :]


def _patched_moof(fd: int, where: str, item: _Planned, track_id: int) -> bytes:
    """The fragment's ``moof`` with its new sequence number, track id and decode time, and its
    base data offset (if any: FFmpeg's ``default_base_moof`` leaves it out) moved along."""
    offset, changed = item.fragment.offset, "changed since read_layout"
    try:
        box = _decode_header(os.pread(fd, 16, offset), offset, offset + item.fragment.size, where)
    except Fmp4Error as error:
        raise Fmp4Error(where, f"{changed}: {error.problem}") from error
    data = os.pread(fd, box.size, offset) if box.type == b"moof" else b""
    if len(data) != box.size or box.size > _MAX_SMALL_BOX:
        raise Fmp4Error(where, f"{changed}: no whole moof at byte {offset}")
    with _malformed(where, box):
        moof = _parse_moof(data, offset, _NO_DEFAULTS, where)
    if moof.decode_time != item.fragment.decode_time:
        raise Fmp4Error(where, f"{changed}: the moof at byte {offset} has another decode time")
    buf = bytearray(data)
    _U32.pack_into(buf, moof.sequence_at, item.sequence)
    _U32.pack_into(buf, moof.track_id_at, track_id)
    if moof.decode_time_wide:
        _U64.pack_into(buf, moof.decode_time_at, item.decode_time)
    elif item.decode_time <= 0xFFFF_FFFF:
        _U32.pack_into(buf, moof.decode_time_at, item.decode_time)
    else:
        raise Fmp4Error(where, f"the 32-bit tfdt at byte {offset} cannot hold {item.decode_time}")
    if moof.base_data_offset_at is not None:
        moved = _U64.unpack_from(buf, moof.base_data_offset_at)[0] - offset + item.position
        _U64.pack_into(buf, moof.base_data_offset_at, moved)
    return bytes(buf)


def _mfra(track_id: int, index: Sequence[tuple[int, int]]) -> bytes:
    """``mfra`` with one ``tfra`` entry (time, moof offset) per fragment, as FFmpeg writes it:
    version 1, times being the presentation time of each fragment's first (sync) sample."""
    entries = b"".join(struct.pack(">QQBBB", time, offset, 1, 1, 1) for time, offset in index)
    tfra = _box(b"tfra", b"\x01\0\0\0" + struct.pack(">III", track_id, 0, len(index)) + entries)
    size = 8 + len(tfra) + 16
    return _box(b"mfra", tfra + _box(b"mfro", bytes(4) + _U32.pack(size)))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


_NO_KERNEL_COPY = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EBADF}
)
"""Errors with which ``copy_file_range``/``sendfile`` say "not here": fall back, don't fail."""


def _copy(source: int, out: int, offset: int, count: int, where: str) -> None:
    """Append ``count`` bytes of ``source`` from ``offset`` to ``out``, in the kernel if it can."""
    while count > 0:
        done = _copy_some(source, out, offset, min(count, _COPY_CHUNK))
        if done == 0:
            raise _ended_early(where, offset + count)
        offset, count = offset + done, count - done


def _ended_early(where: str, end: int) -> Fmp4Error:
    return Fmp4Error(where, f"ends before byte {end} (changed since read_layout?)")


def _copy_some(source: int, out: int, offset: int, count: int) -> int:
    """``copy_file_range`` (no user-space copy; a reflink on some file systems), else
    ``sendfile``, else ``pread`` + ``write``."""
    if hasattr(os, "copy_file_range"):
        try:
            return os.copy_file_range(source, out, count, offset)
        except OSError as error:
            if error.errno not in _NO_KERNEL_COPY:
                raise
    try:
        return os.sendfile(out, source, offset, count)
    except OSError as error:
        if error.errno not in _NO_KERNEL_COPY:
            raise
    data = os.pread(source, min(count, 8 << 20), offset)
    _write_all(out, data)
    return len(data)
