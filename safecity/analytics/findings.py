"""What a camera's analysis found in a frame, before it is stored and sent to the OCC."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from safecity.analytics.frames import Image
from safecity.analytics.objects import Box, ObjectClass


@dataclass(frozen=True)
class Finding:
    """A rule that fired (one per track per rule), or a tamper check raised or cleared."""

    rule_name: str
    rule_kind: str
    """The rule's kind (``definitions.RuleKind``): intrusion, line_crossing, …, tamper."""
    alert_kind: str
    """What the OCC calls it: the rule's kind, or ``tamper_<check>`` (tamper_covered…)."""
    at: float
    """When it fired (the frame's time, ``time.time()`` seconds)."""
    started_at: float
    """When the behaviour began (entered the zone, stopped, the picture went dark)."""
    confidence: float
    boxes: tuple[Box, ...]
    frame_size: tuple[int, int]
    object_class: ObjectClass | None = None
    track_id: int | None = None
    snapshot: Image | None = None
    """The best view of it (the track's best frame, or the frame itself), privacy masks
    applied; None for a cleared tamper check."""
    snapshot_boxes: tuple[Box, ...] | None = None
    """Where the object is in the snapshot, when that is another frame than ``boxes``'."""
    cleared: bool = False
    """A tamper check whose picture recovered: stored, not raised as an alert."""
    details: dict[str, Any] = field(default_factory=dict)
