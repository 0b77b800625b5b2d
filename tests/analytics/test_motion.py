import numpy as np
import pytest

from safecity.analytics.motion import Motion, MotionDetector, MotionOptions, small_grey
from safecity.analytics.objects import Box
from tests.analytics.pictures import decoded, textured_scene, walker, with_noise

SETTLE = MotionOptions().settle_frames


def _walk(
    detector: MotionDetector, scene: np.ndarray, steps: int, seed: int = 1, scale: int = 1
) -> list[tuple[Motion, Box]]:
    """A walker crossing ``scene`` left to right, 8 px (× scale) a frame."""
    rng = np.random.default_rng(seed)
    seen = []
    for step in range(steps):
        x, y, w, h = (40 + 8 * step) * scale, 140 * scale, 30 * scale, 80 * scale
        motion = detector.detect(with_noise(walker(scene, x, y, w, h), rng))
        seen.append((motion, Box(x, y, x + w, y + h)))
    return seen


def test_a_walker_is_found_where_it_walks_in_detect_frame_pixels() -> None:
    for scale in (1, 2):  # 640×360 and 1280×720 detect frames
        scene = textured_scene(640 * scale, 360 * scale)
        detector = MotionDetector()
        for _ in range(SETTLE):
            detector.detect(scene)
        for motion, truth in _walk(detector, scene, 40, scale=scale):
            assert not motion.calibrating
            best = max((box.iou(truth) for box in motion.boxes), default=0.0)
            assert best > 0.6, (scale, truth, motion.boxes)
            assert len(motion.boxes) == 1
            assert 0.005 < motion.share < 0.05


def test_a_still_scene_with_sensor_noise_has_no_motion() -> None:
    rng = np.random.default_rng(2)
    scene = textured_scene(320, 180)
    detector = MotionDetector()
    found = [detector.detect(with_noise(scene, rng, sigma=3.0)) for _ in range(200)]
    assert all(m.boxes == () and m.share < 0.001 for m in found[SETTLE:])


def test_the_first_frames_learn_the_background_and_report_nothing() -> None:
    seen = _walk(MotionDetector(MotionOptions(settle_frames=8)), textured_scene(640, 360), 12)
    assert [motion.calibrating for motion, _ in seen] == [True] * 8 + [False] * 4
    assert all(motion.boxes == () and motion.share == 0 for motion, _ in seen[:8])
    assert all(motion.boxes for motion, _ in seen[8:])


def test_lights_switched_on_are_relearned_not_reported_and_walkers_are_seen_again() -> None:
    rng = np.random.default_rng(3)
    dim = textured_scene(640, 360)
    lit = np.clip(dim * 1.5 + 40, 0, 255).astype(np.uint8)
    detector = MotionDetector()
    for _ in range(20):
        detector.detect(with_noise(dim, rng))
    after = [detector.detect(with_noise(lit, rng)) for _ in range(30)]
    assert [m.calibrating for m in after] == [True] * SETTLE + [False] * (30 - SETTLE), (
        "the new picture is the background at once; a few frames settle it"
    )
    assert all(m.boxes == () for m in after), "a lighting change is not motion"
    seen = [
        detector.detect(with_noise(walker(lit, 100 + 8 * i, 140, 30, 80), rng)) for i in range(5)
    ]
    assert all(m.boxes for m in seen)


def test_an_object_that_stops_becomes_background_and_a_passer_by_leaves_no_ghost() -> None:
    rng = np.random.default_rng(4)
    scene = textured_scene(320, 180)
    detector = MotionDetector()
    for _ in range(10):
        detector.detect(with_noise(scene, rng))
    for step in range(20):  # a car drives in and parks at x=100
        detector.detect(with_noise(walker(scene, 5 + 5 * step, 80, 40, 25), rng))
    parked = walker(scene, 100, 80, 40, 25)
    still = [detector.detect(with_noise(parked, rng)) for _ in range(300)]
    assert still[0].boxes, "just stopped: still motion"
    assert still[-1].boxes == (), "parked long enough: background"

    gone = [detector.detect(with_noise(scene, rng)) for _ in range(300)]
    assert gone[-1].boxes == ()

    scene = textured_scene(640, 360)
    detector = MotionDetector()
    for _ in range(10):
        detector.detect(with_noise(scene, rng))
    _walk(detector, scene, 80, seed=5)  # crosses the picture and walks out of it
    after = [detector.detect(with_noise(scene, rng)) for _ in range(3)]
    assert all(m.boxes == () for m in after), "the walker's path is not left in the background"


def test_blobs_smaller_than_the_contour_area_are_not_motion() -> None:
    scene = textured_scene(640, 360)
    detector = MotionDetector(MotionOptions(contour_area=100))
    for _ in range(SETTLE):
        detector.detect(scene)
    blinking = scene.copy()
    blinking[100:110, 100:110] = 255 - blinking[100:110, 100:110]  # a lamp, 5×5 when small
    blinking[200:220, 400:420] = 255 - blinking[200:220, 400:420]  # a sign, 10×10 when small
    [box] = detector.detect(blinking).boxes
    assert box.x1 <= 400 and box.x2 >= 420 and box.y1 <= 200 and box.y2 >= 220


def test_the_grey_picture_is_small_and_never_enlarged() -> None:
    detector = MotionDetector(MotionOptions(height=180))
    assert detector.detect(textured_scene(1280, 720)).grey.shape == (180, 320)
    assert detector.detect(textured_scene(768, 576)).grey.shape == (180, 240)
    assert detector.detect(textured_scene(320, 120)).grey.shape == (120, 320)
    assert small_grey(textured_scene(1920, 1080), 100).shape == (100, 178)
    grey = small_grey(textured_scene(640, 360)[:, :, 0].copy(), 180)
    assert grey.shape == (180, 320)


def test_a_new_frame_size_starts_learning_again() -> None:
    detector = MotionDetector()
    _walk(detector, textured_scene(640, 360), 10)
    assert detector.detect(textured_scene(1280, 720)).calibrating


def test_tree_in_the_wind_moves() -> None:
    detector = MotionDetector()
    found = [detector.detect(frame) for frame in decoded("tree.avi")]
    assert len(found) == 68
    moving = [m for m in found if not m.calibrating]
    assert sum(bool(m.boxes) for m in moving) >= 0.9 * len(moving)
    assert np.median([m.share for m in moving]) > 0.003


# Walkers' centres in vtest.avi (768×576), marked by hand on four frames.
VTEST_PEOPLE = {
    100: [(362, 240), (392, 215), (507, 185), (528, 185), (603, 195), (230, 78)],
    300: [(202, 195), (253, 190), (310, 192), (330, 255), (597, 195), (630, 198)],
    500: [(320, 225), (573, 280), (588, 335), (627, 325)],
    700: [(197, 200), (120, 340), (293, 255), (380, 210), (415, 180), (485, 165), (532, 198)],
}


def test_vtest_motion_boxes_are_where_people_walk() -> None:
    detector = MotionDetector()
    covered = []
    for index, frame in enumerate(decoded("vtest.avi")):
        motion = detector.detect(frame)
        if index < SETTLE:
            continue
        inside = np.zeros(frame.shape[:2], bool)
        for box in motion.boxes:
            inside[int(box.y1) : int(box.y2), int(box.x1) : int(box.x2)] = True
        covered.append(inside.mean())
        for x, y in VTEST_PEOPLE.get(index, []):
            assert inside[y, x], f"frame {index}: nobody found walking at {x}, {y}"
    assert max(covered) < 0.25, "motion boxes cover the people, not the whole plaza"
    assert np.median(covered) > 0.02


@pytest.mark.parametrize(
    "options",
    [
        {"height": 8},
        {"threshold": 0},
        {"contour_area": 0},
        {"background_rate": 1.0},
        {"lighting_share": 0.0},
        {"settle_frames": 0},
    ],
)
def test_nonsense_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        MotionOptions(**options)  # type: ignore[arg-type]


def test_pictures_that_are_not_8_bit_rgb_or_grey_are_refused() -> None:
    detector = MotionDetector()
    for bad in (
        np.zeros((360, 640, 3), np.float32),
        np.zeros((360, 640, 4), np.uint8),
        np.zeros((0, 640, 3), np.uint8),
        [[0, 1], [2, 3]],
    ):
        with pytest.raises(ValueError, match="picture"):
            detector.detect(bad)  # type: ignore[arg-type]
