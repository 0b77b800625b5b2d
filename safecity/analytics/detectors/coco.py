"""The COCO labels that matter to a city, in SafeCity's words.

A model's label file says which id is which label; COCO's ids skip gaps (0 person, 2 car,
12 stop sign, …), so the ids are read from the file that comes with the model, never assumed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from safecity.analytics.objects import ObjectClass

LABEL_CLASSES: Mapping[str, ObjectClass] = MappingProxyType(
    {
        "person": ObjectClass.PERSON,
        "bicycle": ObjectClass.BICYCLE,
        "car": ObjectClass.CAR,
        "motorcycle": ObjectClass.MOTORCYCLE,
        "motorbike": ObjectClass.MOTORCYCLE,  # older COCO and VOC label files
        "bus": ObjectClass.BUS,
        "truck": ObjectClass.TRUCK,
        "backpack": ObjectClass.BAG,
        "handbag": ObjectClass.BAG,
        "suitcase": ObjectClass.BAG,
    }
)
"""COCO's label → our class; a city's own model may also use our names (``bag``)."""


def class_for_label(label: str) -> ObjectClass | None:
    """Our class for a model's label (COCO's or ours, any case), or None: not watched."""
    name = label.strip().lower()
    found = LABEL_CLASSES.get(name)
    if found is not None:
        return found
    try:
        return ObjectClass(name)
    except ValueError:
        return None


def read_labels(path: Path) -> dict[int, str]:
    """A label file: ``<id> <label>`` per line (Coral's format, ids with gaps), or one label
    per line (the id is the line's number, from 0). ValueError naming the line when neither."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the label file {path}: {exc}") from exc
    labels: dict[int, str] = {}
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        first, _, rest = line.strip().partition(" ")
        label_id, label = (int(first), rest.strip()) if first.isdigit() else (number, line.strip())
        if not label or label_id in labels:
            raise ValueError(f"{path} line {number + 1}: expected '<id> <label>', got {line!r}")
        labels[label_id] = label
    if not labels:
        raise ValueError(f"the label file {path} names no label")
    return labels


def classes_by_id(labels: Mapping[int, str] | Sequence[str]) -> dict[int, ObjectClass]:
    """Model class id → our class, for the labels a city watches (others are left out)."""
    pairs = labels.items() if isinstance(labels, Mapping) else enumerate(labels)
    return {
        label_id: found
        for label_id, label in pairs
        if (found := class_for_label(label)) is not None
    }
