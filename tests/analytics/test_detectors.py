"""Detectors: the real SSD MobileNet on real footage, a real ONNX model the tests build, the
per-class filter, and one detector shared by many cameras."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import numpy as np
import pytest

from safecity.analytics.assets.cache import AssetCache
from safecity.analytics.assets.errors import NotFetched
from safecity.analytics.detectors.base import ClassLimits, ObjectFilter
from safecity.analytics.detectors.coco import classes_by_id, read_labels
from safecity.analytics.detectors.factory import DetectorOptions, build_detector
from safecity.analytics.detectors.litert import SsdMobileNetDetector
from safecity.analytics.detectors.onnx import OnnxDetector, OnnxModelOptions
from safecity.analytics.detectors.shared import DetectionDropped, SharedDetector
from safecity.analytics.frames import Image
from safecity.analytics.objects import Box, Detection, ObjectClass
from tests.support.footage import footage
from tests.support.onnx_detector import CLASS_NAMES, COLOURS, build_square_detector

PERSON, CAR, BAG = ObjectClass.PERSON, ObjectClass.CAR, ObjectClass.BAG


def frames(name: str) -> Iterator[Image]:
    with av.open(str(footage(name))) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


def frame_at(name: str, index: int) -> Image:
    for at, image in enumerate(frames(name)):
        if at == index:
            return image
    raise IndexError(index)


@pytest.fixture(scope="module")
def ssd(ssd_model: Path, ssd_labels: Path) -> SsdMobileNetDetector:
    return SsdMobileNetDetector(ssd_model, ssd_labels)


@pytest.fixture(scope="module")
def plaza() -> Image:
    """vtest.avi mid-clip (frame 380 of 795): four people walking, parked cars."""
    return frame_at("vtest.avi", 380)


def people(found: Sequence[Detection], min_score: float = 0.0) -> list[Detection]:
    return [d for d in found if d.object_class is PERSON and d.score >= min_score]


# --- SSD MobileNet v2 COCO on LiteRT, real footage ---


def test_ssd_finds_the_people_on_the_plaza(ssd: SsdMobileNetDetector, plaza: Image) -> None:
    found = ssd.detect(plaza)

    assert len(people(found, 0.5)) >= 3
    height, width = plaza.shape[:2]
    for detection in found:
        assert 0 <= detection.box.x1 < detection.box.x2 <= width
        assert 0 <= detection.box.y1 < detection.box.y2 <= height
    tall = [d.box.height / d.box.width for d in people(found)]
    assert min(tall) > 1.2, "a walking person's box is taller than wide: boxes are not swapped"


def test_ssd_finds_nobody_in_the_tree_in_the_wind(ssd: SsdMobileNetDetector) -> None:
    pictures = list(frames("tree.avi"))

    found = ssd.detect_batch(pictures)

    assert len(pictures) > 60
    assert [d for each in found for d in each if d.object_class is PERSON] == []


def test_a_crops_boxes_are_in_the_crops_own_pixels(ssd: SsdMobileNetDetector, plaza: Image) -> None:
    whole = max(people(ssd.detect(plaza), 0.5), key=lambda d: d.score)
    x1, y1 = int(whole.box.x1) - 60, int(whole.box.y1) - 40
    crop = plaza[max(y1, 0) : y1 + 260, max(x1, 0) : x1 + 200]  # 200 × 260: letterboxed
    x1, y1 = max(x1, 0), max(y1, 0)

    found = people(ssd.detect(np.ascontiguousarray(crop)), 0.5)

    back = [d.box.shifted(x1, y1) for d in found]
    assert max(box.iou(whole.box) for box in back) > 0.7
    for detection in found:
        assert detection.box.x2 <= crop.shape[1] and detection.box.y2 <= crop.shape[0]


def test_ssd_refuses_a_picture_it_cannot_take(ssd: SsdMobileNetDetector) -> None:
    with pytest.raises(ValueError, match=r"RGB picture \(height × width × 3, uint8\)"):
        ssd.detect(np.zeros((300, 300), np.uint8))
    with pytest.raises(ValueError, match="RGB picture"):
        ssd.detect(np.zeros((300, 300, 3), np.float32))  # type: ignore[arg-type]


def test_a_file_that_is_no_model_is_a_clear_error(ssd_labels: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "model.tflite"
    bogus.write_bytes(b"not a flatbuffer" * 10)

    with pytest.raises(ValueError, match=f"cannot load the LiteRT model {bogus}"):
        SsdMobileNetDetector(bogus, ssd_labels)


def test_the_model_asset_builds_the_default_detector(
    ssd_model: Path, plaza: Image, tmp_path: Path
) -> None:
    detector = build_detector(DetectorOptions(classes=(PERSON,)))

    found = detector.detect(plaza)

    assert detector.input_size == (300, 300)
    assert len(found) >= 3 and {d.object_class for d in found} == {PERSON}
    with pytest.raises(NotFetched, match="run `safecity models fetch ssd-mobilenet-v2-coco`"):
        build_detector(DetectorOptions(), AssetCache(tmp_path / "empty"))


# --- COCO labels ---


def test_the_label_files_ids_are_read_not_assumed(ssd_labels: Path) -> None:
    labels = read_labels(ssd_labels)

    assert (labels[0], labels[2], labels[12]) == ("person", "car", "stop sign")
    assert 11 not in labels
    assert classes_by_id(labels) == {
        0: PERSON,
        1: ObjectClass.BICYCLE,
        2: CAR,
        3: ObjectClass.MOTORCYCLE,
        5: ObjectClass.BUS,
        7: ObjectClass.TRUCK,
        26: BAG,  # backpack
        30: BAG,  # handbag
        32: BAG,  # suitcase
    }


def test_a_plain_label_list_is_numbered_from_zero_and_a_bad_line_is_named(tmp_path: Path) -> None:
    plain = tmp_path / "labels.txt"
    plain.write_text("Person\nkite\nmotorbike\n")
    assert classes_by_id(read_labels(plain)) == {0: PERSON, 2: ObjectClass.MOTORCYCLE}
    repeated = tmp_path / "repeated.txt"
    repeated.write_text("0 person\n0 car\n")
    with pytest.raises(ValueError, match=r"repeated\.txt line 2"):
        read_labels(repeated)


# --- the per-class filter ---


def detection(object_class: ObjectClass, score: float, width: float, height: float) -> Detection:
    return Detection(object_class, score, Box(10, 10, 10 + width, 10 + height))


def test_the_filter_drops_low_scores_and_small_boxes_per_class() -> None:
    keep = ObjectFilter()

    assert keep.keeps(detection(PERSON, 0.5, 10, 20))
    assert not keep.keeps(detection(PERSON, 0.49, 10, 20)), "under the person score"
    assert not keep.keeps(detection(PERSON, 0.9, 5, 10)), "a 50 px person is noise"
    assert keep.keeps(detection(BAG, 0.42, 10, 10)), "bags are found at lower scores"
    assert not keep.keeps(detection(CAR, 0.42, 40, 30)), "cars are not"


def test_a_city_chooses_its_classes_and_minimums() -> None:
    only_people = ObjectFilter.of([PERSON], min_scores={PERSON: 0.7}, min_areas={PERSON: 50})

    assert only_people.apply(
        [
            detection(PERSON, 0.75, 5, 10),
            detection(PERSON, 0.6, 30, 60),
            detection(CAR, 0.99, 80, 40),
        ]
    ) == [detection(PERSON, 0.75, 5, 10)]
    assert only_people.lowest_score == 0.7
    with pytest.raises(
        ValueError, match="minimums given for car, which the detector does not keep"
    ):
        ObjectFilter.of([PERSON], min_scores={CAR: 0.3})
    with pytest.raises(ValueError, match="between 0 and 1"):
        ClassLimits(1.5)


# --- ONNX Runtime, a model the tests build ---


def squares(*placed: tuple[str, int, int], size: tuple[int, int] = (160, 120)) -> Image:
    """A black picture with a 20×20 square of each named colour at (x, y)."""
    picture = np.zeros((size[1], size[0], 3), np.uint8)
    for colour, x, y in placed:
        picture[y : y + 20, x : x + 20] = COLOURS[colour]
    return picture


def onnx_detector(
    tmp_path: Path, layout: str = "yolov8", *, dynamic_batch: bool = True, **options: object
) -> OnnxDetector:
    model = build_square_detector(
        tmp_path / f"{layout}.onnx", layout=layout, dynamic_batch=dynamic_batch
    )
    return OnnxDetector(model, OnnxModelOptions(CLASS_NAMES, **options))  # type: ignore[arg-type]


@pytest.mark.parametrize("layout", ["yolov8", "yolov5"])
def test_onnx_finds_the_squares_where_they_are_in_either_output_layout(
    tmp_path: Path, layout: str
) -> None:
    detector = onnx_detector(tmp_path, layout)
    # 160×120 letterboxed into 64×64 at 0.4: 20 px squares on multiples of 20 fill one cell.
    picture = squares(("person", 40, 40), ("car", 100, 80), ("kite", 0, 0))

    found = detector.detect(picture)

    # One box per square (the echo anchors suppressed), the kite not watched.
    assert found == [
        Detection(PERSON, 1.0, Box(40, 40, 60, 60)),
        Detection(CAR, 1.0, Box(100, 80, 120, 100)),
    ]


def test_onnx_runs_a_batch_when_the_model_allows_it(tmp_path: Path) -> None:
    batched = onnx_detector(tmp_path, "yolov8", dynamic_batch=True, max_batch=2)
    single = onnx_detector(tmp_path / "..", "yolov5", dynamic_batch=False)
    pictures = [
        squares(("person", 0, 0)),
        squares(("car", 140, 100)),
        squares(),
        squares(("person", 40, 20), size=(80, 160)),  # portrait: padded at the sides
    ]

    expected = [
        [Detection(PERSON, 1.0, Box(0, 0, 20, 20))],
        [Detection(CAR, 1.0, Box(140, 100, 160, 120))],
        [],
        [Detection(PERSON, 1.0, Box(40, 20, 60, 40))],
    ]
    assert (batched.max_batch, single.max_batch) == (2, 1)
    assert batched.detect_batch(pictures) == expected
    assert single.detect_batch(pictures) == expected


def test_onnx_applies_the_filter_and_the_score_threshold(tmp_path: Path) -> None:
    model = build_square_detector(tmp_path / "m.onnx")
    picture = squares(("person", 40, 40), ("car", 100, 80))
    no_small_people = ObjectFilter.of(min_areas={PERSON: 401})

    found = OnnxDetector(model, OnnxModelOptions(CLASS_NAMES), object_filter=no_small_people)

    assert [d.object_class for d in found.detect(picture)] == [CAR]
    half = picture.copy()
    half[40:60, 40:50] = 0  # half the person's cell: score 0
    assert [d.object_class for d in found.detect(half)] == [CAR]


def test_onnx_options_that_do_not_fit_the_model_are_clear_errors(tmp_path: Path) -> None:
    model = build_square_detector(tmp_path / "m.onnx")
    two_names = OnnxDetector(model, OnnxModelOptions(("person", "car")))

    with pytest.raises(ValueError, match=r"expected \[6, anchors\] \(YOLOv8\) or \[anchors, 7\]"):
        two_names.detect(squares())
    with pytest.raises(ValueError, match="takes 64×64, not the 320×320 set"):
        OnnxDetector(model, OnnxModelOptions(CLASS_NAMES, input_size=(320, 320)))
    with pytest.raises(ValueError, match="cannot load the ONNX model"):
        OnnxDetector(tmp_path / "missing.onnx", OnnxModelOptions(CLASS_NAMES))


def test_the_factory_builds_an_onnx_detector_from_a_path(tmp_path: Path) -> None:
    model = build_square_detector(tmp_path / "city.onnx", layout="yolov5")
    options = DetectorOptions(kind="onnx", model=str(model), class_names=CLASS_NAMES)

    detector = build_detector(options)

    assert detector.detect(squares(("car", 20, 20))) == [Detection(CAR, 1.0, Box(20, 20, 40, 40))]
    with pytest.raises(ValueError, match="no model file"):
        build_detector(DetectorOptions(kind="onnx", model=str(tmp_path / "gone.onnx")))


# --- one detector shared by a node's cameras ---


class Gated:
    """A real detector that waits at a gate before each inference, and notes batch sizes."""

    def __init__(self, detector: OnnxDetector) -> None:
        self.detector = detector
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.batches: list[int] = []
        self.name, self.input_size, self.max_batch = "gated", detector.input_size, 4

    def detect(self, image: Image) -> list[Detection]:
        return self.detect_batch([image])[0]

    def detect_batch(self, images: Sequence[Image]) -> list[list[Detection]]:
        self.entered.set()
        assert self.gate.wait(10)
        self.batches.append(len(images))
        return self.detector.detect_batch(images)


def test_cameras_sharing_a_detector_each_get_their_own_answers(tmp_path: Path) -> None:
    shared = SharedDetector(onnx_detector(tmp_path), queue_size=64, max_batch=4)
    spots = [(x, y) for x in range(0, 140, 20) for y in range(0, 100, 20)]

    def camera(number: int) -> list[bool]:
        results = []
        for x, y in spots[number::4]:
            [found] = shared.detect(squares(("person", x, y)))
            results.append(found.box == Box(x, y, x + 20, y + 20))
        return results

    with shared, ThreadPoolExecutor(4) as cameras:
        answers = [ok for each in cameras.map(camera, range(4)) for ok in each]

    figures = shared.figures()
    assert answers == [True] * len(spots)
    assert (figures.requests, figures.detected, figures.dropped) == (35, 35, 0)
    assert figures.inferences <= figures.detected and figures.detector_ms > 0


def test_a_full_queue_drops_the_oldest_request_and_counts_it(tmp_path: Path) -> None:
    gated = Gated(onnx_detector(tmp_path))
    shared = SharedDetector(gated, queue_size=3, max_batch=8)
    with shared:
        running = shared.submit(squares(("car", 0, 0)))
        assert gated.entered.wait(10)  # the worker holds the first; the queue is empty
        waiting = [shared.submit(squares(("person", 20 * n, 0))) for n in range(5)]

        assert shared.figures().queued == 3
        gated.gate.set()
        answers = [answer.exception(10) or answer.result() for answer in waiting]

    assert [type(answer) for answer in answers[:2]] == [DetectionDropped, DetectionDropped]
    assert [answer[0].box.x1 for answer in answers[2:]] == [40, 60, 80]  # type: ignore[index]
    assert running.result()[0].object_class is CAR
    assert gated.batches == [1, 3], "batched up to the backend's 4, of what waited"
    figures = shared.figures()
    assert (figures.requests, figures.detected, figures.dropped, figures.inferences) == (
        6,
        4,
        2,
        2,
    )


def test_stopping_drops_what_waits_and_refuses_more(tmp_path: Path) -> None:
    gated = Gated(onnx_detector(tmp_path))
    shared = SharedDetector(gated, queue_size=4)
    shared.start()
    first = shared.submit(squares(("car", 0, 0)))
    assert gated.entered.wait(10)
    left = shared.submit(squares())

    stopper = threading.Thread(target=shared.stop)
    stopper.start()
    with pytest.raises(DetectionDropped, match="stopped"):
        left.result(10)
    gated.gate.set()
    stopper.join(10)

    assert first.result(1)[0].object_class is CAR, "the inference under way finishes"
    with pytest.raises(RuntimeError, match="not running"):
        shared.submit(squares())


def test_a_detector_error_reaches_its_caller_and_the_worker_goes_on(tmp_path: Path) -> None:
    model = build_square_detector(tmp_path / "m.onnx")
    wrong = OnnxDetector(model, OnnxModelOptions(("person", "car")))  # output does not fit
    with SharedDetector(wrong) as shared:
        with pytest.raises(ValueError, match="YOLOv8"):
            shared.detect(squares())
        with pytest.raises(ValueError, match="YOLOv8"):
            shared.detect(squares())
        with pytest.raises(ValueError, match="RGB picture"):
            shared.submit(np.zeros((4, 4), np.uint8))
