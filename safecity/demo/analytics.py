"""The demo's analytics on real footage: people crossing a plaza, a tree in the wind.

At its first start the demo fetches the detector model and OpenCV's sample footage into the
cache (``safecity models fetch`` does the same; the SHA-256 of each is checked), re-encodes the
footage as H.264 and points its first live cameras at it: the plaza (vtest.avi), the plaza
mirrored (a second camera that does not show the same picture) and a tree in the wind (motion,
nobody: a negative the operator can see). Each gets rules a city would set: a line across the
plaza counted both ways, a zone, a crowd, loitering, tamper. Those cameras alone are analysed
(the other demo streams are drawn streets a detector has nothing to find in).

Without a network and without a cache, the demo says so and runs its simulated detections
instead, each one labelled as simulated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.analytics.assets.cache import AssetCache
from safecity.analytics.assets.catalogue import ASSETS, OPENCV_FOOTAGE, SSD_MOBILENET
from safecity.analytics.assets.errors import AssetError
from safecity.analytics.assets.fetch import fetch
from safecity.analytics.rule_store import replace_camera_rules
from safecity.analytics.rules.definitions import CameraRules
from safecity.auth.models import User
from safecity.city.models import Camera
from safecity.demo.footage import h264_copy
from safecity.private_files import make_folders


@dataclass(frozen=True)
class FootageCamera:
    code: str
    video: Path
    rules: CameraRules


@dataclass(frozen=True)
class DemoAssets:
    """What the cache holds for the demo's analytics, or why it could not be had."""

    vtest: Path | None
    tree: Path | None
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.vtest is not None and self.tree is not None


def fetch_demo_assets(cache: AssetCache) -> DemoAssets:
    """The detector model and the sample footage in the cache, downloaded the first time."""
    try:
        fetch(ASSETS[SSD_MOBILENET], cache)
        footage = fetch(ASSETS[OPENCV_FOOTAGE], cache)
    except AssetError as exc:
        return DemoAssets(None, None, str(exc))
    return DemoAssets(footage.paths["vtest.avi"], footage.paths["tree.avi"])


PLAZA_RULES = CameraRules.model_validate(
    {
        "rules": [
            {
                "kind": "line_crossing",
                "name": "Plaza crossing",
                "line": [[0.5, 0.05], [0.5, 0.95]],
                "direction": "any",
                "classes": ["person", "bicycle"],
            },
            {
                "kind": "crowd",
                "name": "Gathering on the plaza",
                "count": 5,
                "seconds": 3,
            },
            {"kind": "tamper", "name": "Camera tamper"},
        ]
    }
)
PLAZA_MIRRORED_RULES = CameraRules.model_validate(
    {
        "rules": [
            {
                "kind": "intrusion",
                "name": "Fountain lawn",
                "zone": [[0.0, 0.55], [0.45, 0.55], [0.45, 1.0], [0.0, 1.0]],
                "classes": ["person"],
            },
            {"kind": "loitering", "name": "Loitering by the entrance", "seconds": 20},
            {"kind": "tamper", "name": "Camera tamper"},
        ]
    }
)
TREE_RULES = CameraRules.model_validate(
    {
        "rules": [
            {"kind": "intrusion", "name": "Nobody in the park at night", "classes": ["person"]},
            {"kind": "tamper", "name": "Camera tamper"},
        ]
    }
)


def footage_cameras(assets: DemoAssets, folder: Path, codes: Sequence[str]) -> list[FootageCamera]:
    """The first live cameras (up to three) with their footage as H.264, made once."""
    assert assets.vtest is not None and assets.tree is not None
    plans = [
        ("plaza.mp4", assets.vtest, False, PLAZA_RULES),
        ("plaza-mirrored.mp4", assets.vtest, True, PLAZA_MIRRORED_RULES),
        ("tree.mp4", assets.tree, False, TREE_RULES),
    ]
    make_folders(folder)
    cameras = []
    for code, (name, source, mirrored, rules) in zip(codes, plans, strict=False):
        video = h264_copy(source, folder / name, mirrored=mirrored)
        cameras.append(FootageCamera(code, video, rules))
    return cameras


def set_demo_rules(session: Session, cameras: Sequence[FootageCamera], admin: User) -> None:
    """Each footage camera's rules, stored as an administrator would (audited)."""
    for camera in cameras:
        row = session.scalars(select(Camera).where(Camera.code == camera.code)).one()
        replace_camera_rules(session, row, camera.rules, admin)
