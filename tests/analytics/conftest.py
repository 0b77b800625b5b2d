from __future__ import annotations

from pathlib import Path

import pytest

from safecity.demo.footage import h264_copy
from tests.support.footage import footage


@pytest.fixture(scope="session")
def plaza_h264(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 20 s of OpenCV's vtest.avi (people on a plaza, 768×576, 10 fps) as a camera
    would send it: H.264, a keyframe every 2 s."""
    folder = tmp_path_factory.mktemp("footage")
    return h264_copy(footage("vtest.avi"), folder / "plaza.mp4", max_seconds=20)
