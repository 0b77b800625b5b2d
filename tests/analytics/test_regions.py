import numpy as np
import pytest

from safecity.analytics.objects import Box
from safecity.analytics.regions import Region, detector_regions

W, H, MODEL = 640, 360, 300


def _regions(motion: list[Box], objects: list[Box] = [], **kw: int) -> list[Region]:  # noqa: B006
    return detector_regions(motion, objects, kw.pop("width", W), kw.pop("height", H), MODEL, **kw)


def test_a_still_scene_needs_no_detector_call() -> None:
    assert _regions([]) == []


def test_a_small_box_gets_one_model_sized_square_around_it() -> None:
    box = Box(300, 150, 330, 230)
    [region] = _regions([box])
    assert region.size == MODEL
    assert region.contains(box)
    assert abs(region.box.centre[0] - box.centre[0]) <= 1
    assert abs(region.box.centre[1] - box.centre[1]) <= 31  # shifted down into the frame


def test_a_box_at_the_edge_shifts_its_region_inside_the_frame_rather_than_cutting_it() -> None:
    for box in (Box(0, 0, 20, 40), Box(620, 320, 640, 360)):
        [region] = _regions([box])
        assert region.size == MODEL
        assert region.x >= 0 and region.x + region.size <= W
        assert region.y >= 0 and region.y + region.size <= H
        assert region.contains(box)


def test_a_big_box_gets_a_bigger_region_with_a_margin() -> None:
    box = Box(1000, 300, 1300, 700)  # 300×400 in a 1920×1080 frame
    [region] = _regions([box], width=1920, height=1080)
    assert region.size == 540  # 400 × 1.35
    assert region.size % 4 == 0
    assert region.contains(box)
    assert region.x < box.x1 - 100 and region.y < box.y1 - 50


def test_a_region_never_outgrows_the_frame_and_is_padded_where_it_must_run_past_it() -> None:
    bus = Box(20, 30, 620, 350)
    [region] = _regions([bus])
    assert region == Region(0, 0, 640)
    frame = np.full((H, W, 3), 7, np.uint8)
    square = region.cut(frame)
    assert square.shape == (640, 640, 3)
    assert (square[:360] == 7).all() and (square[360:] == 0).all()

    [small] = detector_regions([Box(10, 10, 50, 50)], [], 320, 180, MODEL)
    assert small == Region(0, 0, 300)
    assert small.cut(np.ones((180, 320), np.uint8)).shape == (300, 300)


def test_cut_inside_the_frame_is_the_square_itself() -> None:
    frame = np.arange(H * W * 3, dtype=np.uint32).reshape(H, W, 3).astype(np.uint8)
    region = Region(100, 40, 300)
    assert np.array_equal(region.cut(frame), frame[40:340, 100:400])


def test_boxes_that_fit_one_region_share_it_and_far_ones_do_not() -> None:
    near = [Box(100, 100, 130, 180), Box(180, 120, 210, 200), Box(150, 60, 170, 90)]
    [region] = _regions(near)
    assert all(region.contains(box) for box in near)

    far = [Box(10, 100, 40, 180), Box(1800, 900, 1830, 980)]
    regions = _regions(far, width=1920, height=1080)
    assert len(regions) == 2
    assert all(r.size == MODEL for r in regions)


def test_a_small_box_is_not_shrunk_into_a_big_region() -> None:
    lorry = Box(400, 200, 1000, 700)  # needs an 812 px region
    bag = Box(1000, 600, 1020, 620)  # would be 0.06% of it: lost when scaled to 300 px
    regions = _regions([lorry, bag], width=1920, height=1080)
    assert len(regions) == 2, "the regions overlap, but merging them would lose the bag"
    big, small = regions
    assert big.contains(lorry) and big.contains(bag), "the lorry's region sees the bag, small"
    assert small.contains(bag) and small.size == MODEL


def test_motion_on_a_tracked_object_needs_no_region_of_its_own() -> None:
    person = Box(300, 100, 340, 200)
    arm = Box(330, 130, 350, 160)
    regions = _regions([arm], [person])
    assert len(regions) == 1 and regions[0].contains(person) and regions[0].contains(arm)


def test_regions_that_mostly_overlap_are_merged() -> None:
    person = Box(300, 100, 340, 200)
    beside = Box(420, 120, 480, 200)  # moves beside the person, outside the person's region
    assert not _regions([], [person])[0].contains(beside)
    regions = _regions([beside], [person])
    assert len(regions) == 1
    assert regions[0].contains(person) and regions[0].contains(beside)


def test_tracked_objects_come_first_and_the_cap_puts_the_rest_in_one_region() -> None:
    rng = np.random.default_rng(7)
    corners = rng.integers(0, [1880, 1040], (30, 2))
    motion = [Box(x, y, x + 30, y + 30) for x, y in corners]
    tracked = Box(900, 500, 960, 620)
    regions = _regions(motion, [tracked], width=1920, height=1080, max_regions=4)
    assert len(regions) == 4
    assert regions[0].contains(tracked) and regions[0].size == MODEL
    assert all(any(r.contains(box) for r in regions) for box in motion), "nothing is unlooked-at"
    assert regions[-1].size > MODEL


def test_every_box_is_inside_a_region_and_every_region_inside_the_frame() -> None:
    rng = np.random.default_rng(11)
    for _ in range(500):
        width, height = int(rng.integers(100, 1920)), int(rng.integers(100, 1080))
        model, cap = int(rng.choice([224, 300, 320, 640])), int(rng.integers(1, 8))
        boxes = []
        for _ in range(int(rng.integers(0, 16))):
            x, y = rng.uniform(0, width - 1), rng.uniform(0, height - 1)
            w, h = rng.uniform(0.5, 600), rng.uniform(0.5, 500)
            boxes.append(Box(x, y, min(width, x + w), min(height, y + h)))
        split = int(rng.integers(0, len(boxes) + 1))
        regions = detector_regions(
            boxes[split:], boxes[:split], width, height, model, max_regions=cap
        )
        assert len(regions) <= cap
        assert all(any(r.contains(box) for r in regions) for box in boxes)
        for r in regions:
            assert min(model, max(width, height)) <= r.size <= max(width, height, model)
            assert r.x >= 0 and r.y >= 0
            assert r.x + r.size <= width or r.x == 0, "inside the frame unless wider than it"
            assert r.y + r.size <= height or r.y == 0


def test_boxes_outside_the_frame_are_clipped_or_left_out() -> None:
    gone = Box(700, 10, 760, 90)  # a track predicted past the right edge
    half = Box(600, 10, 700, 90)
    [region] = _regions([], [gone, half])
    assert region.contains(Box(600, 10, 640, 90))


@pytest.mark.parametrize(
    ("width", "height", "model", "cap"), [(0, 360, 300, 6), (640, 360, 0, 6), (640, 360, 300, 0)]
)
def test_nonsense_sizes_are_refused(width: int, height: int, model: int, cap: int) -> None:
    with pytest.raises(ValueError):
        detector_regions([Box(1, 1, 2, 2)], [], width, height, model, max_regions=cap)
