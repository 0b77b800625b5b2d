"""Members out of the archives that package registries serve: npm's .tgz, Debian's .deb (an ar
archive holding ``data.tar.xz``), and the zip files that packages carry inside.

Only the members asked for are read, each streamed to its sink: nothing is extracted under the
name it has in the archive, so no member's path can reach outside the cache. A member that is
an archive itself is read from where it lies (ar members are plain byte ranges) or spooled to a
temporary file (zip and tar members), never held whole in memory when it is large.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from typing import IO

from safecity.analytics.assets.errors import AssetError

Sink = Callable[[IO[bytes]], None]
"""Takes a member's bytes from the stream it is given (valid only during the call)."""

_AR_MAGIC = b"!<arch>\n"
_ZIP_MAGIC = b"PK\x03\x04"
_SPOOL_IN_MEMORY = 32 << 20


def read_members(archive: IO[bytes], wanted: Mapping[tuple[str, ...], Sink]) -> None:
    """Hand each wanted member to its sink. A member is named by its path through nested
    archives, outermost first (``("package/dist/plugin.zip", "fs/labels.txt")``); leading
    ``./`` is ignored. Stops reading as soon as everything is found. AssetError when a member
    is not there or the bytes are no archive of a known kind."""
    pending = {tuple(_normal(step) for step in path): sink for path, sink in wanted.items()}
    _read(archive, pending, ())


def _read(archive: IO[bytes], pending: dict[tuple[str, ...], Sink], where: tuple[str, ...]) -> None:
    heads = {path[0] for path in pending}
    for name, member, seekable in _members(archive, where):
        if name not in heads:
            continue
        heads.discard(name)
        inner = {path[1:]: sink for path, sink in pending.items() if path[0] == name}
        if () in inner:
            inner.pop(())(member)
        if inner:
            if seekable:
                _read(member, inner, (*where, name))
            else:
                with tempfile.SpooledTemporaryFile(_SPOOL_IN_MEMORY) as spool:
                    while chunk := member.read(1 << 20):
                        spool.write(chunk)
                    spool.seek(0)
                    _read(spool, inner, (*where, name))
        if not heads:
            return
    missing = sorted(heads)
    inside = f" inside {'/'.join(where)}" if where else ""
    raise AssetError(f"not in the archive{inside}: {', '.join(missing)}")


def _members(archive: IO[bytes], where: tuple[str, ...]) -> Iterator[tuple[str, IO[bytes], bool]]:
    """(name, stream, whether the stream is seekable at no cost) for each file member."""
    start = archive.tell()
    magic = archive.read(8)
    archive.seek(start)
    if magic.startswith(_AR_MAGIC):
        yield from _ar_members(archive)
    elif magic.startswith(_ZIP_MAGIC):
        yield from _zip_members(archive)
    else:
        yield from _tar_members(archive, where)


def _ar_members(archive: IO[bytes]) -> Iterator[tuple[str, IO[bytes], bool]]:
    """The members of an ar archive (a Debian package): a 60-byte header each, then the
    bytes, padded to an even length."""
    at = archive.seek(len(_AR_MAGIC), io.SEEK_CUR)
    while header := archive.read(60):
        if len(header) < 60 or header[58:60] != b"`\n":
            raise AssetError("damaged ar archive (a member header is cut or malformed)")
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError:
            raise AssetError("damaged ar archive (a member size is not a number)") from None
        body = at + 60
        yield _normal(name), io.BufferedReader(_Section(archive, body, size)), True
        at = archive.seek(body + size + size % 2)


def _zip_members(archive: IO[bytes]) -> Iterator[tuple[str, IO[bytes], bool]]:
    try:
        with zipfile.ZipFile(archive) as bundle:
            for info in bundle.infolist():
                if not info.is_dir():
                    with bundle.open(info) as member:
                        yield _normal(info.filename), member, False
    except zipfile.BadZipFile as exc:
        raise AssetError(f"damaged zip archive: {exc}") from exc


def _tar_members(
    archive: IO[bytes], where: tuple[str, ...]
) -> Iterator[tuple[str, IO[bytes], bool]]:
    try:
        with tarfile.open(fileobj=archive, mode="r:*") as bundle:
            for info in bundle:
                if info.isfile():
                    member = bundle.extractfile(info)
                    if member is not None:
                        yield _normal(info.name), member, False
    except (tarfile.TarError, EOFError, OSError) as exc:
        # lzma and gzip say "corrupt" as OSError/EOFError; tarfile as ReadError.
        what = "/".join(where) or "the download"
        raise AssetError(f"{what} is not a readable tar, zip or ar archive ({exc})") from exc


def _normal(name: str) -> str:
    while name.startswith(("./", "/")):
        name = name[2:] if name.startswith("./") else name[1:]
    return name


class _Section(io.RawIOBase):
    """``size`` bytes of ``base`` from ``offset``, as a seekable file of their own."""

    def __init__(self, base: IO[bytes], offset: int, size: int) -> None:
        super().__init__()
        self._base, self._offset, self._size, self._at = base, offset, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        origin = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: self._size}[whence]
        self._at = min(max(origin + offset, 0), self._size)
        return self._at

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), self._size - self._at)
        if count <= 0:
            return 0
        self._base.seek(self._offset + self._at)
        data = self._base.read(count)
        buffer[: len(data)] = data
        self._at += len(data)
        return len(data)
