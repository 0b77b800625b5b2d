"""One interface for every object detector, and the per-class filter on what a detector keeps.

A detector takes an RGB picture of any size (usually a region the pipeline cropped around
motion), fits it to its model's input and gives its boxes back in that picture's own pixels.
Backends (components, in Viseron's words) plug in behind :class:`Detector`: LiteRT's SSD
MobileNet (``litert``), ONNX Runtime for a city's own YOLO-style model (``onnx``), one detector
shared by a node's cameras (``shared``); ``factory`` builds one from options.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from safecity.analytics.frames import Image
from safecity.analytics.objects import Detection, ObjectClass


class Detector(Protocol):
    @property
    def name(self) -> str:
        """Which model: shown in the node's figures and logs."""
        ...

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) of the model's input: the region size worth cropping (a region of
        that size is fed without scaling)."""
        ...

    @property
    def max_batch(self) -> int:
        """How many pictures one inference takes together; 1 when ``detect_batch`` loops."""
        ...

    def detect(self, image: Image) -> list[Detection]:
        """What the model finds in ``image`` (height × width × 3, RGB, uint8), boxes in its
        pixels, as the detector's filter keeps them. ValueError for any other picture."""
        ...

    def detect_batch(self, images: Sequence[Image]) -> list[list[Detection]]:
        """``detect`` for each picture, in order, run together where the model allows."""
        ...


@dataclass(frozen=True, slots=True)
class ClassLimits:
    min_score: float
    """The least confidence (0..1) a detection of the class needs."""
    min_area: float = 0.0
    """The least box area, in pixels of the picture given to the detector."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"a minimum score is between 0 and 1, got {self.min_score}")
        if self.min_area < 0:
            raise ValueError(f"a minimum area cannot be negative, got {self.min_area}")


DEFAULT_LIMITS: Mapping[ObjectClass, ClassLimits] = MappingProxyType(
    {
        # Scores: Frigate's default 0.5 where the model is sure of its classes; bicycles and
        # bags are small and partly hidden (a bag on a shoulder), found at lower scores.
        # Areas, for a 640×360 detect frame: below a person of ~8×18 px, a car of ~25×16 px,
        # a bus or truck of ~40×22 px, what SSD MobileNet reports is mostly noise.
        ObjectClass.PERSON: ClassLimits(0.5, 150),
        ObjectClass.BICYCLE: ClassLimits(0.4, 150),
        ObjectClass.CAR: ClassLimits(0.5, 400),
        ObjectClass.MOTORCYCLE: ClassLimits(0.5, 150),
        ObjectClass.BUS: ClassLimits(0.5, 900),
        ObjectClass.TRUCK: ClassLimits(0.5, 900),
        ObjectClass.BAG: ClassLimits(0.4, 64),
    }
)
"""What a detector keeps unless a city says otherwise."""


@dataclass(frozen=True, slots=True)
class ObjectFilter:
    """Which detections are worth passing on: per class, a least score and a least box area.
    A class without limits is dropped, so a camera that watches only people names only
    ``person``."""

    limits: Mapping[ObjectClass, ClassLimits] = field(default_factory=lambda: DEFAULT_LIMITS)

    @classmethod
    def of(
        cls,
        classes: Iterable[ObjectClass] | None = None,
        *,
        min_scores: Mapping[ObjectClass, float] | None = None,
        min_areas: Mapping[ObjectClass, float] | None = None,
    ) -> ObjectFilter:
        """The defaults, cut to ``classes`` (default: all), with a city's own minimums."""
        chosen = set(DEFAULT_LIMITS if classes is None else classes)
        stray = (set(min_scores or {}) | set(min_areas or {})) - chosen
        if stray:
            named = ", ".join(sorted(stray))
            raise ValueError(f"minimums given for {named}, which the detector does not keep")
        limits = {}
        for object_class in sorted(chosen):
            default = DEFAULT_LIMITS[object_class]
            limits[object_class] = ClassLimits(
                (min_scores or {}).get(object_class, default.min_score),
                (min_areas or {}).get(object_class, default.min_area),
            )
        return cls(MappingProxyType(limits))

    @property
    def lowest_score(self) -> float:
        """No detection under this score can pass: what a backend cuts at before anything
        else (1.0 keeps nothing, when no class is watched)."""
        return min((limit.min_score for limit in self.limits.values()), default=1.0)

    def keeps(self, detection: Detection) -> bool:
        limit = self.limits.get(detection.object_class)
        return (
            limit is not None
            and detection.score >= limit.min_score
            and detection.box.area >= limit.min_area
        )

    def apply(self, detections: Iterable[Detection]) -> list[Detection]:
        return [detection for detection in detections if self.keeps(detection)]


def check_image(image: Image) -> None:
    """ValueError unless ``image`` is what a detector takes: height × width × 3, uint8."""
    if image.dtype != "uint8" or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            "a detector takes an RGB picture (height × width × 3, uint8), "
            f"got shape {image.shape} of {image.dtype}"
        )
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"a detector takes a picture with pixels, got shape {image.shape}")
