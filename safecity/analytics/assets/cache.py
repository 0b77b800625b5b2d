"""Where fetched assets live, and how a file gets there: atomically and verified.

The cache is ``SAFECITY_CACHE``, else ``$XDG_CACHE_HOME/safecity``, else ``~/.cache/safecity``;
each asset has a folder of its own named after it. A file is written beside its final name
(``.part``), hashed while it is written, fsynced, checked against its pin and only then renamed
into place, with a record of the check beside it (``NAME.sha256``, in ``sha256sum``'s format).
A lookup is cheap: the file's size and its record must match the pin; re-hashing every file on
every start is what ``safecity models verify`` does on request.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Protocol

from safecity.analytics.assets.catalogue import Asset, AssetFile
from safecity.analytics.assets.errors import AssetError, ChecksumError, NotFetched
from safecity.core.files import file_sha256

Progress = Callable[[int], None]
"""Told the bytes written so far."""

_CHUNK = 1 << 20


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def default_cache_root() -> Path:
    """``SAFECITY_CACHE``, else ``$XDG_CACHE_HOME/safecity``, else ``~/.cache/safecity``."""
    if root := os.environ.get("SAFECITY_CACHE"):
        return Path(root)
    if xdg := os.environ.get("XDG_CACHE_HOME"):
        return Path(xdg) / "safecity"
    return Path.home() / ".cache" / "safecity"


class AssetCache:
    """The cache folder: what is in it, and the one way files are put there."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else default_cache_root()

    def folder(self, asset: Asset) -> Path:
        return self.root / asset.name

    def path(self, asset: Asset, file: AssetFile) -> Path:
        """Where ``file`` is when fetched (whether it is or not)."""
        return self.folder(asset) / file.name

    def lookup(self, asset: Asset, file: AssetFile) -> Path | None:
        """The file's path when it was fetched and verified as pinned and still has its
        size; None otherwise."""
        path = self.path(asset, file)
        try:
            if path.stat().st_size != file.size:
                return None
            recorded = _record(path).read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError):
            return None
        return path if recorded[:1] == [file.sha256] else None

    def require(self, asset: Asset, file: AssetFile) -> Path:
        """The file's path, or NotFetched saying which command gets it."""
        path = self.lookup(asset, file)
        if path is None:
            raise NotFetched(
                f"{file.name} of asset {asset.name} is not in the cache {self.folder(asset)}: "
                f"run `safecity models fetch {asset.name}`"
            )
        return path

    def store(
        self, asset: Asset, file: AssetFile, source: IO[bytes], progress: Progress | None = None
    ) -> Path:
        """Copy ``source`` into the cache as ``file``: ChecksumError (nothing left behind)
        when its SHA-256 is not the pinned one."""
        path = self.path(asset, file)
        what = f"{file.name} of asset {asset.name}"
        write_verified(source, path, file.sha256, what=what, progress=progress)
        record = _record(path)
        part = record.with_name(record.name + ".part")
        with _disk_full_said(record.parent):
            part.write_text(f"{file.sha256}  {file.name}\n", encoding="ascii")
            part.replace(record)
        return path

    def verify(self, asset: Asset, file: AssetFile) -> Path:
        """Re-hash the cached file. NotFetched when it is not there; ChecksumError when its
        bytes differ from the pin (the file and its record are deleted, so the next fetch
        gets it anew)."""
        path = self.require(asset, file)
        got = file_sha256(path)
        if got != file.sha256:
            path.unlink(missing_ok=True)
            _record(path).unlink(missing_ok=True)
            raise ChecksumError(
                f"{path} is damaged: SHA-256 {got}, expected {file.sha256}; deleted it, "
                f"run `safecity models fetch {asset.name}` again"
            )
        return path


def write_verified(
    source: Readable, path: Path, sha256: str, *, what: str, progress: Progress | None = None
) -> Path:
    """Write ``source`` to ``path`` atomically (``.part``, fsync, rename) when its SHA-256 is
    ``sha256``; otherwise raise ChecksumError and leave nothing behind."""
    with _disk_full_said(path.parent):
        path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    digest = hashlib.sha256()
    done = 0
    try:
        with _disk_full_said(path.parent), part.open("wb") as out:
            while chunk := source.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done)
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if got != sha256:
            raise ChecksumError(
                f"{what} does not match its pin: SHA-256 {got}, expected {sha256} "
                "(nothing was kept)"
            )
        part.replace(path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return path


def _record(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


@contextlib.contextmanager
def _disk_full_said(folder: Path) -> Iterator[None]:
    """Turn a failed write (a full disk above all) into a plain AssetError naming the folder."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise AssetError(f"disk full: cannot write to {folder} ({exc.strerror})") from exc
        raise AssetError(f"cannot write to {folder}: {exc.strerror or exc}") from exc
