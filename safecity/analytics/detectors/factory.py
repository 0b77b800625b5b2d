"""A detector built from options: which backend, which model, which classes, how strict.

A model is a file path or the name of a pinned asset (``safecity models list``); an asset is
looked up in the local cache, never fetched from here (``safecity models fetch`` does that).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from safecity.analytics.assets.cache import AssetCache
from safecity.analytics.assets.catalogue import ASSETS, SSD_MOBILENET, Role
from safecity.analytics.detectors.base import Detector, ObjectFilter
from safecity.analytics.detectors.litert import SsdMobileNetDetector
from safecity.analytics.detectors.onnx import OnnxDetector, OnnxModelOptions
from safecity.analytics.objects import ObjectClass

DetectorKind = Literal["ssd_mobilenet_v2", "onnx"]


@dataclass(frozen=True, slots=True)
class DetectorOptions:
    kind: DetectorKind = "ssd_mobilenet_v2"
    """``ssd_mobilenet_v2`` (LiteRT, the default) or ``onnx`` (a city's own YOLO-style model)."""
    model: str = SSD_MOBILENET
    """A model file's path, or the name of a pinned asset."""
    labels: str | None = None
    """SSD: the label file's path (default: the labels of the model's asset)."""
    class_names: tuple[str, ...] = ()
    """ONNX: the model's class labels in its own order."""
    input_size: tuple[int, int] | None = None
    """(width, height): needed for an ONNX model with a dynamic input; else checked against
    the model's."""
    classes: tuple[ObjectClass, ...] | None = None
    """The classes kept (default: every class SafeCity knows)."""
    min_scores: Mapping[ObjectClass, float] = field(default_factory=dict)
    """Per class, instead of the default least score (base.DEFAULT_LIMITS)."""
    min_areas: Mapping[ObjectClass, float] = field(default_factory=dict)
    """Per class, instead of the default least box area in pixels."""
    score_threshold: float = 0.25
    """ONNX: candidates under this score are not considered."""
    nms_iou: float = 0.45
    """ONNX: the overlap above which non-maximum suppression keeps one box."""
    threads: int = 1
    """Inference threads: 1 keeps a node's cores for decoding and the other cameras."""
    max_batch: int = 8
    """ONNX with a dynamic batch: the most pictures one inference takes."""


def build_detector(options: DetectorOptions, cache: AssetCache | None = None) -> Detector:
    """The detector ``options`` describe. ValueError for options that do not fit the model;
    NotFetched (an AssetError) when a pinned model is not in the cache."""
    cache = cache or AssetCache()
    object_filter = ObjectFilter.of(
        options.classes, min_scores=options.min_scores, min_areas=options.min_areas
    )
    model = _file(options.model, Role.MODEL, cache)
    if options.kind == "ssd_mobilenet_v2":
        labels = _ssd_labels(options, cache)
        ssd = SsdMobileNetDetector(
            model, labels, object_filter=object_filter, threads=options.threads
        )
        if options.input_size not in (None, ssd.input_size):
            raise ValueError(f"{model} takes {ssd.input_size}, not the input size set")
        return ssd
    if options.kind == "onnx":
        onnx_options = OnnxModelOptions(
            class_names=options.class_names,
            input_size=options.input_size,
            score_threshold=options.score_threshold,
            nms_iou=options.nms_iou,
            threads=options.threads,
            max_batch=options.max_batch,
        )
        return OnnxDetector(model, onnx_options, object_filter=object_filter)
    raise ValueError(f"unknown detector kind {options.kind!r}: ssd_mobilenet_v2 or onnx")


def _ssd_labels(options: DetectorOptions, cache: AssetCache) -> Path:
    if options.labels is not None:
        return _file(options.labels, Role.LABELS, cache)
    if options.model in ASSETS:
        return _file(options.model, Role.LABELS, cache)
    raise ValueError(f"the model file {options.model} needs its label file: set labels")


def _file(name: str, role: Role, cache: AssetCache) -> Path:
    """The cached file for ``role`` of the asset ``name``, or the file at path ``name``."""
    asset = ASSETS.get(name)
    if asset is not None:
        return cache.require(asset, asset.with_role(role))
    path = Path(name).expanduser()
    if not path.is_file():
        raise ValueError(f"no {role} file {path} (nor a pinned asset of that name)")
    return path
