"""The analytics' parts built from the settings (``analytics:`` in safecity.yaml)."""

from __future__ import annotations

from safecity.analytics.assets.cache import AssetCache
from safecity.analytics.assets.catalogue import SSD_MOBILENET
from safecity.analytics.decoding import DecodeOptions
from safecity.analytics.detectors.base import Detector
from safecity.analytics.detectors.factory import DetectorOptions, build_detector
from safecity.analytics.objects import ObjectClass
from safecity.settings import AnalyticsSettings


def asset_cache(settings: AnalyticsSettings) -> AssetCache:
    return AssetCache(settings.models_dir)


def detector_options(settings: AnalyticsSettings) -> DetectorOptions | None:
    """None when the city runs motion and tamper only (``detector.kind: none``)."""
    chosen = settings.detector
    if chosen.kind == "none":
        return None
    overrides = {ObjectClass(name): limits for name, limits in settings.objects.items()}
    onnx = chosen.kind == "onnx"
    model = str(chosen.model) if chosen.model is not None else SSD_MOBILENET
    return DetectorOptions(
        kind=chosen.kind,
        model=model,
        class_names=tuple(chosen.labels) if onnx else (),
        input_size=(chosen.input_size, chosen.input_size) if onnx else None,
        min_scores={name: limits.min_score for name, limits in overrides.items()},
        min_areas={
            name: float(limits.min_area) for name, limits in overrides.items() if limits.min_area
        },
        threads=chosen.threads,
        max_batch=chosen.max_batch,
    )


def build_configured_detector(settings: AnalyticsSettings) -> Detector | None:
    """The detector the settings name (None: motion and tamper only). Raises NotFetched
    (``safecity models fetch`` gets the model) or ValueError for a model that does not fit."""
    options = detector_options(settings)
    return None if options is None else build_detector(options, asset_cache(settings))


def decode_options(settings: AnalyticsSettings) -> DecodeOptions:
    return DecodeOptions(detect_fps=settings.detect_fps, detect_width=settings.detect_width)
