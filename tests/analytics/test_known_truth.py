"""The whole analysis with the real detector on generated clips whose truth is known: a real
person (cut from vtest.avi) walks, stands or does nothing on a textured street at 5 fps, and
each rule must fire once, at the right moment, and never on the clip without a person.

Tolerances: a rule on position fires within 1 s of the moment the foot point gets there (a
track is confirmed after 3 detections, 0.4 s at 5 fps, and boxes jitter); loitering within
1.5 s of its time in the zone.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
import pytest

from safecity.analytics.analysis import CameraAnalytics
from safecity.analytics.detectors.litert import SsdMobileNetDetector
from safecity.analytics.findings import Finding
from safecity.analytics.frames import Frame, Image
from safecity.analytics.rules.definitions import CameraRules
from tests.analytics.pictures import textured_scene, with_noise
from tests.support.footage import footage

FPS = 5
WIDTH, HEIGHT = 640, 480
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC).timestamp()
PERSON_FRAME = 380
PERSON_BOX = (556, 274, 609, 378)
"""A man walking in vtest.avi's frame 380 (the detector scores him 0.95), with a margin."""


@pytest.fixture(scope="module")
def person() -> Image:
    with av.open(str(footage("vtest.avi"))) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index == PERSON_FRAME:
                x1, y1, x2, y2 = PERSON_BOX
                return np.ascontiguousarray(frame.to_ndarray(format="rgb24")[y1:y2, x1:x2])
    raise AssertionError("vtest.avi is shorter than expected")


@pytest.fixture(scope="module")
def detector(ssd_model: Path, ssd_labels: Path) -> SsdMobileNetDetector:
    return SsdMobileNetDetector(ssd_model, ssd_labels)


@dataclass(frozen=True)
class Stop:
    """The person's foot point at ``at`` seconds; straight lines between stops."""

    at: float
    x: float
    y: float


def _foot(route: list[Stop], t: float) -> tuple[float, float] | None:
    for a, b in itertools.pairwise(route):
        if a.at <= t <= b.at:
            share = (t - a.at) / (b.at - a.at)
            return a.x + (b.x - a.x) * share, a.y + (b.y - a.y) * share
    return None


def clip(person: Image | None, route: list[Stop], seconds: float) -> Iterator[Frame]:
    scene = textured_scene(WIDTH, HEIGHT, seed=3)
    rng = np.random.default_rng(5)
    for index in range(int(seconds * FPS)):
        t = index / FPS
        picture = with_noise(scene, rng)
        foot = _foot(route, t) if person is not None else None
        if person is not None and foot is not None:
            height, width = person.shape[:2]
            x = round(foot[0] - width / 2)
            y = round(foot[1] - height)
            picture[y : y + height, x : x + width] = person
        yield Frame(image=picture, at=T0 + t, offset=t, index=index)


def findings(
    rules: dict[str, object], frames: Iterator[Frame], detector: SsdMobileNetDetector
) -> list[Finding]:
    analytics = CameraAnalytics(CameraRules.model_validate(rules), detector, UTC)
    found: list[Finding] = []
    for frame in frames:
        found += analytics.analyse(frame).findings
    return found


WALK = [Stop(0, 40, 400), Stop(10, 560, 400)]
"""Left to right along the street, 52 px a second: the foot at x=320 (the middle) at 5.38 s,
at x=480 at 8.46 s."""


def test_a_walker_crosses_the_line_once_and_enters_the_zone_once(
    person: Image, detector: SsdMobileNetDetector
) -> None:
    rules = {
        "rules": [
            # Drawn from top to bottom: looking along it (down the screen) its left side is the
            # screen's right, so walking left to right on the screen is backward.
            {"kind": "line_crossing", "name": "middle", "line": [[0.5, 0.05], [0.5, 0.95]]},
            {
                "kind": "intrusion",
                "name": "right quarter",
                "zone": [[0.75, 0], [1, 0], [1, 1], [0.75, 1]],
            },
        ]
    }
    found = findings(rules, clip(person, WALK, 11), detector)
    crossing = [f for f in found if f.rule_name == "middle"]
    entering = [f for f in found if f.rule_name == "right quarter"]
    assert len(crossing) == 1 and len(entering) == 1, found
    assert abs(crossing[0].at - T0 - 5.38) <= 1.0
    assert crossing[0].details["direction"] == "backward"
    assert abs(entering[0].at - T0 - 8.46) <= 1.0
    assert crossing[0].track_id == entering[0].track_id
    assert crossing[0].snapshot is not None and crossing[0].confidence >= 0.5


def test_a_line_watched_one_way_ignores_the_other(
    person: Image, detector: SsdMobileNetDetector
) -> None:
    rules = {
        "rules": [
            {
                "kind": "line_crossing",
                "name": "middle",
                "line": [[0.5, 0.05], [0.5, 0.95]],
                "direction": "forward",
            }
        ]
    }
    assert findings(rules, clip(person, WALK, 11), detector) == []


def test_someone_who_stays_in_the_zone_loiters_once(
    person: Image, detector: SsdMobileNetDetector
) -> None:
    # In at 2 s (x=480, the zone's edge), standing a little to and fro until 30 s.
    route = [Stop(0, 380, 400), Stop(2, 480, 400), Stop(3, 520, 400)]
    route += [Stop(3 + k, 520 + (6 if k % 2 else 0), 400) for k in range(1, 27)]
    rules = {
        "rules": [
            {
                "kind": "loitering",
                "name": "corner",
                "zone": [[0.75, 0], [1, 0], [1, 1], [0.75, 1]],
                "seconds": 15,
            }
        ]
    }
    found = findings(rules, clip(person, route, 30), detector)
    assert len(found) == 1, found
    assert abs(found[0].at - T0 - (2 + 15)) <= 1.5


def test_a_street_with_nobody_raises_nothing(detector: SsdMobileNetDetector) -> None:
    rules = {
        "rules": [
            {"kind": "intrusion", "name": "anywhere"},
            {"kind": "line_crossing", "name": "middle", "line": [[0.5, 0.05], [0.5, 0.95]]},
            {"kind": "tamper", "name": "tamper"},
        ]
    }
    assert findings(rules, clip(None, WALK, 20), detector) == []


def test_edited_rules_go_on_with_the_objects_already_followed(
    person: Image, detector: SsdMobileNetDetector
) -> None:
    analytics = CameraAnalytics(CameraRules(), detector, UTC)
    frames = list(clip(person, WALK, 11))
    for frame in frames[:20]:  # 4 s: the walker is followed, left of the middle
        analytics.analyse(frame)
    line = {"kind": "line_crossing", "name": "middle", "line": [[0.5, 0.05], [0.5, 0.95]]}
    counted = analytics.use_rules(CameraRules.model_validate({"rules": [line]}))
    assert [(row.scope, row.count) for row in counted] == [("camera", 1)]  # the walker so far
    found = [finding for frame in frames[20:] for finding in analytics.analyse(frame).findings]
    assert [(f.rule_name, f.track_id) for f in found] == [("middle", 1)]  # the same track


def test_a_privacy_mask_hides_a_person_from_the_detector_and_the_snapshots(
    person: Image, detector: SsdMobileNetDetector
) -> None:
    anywhere = {"kind": "intrusion", "name": "anywhere"}
    right_half = [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]
    found = findings({"rules": [anywhere], "masks": [right_half]}, clip(person, WALK, 11), detector)
    # Seen on the left half only, and nothing of the masked half in the picture kept.
    assert len(found) == 1 and found[0].boxes[0].x2 <= WIDTH / 2 + 10
    snapshot = found[0].snapshot
    assert snapshot is not None and not snapshot[:, WIDTH // 2 + 1 :].any()
    everywhere = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
    assert (
        findings({"rules": [anywhere], "masks": [everywhere]}, clip(person, WALK, 11), detector)
        == []
    )
