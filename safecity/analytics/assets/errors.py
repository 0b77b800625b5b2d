"""What can go wrong with a pinned asset, each said in plain words for the person at the server."""

from __future__ import annotations


class AssetError(Exception):
    """A pinned asset cannot be had or used; the message says why and what to do."""


class DownloadError(AssetError):
    """The download failed: offline, no DNS, a refused connection, an HTTP error."""


class ChecksumError(AssetError):
    """A file is not what its pin says (its SHA-256 differs); it has been deleted."""


class NotFetched(AssetError):
    """The file is not in the cache (or not as pinned): `safecity models fetch` gets it."""
