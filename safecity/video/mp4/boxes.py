"""MP4 (ISO BMFF) boxes: walking them, the codec string of a track, a file's complete prefix.

Every reader of MP4 in SafeCity goes through here: segment layouts and joins
(``safecity.video.mp4.layout``, ``safecity.video.mp4.join``), live view's muxer output
(``safecity.video.live.feed``) and crash recovery (``safecity.video.recording.recovery``).
A box is a 32-bit size (1: a 64-bit size follows the type; 0: to the end of its container),
a four-byte type, then its payload.
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAX_SMALL_BOX = 64 << 20
"""A ``moov`` or ``moof`` larger than this is not a recorder segment; refuse to load it."""
U32 = struct.Struct(">I")
U64 = struct.Struct(">Q")


class Fmp4Error(ValueError):
    """A file that is not a fragmented MP4 as the recorder writes it, or pieces that cannot be
    joined by copying bytes. The message names the file and, for a bad box, its byte offset;
    ``problem`` is the same without the file, for answers that must not reveal the server's
    folders (the caller names the recording its own way)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


# ----------------------------------------------------------------------------- walking


@dataclass(frozen=True)
class Box:
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


def decode_header(head: bytes, offset: int, limit: int, where: str) -> Box:
    """The box whose header ``head`` starts at ``offset``; it must end by ``limit``."""
    if len(head) < 8:
        raise Fmp4Error(where, f"truncated box header at byte {offset}")
    size, kind = struct.unpack_from(">I4s", head)
    header = 8
    if size == 1:
        if len(head) < 16:
            raise Fmp4Error(where, f"truncated box header at byte {offset}")
        size, header = U64.unpack_from(head, 8)[0], 16
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
    return Box(kind, offset, header, offset + size)


def children(buf: bytes, start: int, end: int, where: str, base: int) -> Iterator[Box]:
    """The boxes in ``buf[start:end]``; ``base`` is the file offset of ``buf[0]`` (for errors)."""
    pos = start
    while pos < end:
        box = decode_header(buf[pos : pos + 16], pos + base, end + base, where)
        yield Box(box.type, pos, box.header, box.end - base)
        pos = box.end - base


def child(buf: bytes, parent: Box, kind: bytes, where: str, base: int) -> Box | None:
    return next(
        (b for b in children(buf, parent.start, parent.end, where, base) if b.type == kind), None
    )


def require(buf: bytes, parent: Box, path: bytes, where: str, base: int) -> Box:
    """The box at ``path`` (types separated by ``/``) under ``parent``, or an Fmp4Error."""
    box = parent
    for kind in path.split(b"/"):
        found = child(buf, box, kind, where, base)
        if found is None:
            name = parent.type.decode("latin-1")
            raise Fmp4Error(where, f"no {path.decode()} in {name!r} at byte {parent.offset + base}")
        box = found
    return box


def u32(buf: bytes, pos: int) -> int:
    return int(U32.unpack_from(buf, pos)[0])


def box_flags(buf: bytes, box: Box) -> int:
    return int.from_bytes(buf[box.start + 1 : box.start + 4], "big")


def read_exactly(stream: BinaryIO, offset: int, size: int, where: str) -> bytes:
    stream.seek(offset)
    data = stream.read(size)
    if len(data) != size:
        raise Fmp4Error(where, f"file ends inside the box at byte {offset} (truncated file?)")
    return data


def top_level(stream: BinaryIO, size: int, where: str) -> Iterator[Box]:
    pos = 0
    while pos < size:
        stream.seek(pos)
        box = decode_header(stream.read(16), pos, size, where)
        yield box
        pos = box.end


def read_small(stream: BinaryIO, box: Box, where: str) -> bytes:
    if box.size > MAX_SMALL_BOX:
        name = box.type.decode("latin-1")
        raise Fmp4Error(where, f"{name!r} at byte {box.offset} is implausibly large ({box.size})")
    return read_exactly(stream, box.offset, box.size, where)


@contextlib.contextmanager
def malformed(where: str, box: Box) -> Iterator[None]:
    """Fields that run past their box surface as struct or index errors: name the box."""
    try:
        yield
    except (struct.error, IndexError) as error:
        name = box.type.decode("latin-1")
        raise Fmp4Error(where, f"malformed {name!r} at byte {box.offset}: {error}") from error


def make_box(kind: bytes, payload: bytes) -> bytes:
    return U32.pack(len(payload) + 8) + kind + payload


# ----------------------------------------------------------------------------- codecs


def codec_config(buf: bytes, entry: Box, where: str, base: int) -> bytes:
    """The decoder configuration box of a visual sample entry (78 bytes of fields first)."""
    for box in children(buf, entry.start + 78, entry.end, where, base):
        if box.type in (b"avcC", b"hvcC", b"av1C", b"vpcC"):
            return buf[box.offset : box.end]
    return buf[entry.offset : entry.end]


def codec_string(fourcc: str, config: bytes) -> str:
    """RFC 6381 ``codecs`` value: avc1.PPCCLL (ISO 14496-15 annex), hvc1 per annex E."""
    kind, payload = config[4:8], config[8:]
    if kind == b"avcC" and len(payload) >= 4:
        return f"{fourcc}.{payload[1]:02x}{payload[2]:02x}{payload[3]:02x}"
    if kind == b"hvcC" and len(payload) >= 13:
        return f"{fourcc}.{hevc_codec_suffix(payload)}"
    return fourcc


def hevc_codec_suffix(hvcc: bytes) -> str:
    """``[A-C]profile.compat.{L|H}level[.constraint bytes]`` from an ``hvcC`` payload."""
    space, tier, profile = hvcc[1] >> 6, (hvcc[1] >> 5) & 1, hvcc[1] & 0x1F
    compat = int(f"{u32(hvcc, 2):032b}"[::-1], 2)  # written bit-reversed
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


SAMPLE_ENTRY_PATH = b"moov/trak/mdia/minf/stbl/stsd"
VISUAL_SAMPLE_ENTRY_FIELDS = 78
"""Bytes of a VisualSampleEntry before its child boxes (ISO/IEC 14496-12, 12.1.3)."""


def init_codec(init: bytes) -> str:
    """The RFC 6381 codec string of the (first) track in an init segment (``ftyp+moov``), for
    ``MediaSource.addSourceBuffer``; ``""`` when it cannot be read."""
    where = "<init segment>"
    try:
        moov = next((b for b in children(init, 0, len(init), where, 0) if b.type == b"moov"), None)
        if moov is None:
            return ""
        stsd = require(init, moov, SAMPLE_ENTRY_PATH.replace(b"moov/", b"", 1), where, 0)
        entry = next(children(init, stsd.start + 8, stsd.end, where, 0), None)
        if entry is None:
            return ""
        config = codec_config(init, entry, where, 0)
    except (Fmp4Error, struct.error, IndexError):
        return ""
    return codec_string(entry.type.decode("ascii", "replace"), config)


# ----------------------------------------------------------------------------- files and streams


def complete_prefix(path: Path) -> int:
    """Bytes of ``path`` up to the end of its last complete ``moof`` + ``mdat`` pair after its
    ``moov`` (0 if none): what of a file cut short (a crash while recording) still plays."""
    where = os.fspath(path)
    kept, seen_moov, pending_moof = 0, False, False
    with path.open("rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        position = 0
        while position + 8 <= size:
            stream.seek(position)
            head = stream.read(16)
            if U32.unpack_from(head)[0] == 0:
                break  # "to the end of the file": being written when it stopped
            try:
                box = decode_header(head, position, size, where)
            except Fmp4Error:
                break  # the torn box
            position = box.end
            if box.type == b"moov":
                seen_moov = True
            elif box.type == b"moof":
                pending_moof = True
            elif box.type == b"mdat" and pending_moof and seen_moov:
                pending_moof = False
                kept = position
    return kept


class BoxCutter:
    """A file for a muxer to write into: cuts the byte stream into whole top-level boxes,
    however the writes happen to be split, and hands each to ``on_box(type, box)``."""

    def __init__(self, on_box: Callable[[bytes, bytes], None]) -> None:
        self._on_box = on_box
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) >= 8:
            size = int.from_bytes(self._buffer[:4], "big")
            header = 8
            if size == 1:  # a 64-bit size follows the type
                if len(self._buffer) < 16:
                    break
                size, header = int.from_bytes(self._buffer[8:16], "big"), 16
            if size < header:
                raise ValueError(f"malformed MP4 box of size {size}")
            if len(self._buffer) < size:
                break
            box = bytes(self._buffer[:size])
            del self._buffer[:size]
            self._on_box(box[4:8], box)
        return len(data)
