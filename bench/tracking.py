"""Cost per frame of tracking, the rule engine and the counts, with 0, 10 and 50 objects.

Run by hand from the repository root:

    .venv/bin/python bench/tracking.py [--frames 3000] [--objects 0 10 50]

The detections are made up front (people walking straight across a 640×360 picture at
30–80 px/s, boxes jittering by 2 px, 5% of them missed and a fifth of them weak, a new walker
for each who leaves), so the figures are the analytics' own: ``Tracker.update``, then
``RuleEngine.update`` with one rule of each object kind (intrusion, line crossing, loitering,
crowd, stopped vehicle, object left), then ``CountBins.update`` — per frame, in µs (median,
mean, 99th percentile, after 100 frames of warm-up). ``uptime`` is printed before and after:
the machine is shared, so compare figures from one run.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from safecity.analytics.counting import CountBins
from safecity.analytics.objects import Box, Detection, ObjectClass
from safecity.analytics.rules.definitions import (
    CameraRules,
    Crowd,
    LineCrossing,
    Loitering,
    ObjectLeft,
    StoppedVehicle,
    ZoneIntrusion,
)
from safecity.analytics.rules.engine import RuleEngine
from safecity.analytics.tracking import Tracker

WIDTH, HEIGHT, FPS = 640, 360, 5.0
START = 1_741_942_800.0  # 2025-03-14 09:00 UTC
WARM_UP = 100
RULES = CameraRules(
    rules=[
        ZoneIntrusion(name="yard", zone=[(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)]),
        LineCrossing(name="gate", line=((0.1, 0.5), (0.9, 0.5))),
        Loitering(name="atm", zone=[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]),
        Crowd(name="square", count=20),
        StoppedVehicle(name="bus lane", zone=[(0.0, 0.6), (1.0, 0.6), (1.0, 1.0), (0.0, 1.0)]),
        ObjectLeft(name="platform"),
    ]
)


class Walker:
    def __init__(self, rng: random.Random) -> None:
        self.w = rng.uniform(20, 40)
        self.h = self.w * rng.uniform(2.2, 2.8)
        self.y = rng.uniform(self.h, HEIGHT)
        rightwards = rng.random() < 0.5
        self.x = -self.w if rightwards else WIDTH + self.w
        self.vx = rng.uniform(30, 80) * (1 if rightwards else -1)
        self.vy = rng.uniform(-10, 10)

    def step(self, dt: float) -> bool:
        """Walk on; False once out of the picture."""
        self.x += self.vx * dt
        self.y += self.vy * dt
        return -2 * self.w < self.x < WIDTH + 2 * self.w and self.h < self.y < HEIGHT + self.h

    def detection(self, rng: random.Random) -> Detection | None:
        if rng.random() < 0.05:
            return None
        j = [rng.uniform(-2, 2) for _ in range(4)]
        box = Box(
            self.x - self.w / 2 + j[0],
            self.y - self.h + j[1],
            self.x + self.w / 2 + j[2],
            self.y + j[3],
        ).clipped(WIDTH, HEIGHT)
        if box.area < 10:
            return None
        score = rng.uniform(0.3, 0.5) if rng.random() < 0.2 else rng.uniform(0.5, 0.95)
        return Detection(ObjectClass.PERSON, score, box)


def scene(objects: int, frames: int, seed: int = 1) -> list[list[Detection]]:
    rng = random.Random(seed)
    walkers = [Walker(rng) for _ in range(objects)]
    for walker in walkers:  # spread them over the picture from the start
        walker.x = rng.uniform(0, WIDTH)
    out = []
    for _ in range(frames):
        walkers = [w if w.step(1 / FPS) else Walker(rng) for w in walkers]
        out.append([d for w in walkers if (d := w.detection(rng)) is not None])
    return out


def measure(objects: int, frames: int) -> dict[str, list[float]]:
    detections = scene(objects, frames + WARM_UP)
    tracker = Tracker()
    engine = RuleEngine(RULES, WIDTH, HEIGHT, ZoneInfo("Asia/Almaty"))
    counts = CountBins(RULES, WIDTH, HEIGHT)
    figures: dict[str, list[float]] = {"tracker": [], "rules": [], "counts": [], "all": []}
    clock = time.perf_counter_ns
    for i, found in enumerate(detections):
        at = START + i / FPS
        t0 = clock()
        update = tracker.update(at, found)
        t1 = clock()
        engine.update(at, update.tracks, update.ended)
        t2 = clock()
        counts.update(update)
        counts.drain(at)
        t3 = clock()
        if i >= WARM_UP:
            figures["tracker"].append((t1 - t0) / 1000)
            figures["rules"].append((t2 - t1) / 1000)
            figures["counts"].append((t3 - t2) / 1000)
            figures["all"].append((t3 - t0) / 1000)
    tracks = len(update.tracks)
    print(f"  {objects} objects: {tracks} confirmed tracks in the last frame")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3000)
    parser.add_argument("--objects", type=int, nargs="+", default=[0, 10, 50])
    args = parser.parse_args()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    results = {n: measure(n, args.frames) for n in args.objects}
    print(f"\nµs per frame over {args.frames} frames (median / mean / p99):")
    print(f"{'objects':>8} {'tracker':>20} {'rules':>20} {'counts':>20} {'all':>20}")
    for n, figures in results.items():
        cells = []
        for name in ("tracker", "rules", "counts", "all"):
            values = sorted(figures[name])
            p99 = values[int(len(values) * 0.99) - 1]
            cells.append(
                f"{statistics.median(values):6.0f} /{statistics.fmean(values):6.0f} /{p99:6.0f}"
            )
        print(f"{n:>8} " + " ".join(f"{cell:>20}" for cell in cells))
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
