"""Simulated detections for the demo when no real footage can be had (offline, no cache).

The demo's analytics runs on real footage (safecity/demo/analytics.py); without it this stands
in for it, and says so: each detection's zone ends in "(simulated)", which the alert's title
shows, and its details carry ``simulated: true``. Now and then (every ``mean_seconds`` on average,
at random; the first a few seconds after start) it publishes a detection for one of the live cameras on ``analytics/events/<code>``,
exactly as the engine will. Everything after that is the real path: alert rules, folding,
grouping, the live feed to the console, SLA escalation.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from datetime import UTC, datetime

from safecity.bus import Bus
from safecity.core.periodic import PeriodicWork
from safecity.ops.alerts.analytics import events_topic

log = logging.getLogger(__name__)

# (kind, how often relative to the others, typical confidence)
DETECTIONS: tuple[tuple[str, int, float], ...] = (
    ("loitering", 5, 0.72),
    ("crowd", 4, 0.81),
    ("vehicle_stopped", 4, 0.77),
    ("intrusion", 2, 0.86),
    ("fight", 1, 0.68),
    ("smoke", 1, 0.74),
)
ZONES = ("entrance", "crossing", "car park", "playground", "gate")


class SimulatedDetections:
    def __init__(
        self,
        bus: Bus,
        camera_codes: Sequence[str],
        *,
        mean_seconds: float = 40.0,
        first_after: float = 8.0,
        seed: int | None = None,
    ) -> None:
        self._bus = bus
        self._codes = list(camera_codes)
        self._mean = mean_seconds
        self._random = random.Random(seed)
        # The first soon, so that someone who just opened the console sees one arrive.
        self._detections = PeriodicWork(
            "demo-detections",
            self.publish_one,
            first=first_after,
            every=lambda: self._random.expovariate(1 / self._mean),
            log=log,
            failed="the demo's simulated detection failed",
        )

    def start(self) -> None:
        if self._codes:
            self._detections.start()

    def stop(self) -> None:
        self._detections.stop(timeout=5)

    def publish_one(self) -> str:
        """Publish one made-up detection; returns its topic."""
        kinds, weights, confidences = zip(*DETECTIONS, strict=True)
        index = self._random.choices(range(len(kinds)), weights=weights)[0]
        code = self._random.choice(self._codes)
        confidence = min(0.99, max(0.3, self._random.gauss(confidences[index], 0.08)))
        topic = events_topic(code)
        self._bus.publish(
            topic,
            {
                "kind": kinds[index],
                "confidence": round(confidence, 2),
                "at": datetime.now(UTC).isoformat(),
                "zone": f"{self._random.choice(ZONES)} (simulated)",
                "details": {"simulated": True},
            },
        )
        return topic
