"""Real footage for the analytics tests: OpenCV's sample videos from Debian's ``opencv-doc``.

``vtest.avi`` is a real outdoor pedestrian scene (768×576, 10 fps, 795 frames: people walking
across a plaza, parked cars); ``tree.avi`` a tree in the wind (motion, nobody). The package is
fetched once from the Debian archive into a cache (``SAFECITY_CACHE`` or ``~/.cache/safecity``)
and checked by SHA-256; nothing is downloaded again while the cache holds it.

Interim: to be served by the project's pinned-asset catalogue (``safecity models fetch``).
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import urllib.request
from pathlib import Path

import pytest

DEB_URL = "https://deb.debian.org/debian/pool/main/o/opencv/opencv-doc_4.6.0+dfsg-12_all.deb"
DEB_SHA256 = "4b12681df35878207ac7097dc66184b2ae552e4bf4ddd2af04a0f03ed0b8682a"
INSIDE = "./usr/share/doc/opencv-doc/examples/data/"
NAMES = ("vtest.avi", "tree.avi")


def _cache() -> Path:
    root = os.environ.get("SAFECITY_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "safecity"


def _members(deb: bytes) -> dict[str, bytes]:
    """The ar archive's members (a .deb is ar: debian-binary, control.tar.*, data.tar.*)."""
    if not deb.startswith(b"!<arch>\n"):
        raise ValueError("not a Debian package (no ar header)")
    found, at = {}, 8
    while at < len(deb):
        header = deb[at : at + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        found[name] = deb[at + 60 : at + 60 + size]
        at += 60 + size + (size % 2)
    return found


def footage(name: str) -> Path:
    """The path of ``name`` (one of NAMES), fetched and unpacked on first use."""
    assert name in NAMES, name
    folder = _cache() / "footage" / "opencv-doc-4.6.0"
    target = folder / name
    if target.exists():
        return target
    try:
        with urllib.request.urlopen(DEB_URL, timeout=120) as response:
            deb = response.read()
    except OSError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"cannot fetch OpenCV's sample footage ({exc}); offline?")
    digest = hashlib.sha256(deb).hexdigest()
    assert digest == DEB_SHA256, f"opencv-doc package SHA-256 {digest}, expected {DEB_SHA256}"
    data = next(body for member, body in _members(deb).items() if member.startswith("data.tar"))
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for wanted in NAMES:
            member = archive.extractfile(INSIDE + wanted)
            assert member is not None
            (folder / (wanted + ".part")).write_bytes(member.read())
            (folder / (wanted + ".part")).rename(folder / wanted)
    return target
