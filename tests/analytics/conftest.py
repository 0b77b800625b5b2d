"""The analytics tests' real model and footage, fetched once per run (tests/support/footage.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from safecity.analytics.assets.catalogue import SSD_MOBILENET, Role, asset_named
from safecity.demo.footage import h264_copy
from tests.support.footage import footage, pinned


@pytest.fixture(scope="session")
def ssd_model() -> Path:
    """The SSD MobileNet v2 COCO ``.tflite`` (its ``coco_labels.txt`` is ``ssd_labels``)."""
    return pinned(SSD_MOBILENET).paths[asset_named(SSD_MOBILENET).with_role(Role.MODEL).name]


@pytest.fixture(scope="session")
def ssd_labels() -> Path:
    return pinned(SSD_MOBILENET).paths[asset_named(SSD_MOBILENET).with_role(Role.LABELS).name]


@pytest.fixture(scope="session")
def plaza_h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 20 s of OpenCV's vtest.avi (people on a plaza, 768×576, 10 fps) as a camera
    would send it: H.264, a keyframe every 2 s."""
    folder = tmp_path_factory.mktemp("footage")
    return h264_copy(footage("vtest.avi"), folder / "plaza.mp4", max_seconds=20)
