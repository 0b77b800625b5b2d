"""The analytics tests' real model, fetched once per run (tests/support/footage.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from safecity.analytics.assets.catalogue import SSD_MOBILENET, Role, asset_named
from tests.support.footage import pinned


@pytest.fixture(scope="session")
def ssd_model() -> Path:
    """The SSD MobileNet v2 COCO ``.tflite`` (its ``coco_labels.txt`` is ``ssd_labels``)."""
    return pinned(SSD_MOBILENET).paths[asset_named(SSD_MOBILENET).with_role(Role.MODEL).name]


@pytest.fixture(scope="session")
def ssd_labels() -> Path:
    return pinned(SSD_MOBILENET).paths[asset_named(SSD_MOBILENET).with_role(Role.LABELS).name]
