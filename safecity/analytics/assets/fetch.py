"""Getting a pinned asset into the cache: from its registry over HTTPS, or from a file that an
air-gapped site carried in (the download itself, or one of the final files).

A file already in the cache as pinned is never downloaded again. The download is hashed while
it is written and checked against its pin before anything is taken out of it; each file taken
out is checked against its own pin (cache.py). The download is deleted once unpacked: the cache
keeps the files SafeCity uses, not the 95 MB Debian package they came in.
"""

from __future__ import annotations

import http.client
import shutil
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from safecity.analytics.assets.archives import read_members
from safecity.analytics.assets.cache import AssetCache, write_verified
from safecity.analytics.assets.catalogue import Asset, AssetFile, size_text
from safecity.analytics.assets.errors import AssetError, DownloadError
from safecity.core.files import file_sha256

DownloadProgress = Callable[[int, int], None]
"""Told the bytes downloaded so far and the download's size."""

_AIR_GAPPED = "on an air-gapped site, download it on a machine that can and use --from FILE"


@dataclass(frozen=True, slots=True)
class Fetched:
    asset: Asset
    paths: dict[str, Path]
    """Every file of the asset, by name, in the cache."""
    placed: tuple[str, ...]
    """The files this call put there (none: the cache had them all)."""


def fetch(
    asset: Asset,
    cache: AssetCache,
    *,
    progress: DownloadProgress | None = None,
    timeout: float = 60.0,
) -> Fetched:
    """Every file of ``asset`` in the cache, downloading the asset only when one is missing.
    DownloadError when the registry cannot be reached, ChecksumError when a file or the
    download differs from its pin, AssetError when the disk is full."""
    missing = [file for file in asset.files if cache.lookup(asset, file) is None]
    if missing:
        _check_free_space(asset, cache)
        archive = _download(asset, cache, progress, timeout)
        try:
            with archive.open("rb") as source:
                _unpack(asset, cache, source, missing)
        finally:
            archive.unlink(missing_ok=True)
    return _fetched(asset, cache, missing)


def fetch_from_file(source: Path, assets: Sequence[Asset], cache: AssetCache) -> list[Fetched]:
    """Put into the cache what ``source`` is, recognised by its SHA-256: the download of one of
    ``assets`` (its missing files are taken out of it), or one of their files. AssetError when
    it is neither."""
    try:
        got = file_sha256(source)
    except OSError as exc:
        raise AssetError(f"cannot read {source}: {exc.strerror or exc}") from exc
    done = []
    for asset in assets:
        if got == asset.sha256:
            missing = [file for file in asset.files if cache.lookup(asset, file) is None]
            with source.open("rb") as archive:
                _unpack(asset, cache, archive, missing)
            done.append(_fetched(asset, cache, missing))
            continue
        for file in asset.files:
            if got == file.sha256:
                with source.open("rb") as stream:
                    cache.store(asset, file, stream)
                done.append(_fetched(asset, cache, [file], partial=True))
    if not done:
        names = ", ".join(asset.name for asset in assets)
        raise AssetError(
            f"{source} (SHA-256 {got}) is neither the download nor a file of {names}; "
            "`safecity models list` shows what each asset downloads"
        )
    return done


def _fetched(
    asset: Asset, cache: AssetCache, placed: Sequence[AssetFile], *, partial: bool = False
) -> Fetched:
    """What the cache now holds of ``asset``: all of it, or (``partial``) what it has."""
    paths = {}
    for file in asset.files:
        path = cache.lookup(asset, file) if partial else cache.require(asset, file)
        if path is not None:
            paths[file.name] = path
    return Fetched(asset, paths, tuple(file.name for file in placed))


def _unpack(
    asset: Asset, cache: AssetCache, archive: IO[bytes], files: Sequence[AssetFile]
) -> None:
    def sink_for(file: AssetFile) -> Callable[[IO[bytes]], None]:
        def sink(stream: IO[bytes]) -> None:
            cache.store(asset, file, stream)

        return sink

    read_members(archive, {file.inside: sink_for(file) for file in files})


def _check_free_space(asset: Asset, cache: AssetCache) -> None:
    """Refuse up front, rather than half-way, when the download and its files cannot fit."""
    needed = asset.size + sum(file.size for file in asset.files)
    existing = cache.root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    free = shutil.disk_usage(existing).free
    if free < needed:
        raise AssetError(
            f"disk full: asset {asset.name} needs {size_text(needed)} in {cache.root}, "
            f"{size_text(free)} free"
        )


def _download(
    asset: Asset, cache: AssetCache, progress: DownloadProgress | None, timeout: float
) -> Path:
    """The asset's download in the cache's ``.downloads`` folder, checked against its pin."""
    target = cache.root / ".downloads" / asset.download_name
    request = urllib.request.Request(asset.url, headers={"User-Agent": "safecity-models"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except (OSError, http.client.HTTPException) as exc:
        raise _cannot_download(asset.url, exc) from exc
    report = None if progress is None else lambda done: progress(done, asset.size)
    with response:
        write_verified(
            _Reading(response, asset.url),
            target,
            asset.sha256,
            what=f"the download {asset.url}",
            progress=report,
        )
    return target


class _Reading:
    """A response whose failures mid-way are DownloadErrors, told apart from write errors."""

    def __init__(self, response: IO[bytes], url: str) -> None:
        self._response, self._url = response, url

    def read(self, size: int = -1) -> bytes:
        try:
            return self._response.read(size)
        except (OSError, http.client.HTTPException) as exc:
            raise _cannot_download(self._url, exc) from exc


def _cannot_download(url: str, exc: BaseException) -> DownloadError:
    host = urlsplit(url).hostname or url
    reason: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(exc, urllib.error.HTTPError):
        why = f"the server answered HTTP {exc.code} {exc.reason}"
    elif isinstance(reason, socket.gaierror):
        why = f"cannot resolve {host} (no DNS: is this machine offline?)"
    elif isinstance(reason, ConnectionRefusedError):
        why = f"{host} refused the connection"
    elif isinstance(reason, TimeoutError):
        why = f"no answer from {host} in time"
    elif isinstance(reason, OSError):
        why = f"cannot reach {host} ({reason.strerror or reason})"
    else:
        why = f"the connection broke ({reason or type(exc).__name__})"
    return DownloadError(f"cannot download {url}: {why}; {_AIR_GAPPED}")
