"""Where the fragments of a recorder segment lie and when they play, read from box headers.

The recorder writes each camera's video as ~10 s files with FFmpeg's mp4 muxer and
``movflags=frag_keyframe+empty_moov+default_base_moof``: ``ftyp``, a ``moov`` whose sample tables
are empty (``mvex/trex`` announces fragments), then one ``moof`` + ``mdat`` pair per GOP, each
opening on a keyframe, and an ``mfra`` index at the end. Every file's timeline starts at 0.

Knowing where each fragment lies and when it plays lets the server serve and export video by
copying bytes (``safecity.video.mp4.join``): no decoding, no re-encoding and no demuxer reading
every packet. So this module reads only box headers and the small boxes (``moov``, ``moof``)
and seeks over ``mdat`` payloads.

Only what the recorder writes is supported: one track per file (video, H.264 or H.265), one
``traf`` per ``moof``, ``tfdt`` present. Anything else raises :class:`Fmp4Error`.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from safecity.video.mp4.boxes import (
    U32,
    U64,
    Box,
    Fmp4Error,
    box_flags,
    child,
    children,
    codec_config,
    codec_string,
    malformed,
    read_small,
    require,
    top_level,
    u32,
)

Source = str | os.PathLike[str] | bytes
"""A segment file's path, or its whole content."""

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


# ----------------------------------------------------------------------------- moov


@dataclass(frozen=True)
class Defaults:
    """The ``trex`` sample defaults a ``tfhd`` may leave out."""

    duration: int
    flags: int


NO_DEFAULTS = Defaults(0, 0)


@dataclass(frozen=True)
class _Movie:
    timescale: int
    track_id: int
    codec: str
    width: int
    height: int
    codec_config: bytes
    defaults: Defaults


def _parse_moov(buf: bytes, base: int, where: str) -> _Movie:
    """The track facts of a ``moov`` held in ``buf`` (which starts at file offset ``base``)."""
    moov = next(children(buf, 0, len(buf), where, base))
    traks = [b for b in children(buf, moov.start, moov.end, where, base) if b.type == b"trak"]
    if len(traks) != 1:
        raise Fmp4Error(where, f"{len(traks)} tracks; only single-track segments are supported")
    trak = traks[0]
    hdlr = require(buf, trak, b"mdia/hdlr", where, base)
    if buf[hdlr.start + 8 : hdlr.start + 12] != b"vide":
        raise Fmp4Error(where, f"the track at byte {trak.offset + base} is not video")
    tkhd = require(buf, trak, b"tkhd", where, base)
    mdhd = require(buf, trak, b"mdia/mdhd", where, base)
    track_id = u32(buf, tkhd.start + (20 if buf[tkhd.start] == 1 else 12))
    timescale = u32(buf, mdhd.start + (20 if buf[mdhd.start] == 1 else 12))
    if timescale == 0:
        raise Fmp4Error(where, f"time scale 0 in mdhd at byte {mdhd.offset + base}")
    stsd = require(buf, trak, b"mdia/minf/stbl/stsd", where, base)
    entry = next(children(buf, stsd.start + 8, stsd.end, where, base), None)
    if entry is None:
        raise Fmp4Error(where, f"no sample entry in the stsd at byte {stsd.offset + base}")
    width, height = struct.unpack_from(">HH", buf, entry.start + 24)
    config = codec_config(buf, entry, where, base)
    return _Movie(
        timescale=timescale,
        track_id=track_id,
        codec=codec_string(entry.type.decode("latin-1"), config),
        width=width,
        height=height,
        codec_config=config,
        defaults=_trex_defaults(buf, moov, track_id, where, base),
    )


def _trex_defaults(buf: bytes, moov: Box, track_id: int, where: str, base: int) -> Defaults:
    """The track's ``mvex/trex`` sample defaults; no ``mvex`` means no fragments."""
    mvex = child(buf, moov, b"mvex", where, base)
    if mvex is None:
        raise Fmp4Error(where, f"not a fragmented MP4 (no mvex in the moov at byte {base})")
    for trex in children(buf, mvex.start, mvex.end, where, base):
        if trex.type == b"trex" and u32(buf, trex.start + 4) == track_id:
            duration, flags = struct.unpack_from(">I4xI", buf, trex.start + 12)
            return Defaults(duration, flags)
    return NO_DEFAULTS


# ----------------------------------------------------------------------------- moof


@dataclass(frozen=True)
class Moof:
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


def parse_moof(buf: bytes, base: int, defaults: Defaults, where: str) -> Moof:
    """Timing and rewrite positions of a ``moof`` held whole in ``buf`` (file offset ``base``)."""
    moof = next(children(buf, 0, len(buf), where, base))
    mfhd = require(buf, moof, b"mfhd", where, base)
    trafs = [b for b in children(buf, moof.start, moof.end, where, base) if b.type == b"traf"]
    if len(trafs) != 1:
        raise Fmp4Error(where, f"{len(trafs)} traf boxes in the moof at byte {base}")
    traf = trafs[0]
    tfhd = require(buf, traf, b"tfhd", where, base)
    tfdt = require(buf, traf, b"tfdt", where, base)
    header = _parse_tfhd(buf, tfhd, defaults, where, base)
    runs = [
        _parse_trun(buf, box, header.defaults.duration, where, base)
        for box in children(buf, traf.start, traf.end, where, base)
        if box.type == b"trun"
    ]
    if not runs:
        raise Fmp4Error(where, f"no trun in the moof at byte {base}")
    first_flags = runs[0].first_flags
    samples = sum(run.samples for run in runs)
    wide = buf[tfdt.start] == 1
    return Moof(
        sequence_at=mfhd.start + 4,
        track_id_at=tfhd.start + 4,
        base_data_offset_at=header.base_data_offset_at,
        decode_time_at=tfdt.start + 4,
        decode_time_wide=wide,
        decode_time=int((U64 if wide else U32).unpack_from(buf, tfdt.start + 4)[0]),
        duration=sum(run.duration for run in runs),
        samples=samples,
        keyframe=samples > 0
        and _is_sync(header.defaults.flags if first_flags is None else first_flags),
        composition_offset=runs[0].first_composition_offset,
    )


@dataclass(frozen=True)
class _Tfhd:
    base_data_offset_at: int | None
    defaults: Defaults
    """The ``trex`` defaults, overridden by those the ``tfhd`` carries."""


def _parse_tfhd(buf: bytes, tfhd: Box, defaults: Defaults, where: str, base: int) -> _Tfhd:
    """Optional fields, present as the flags say, in this order: base data offset (8 bytes),
    sample description index, default duration, default size, default flags (4 each)."""
    flags = box_flags(buf, tfhd)
    pos = tfhd.start + 8
    base_data_offset_at = pos if flags & _BASE_DATA_OFFSET else None
    pos += 8 * bool(flags & _BASE_DATA_OFFSET) + 4 * bool(flags & _DESCRIPTION_INDEX)
    duration, flags_value = defaults.duration, defaults.flags
    if flags & _DEFAULT_DURATION:
        duration, pos = u32(buf, pos), pos + 4
    pos += 4 * bool(flags & _DEFAULT_SIZE)
    if flags & _DEFAULT_FLAGS:
        flags_value, pos = u32(buf, pos), pos + 4
    if pos > tfhd.end:
        raise Fmp4Error(where, f"tfhd at byte {tfhd.offset + base} is too short for its flags")
    return _Tfhd(base_data_offset_at, Defaults(duration, flags_value))


def _is_sync(flags: int) -> bool:
    """As FFmpeg reads it: neither marked non-sync nor depending on other samples."""
    return not flags & _NON_SYNC and flags & _DEPENDS_ON_MASK != _DEPENDS_ON_OTHERS


def _parse_trun(buf: bytes, trun: Box, default_duration: int, where: str, base: int) -> _Trun:
    """Sample count, summed duration, and the first sample's flags and composition offset."""
    version, flags, count = buf[trun.start], box_flags(buf, trun), u32(buf, trun.start + 4)
    pos = trun.start + 8 + 4 * bool(flags & _DATA_OFFSET)
    first_flags = None
    if flags & _FIRST_SAMPLE_FLAGS:
        first_flags, pos = u32(buf, pos), pos + 4
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
        pending: tuple[int, Moof] | None = None
        for box in top_level(stream, size, where):
            if box.type == b"moov":
                with malformed(where, box):
                    buf = read_small(stream, box, where)
                    movie, init_size = _parse_moov(buf, box.offset, where), box.end
            elif box.type == b"moof":
                if movie is None or pending is not None:
                    raise Fmp4Error(where, f"moof at byte {box.offset} without moov or mdat")
                with malformed(where, box):
                    buf = read_small(stream, box, where)
                    pending = (box.offset, parse_moof(buf, box.offset, movie.defaults, where))
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


def _fragment(offset: int, end: int, moof: Moof) -> Fragment:
    return Fragment(
        offset=offset,
        size=end - offset,
        decode_time=moof.decode_time,
        duration=moof.duration,
        samples=moof.samples,
        keyframe=moof.keyframe,
        composition_offset=moof.composition_offset,
    )
