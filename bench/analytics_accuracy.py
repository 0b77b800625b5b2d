"""Analytics accuracy on real footage against counts made by hand.

Run by hand from the repository root (the pinned model and footage are fetched once):

    .venv/bin/python bench/analytics_accuracy.py

Everything runs at the default settings (5 fps detect rate, 640 px detect width, SSD MobileNet
v2 on LiteRT with the default per-class limits, tamper sensitivity medium unless said).

1. **People per frame** on OpenCV's vtest.avi (a plaza, 768×576, 10 fps, 79.5 s) at the 20
   offsets counted by hand in ``bench/data/vtest_people.csv`` (how: see that file and
   docs/analytics.md). Three readings of the pipeline: the people the detector found in that
   frame's regions (0 when it did not run: nothing moved); the person tracks it was following
   then (confirmed, seen in the last second); and, for comparison, the detector on the whole
   frame. Counts are compared, not boxes: "found" is the smaller of the two counts summed over
   the frames, over the hand count (a recall that cannot tell a miss plus a false box from a
   hit).
2. **Line crossings** over a vertical line at x = 0.65 of the picture, top to bottom, against
   the crossings counted by hand in ``bench/data/vtest_crossings.csv`` (time and direction as
   seen on the screen). Two line rules, one per direction, each fire once per track; a hand
   crossing is matched by a rule hit of its direction within 1.5 s. The counts of city life
   (every crossing) are printed too.
3. **Tamper onset**: vtest.avi re-encoded as H.264 (2 s GOP, as a camera sends it) with the
   lens covered, blurred, the camera turned (an 80% window moved by 8% of the width), the
   picture frozen or darkened from 10 s to 40 s; raised - onset and cleared - end per check,
   at each sensitivity.
4. **False alerts** on the untouched footage: tamper on vtest.avi and on tree.avi (a tree in
   the wind, 29.6 s), and person events (an intrusion rule on the whole picture) on tree.avi,
   extrapolated per hour — from under two minutes of footage, which the figures say.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import cast

# Run from a checkout without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import av
import cv2
import numpy as np

from safecity.analytics.analysis import CameraAnalytics
from safecity.analytics.assets.cache import AssetCache
from safecity.analytics.assets.catalogue import OPENCV_FOOTAGE, asset_named
from safecity.analytics.assets.fetch import fetch
from safecity.analytics.decoding import DecodeOptions, file_frames
from safecity.analytics.detectors.base import Detector
from safecity.analytics.frames import Image
from safecity.analytics.objects import ObjectClass
from safecity.analytics.offline import OfflineEvent, analyse_file
from safecity.analytics.rules.definitions import CameraRules, LineCrossing, Tamper, ZoneIntrusion
from safecity.analytics.setup import build_configured_detector
from safecity.analytics.tamper import Sensitivity
from safecity.settings import AnalyticsSettings

DATA = Path(__file__).resolve().parent / "data"
LINE_X = 0.65
MATCH_SECONDS = 1.5
ONSET, END = 10.0, 40.0
SENSITIVITIES: tuple[Sensitivity, ...] = ("high", "medium", "low")
SEEN_SECONDS = 1.0
"""A track counts as in view when the detector saw it within this long."""
SCREEN = {"forward": "right_to_left", "backward": "left_to_right"}
"""The line is drawn downward: its left side is the screen's right (rules/definitions.py)."""


def uptime() -> None:
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


def footage(name: str) -> Path:
    return fetch(asset_named(OPENCV_FOOTAGE), AssetCache()).paths[name]


def people(detections: Sequence[object]) -> int:
    return sum(1 for d in detections if getattr(d, "object_class", None) == ObjectClass.PERSON)


# -- 1 and 2: people per frame and line crossings on the plaza ------------------------------


@dataclass
class PlazaRun:
    regions: dict[float, int]
    """Per hand-counted offset: people the detector found in that frame's regions."""
    tracked: dict[float, int]
    """Per hand-counted offset: person tracks in view."""
    whole: dict[float, int]
    """Per hand-counted offset: people the detector finds on the whole frame."""
    crossings: list[tuple[float, str]]
    """(offset, screen direction) of each line rule hit."""
    counted: dict[str, int]
    """Crossings by screen direction in the counts of city life (every crossing)."""
    detector_frames: int
    frames: int


def plaza_run(detector: Detector, offsets: Sequence[float]) -> PlazaRun:
    line = ((LINE_X, 0.0), (LINE_X, 1.0))
    rules = CameraRules(
        rules=[
            LineCrossing(name="right_to_left", line=line, direction="forward"),
            LineCrossing(name="left_to_right", line=line, direction="backward"),
        ]
    )
    analytics = CameraAnalytics(rules, detector, UTC)
    regions, tracked, whole = {}, {}, {}
    crossings: list[tuple[float, str]] = []
    counted = {"right_to_left": 0, "left_to_right": 0}
    in_view: list[tuple[ObjectClass, float]] = []
    frames = detector_frames = 0
    rows = []
    for frame in file_frames(footage("vtest.avi"), DecodeOptions(), started_at=0.0):
        analysis = analytics.analyse(frame)
        frames += 1
        detector_frames += 1 if analysis.regions else 0
        if analysis.tracked is not None:
            in_view = [(t.object_class, t.last_seen) for t in analysis.tracked.tracks]
        for finding in analysis.findings:
            crossings.append((finding.started_at, finding.rule_name))
        rows += analysis.counts
        due = next((o for o in offsets if abs(o - frame.offset) < 0.05), None)
        if due is not None:
            regions[due] = people(analysis.detections)
            tracked[due] = sum(
                1
                for kind, seen in in_view
                if kind == ObjectClass.PERSON and frame.at - seen <= SEEN_SECONDS
            )
            whole[due] = people(detector.detect(frame.image))
    rows += analytics.finish().counts
    for row in rows:
        if row.scope == "line" and row.scope_name == "right_to_left":
            counted[SCREEN[row.direction]] += row.count
    return PlazaRun(regions, tracked, whole, crossings, counted, detector_frames, frames)


def read_people() -> dict[float, tuple[int, int]]:
    with (DATA / "vtest_people.csv").open(encoding="utf-8") as file:
        return {
            float(row["offset"]): (int(row["people"]), int(row["partial"]))
            for row in csv.DictReader(file)
        }


def read_crossings() -> list[tuple[float, str, str]]:
    with (DATA / "vtest_crossings.csv").open(encoding="utf-8") as file:
        return [
            (float(row["offset"]), row["direction"], row["note"]) for row in csv.DictReader(file)
        ]


def people_table(hand: dict[float, tuple[int, int]], run: PlazaRun) -> None:
    truth = [hand[o][0] for o in sorted(hand)]
    total = sum(truth)
    partial = sum(p for _, p in hand.values())
    print(
        f"\npeople per frame, vtest.avi: {len(hand)} frames counted by hand, {total} people "
        f"({partial} of them partly hidden or cut by the edge)"
    )
    print(f"  {'reading':<46} {'MAE':>5} {'bias':>6} {'found':>6} {'extra':>6}")
    for name, counts in (
        ("detector on the frame's motion regions", run.regions),
        ("person tracks in view (seen ≤ 1 s ago)", run.tracked),
        ("detector on the whole frame (comparison)", run.whole),
    ):
        guessed = [counts[o] for o in sorted(hand)]
        errors = [g - t for g, t in zip(guessed, truth, strict=True)]
        matched = sum(min(g, t) for g, t in zip(guessed, truth, strict=True))
        print(
            f"  {name:<46} {np.mean(np.abs(errors)):5.2f} {np.mean(errors):+6.2f} "
            f"{100 * matched / total:5.0f}% {100 * (sum(guessed) - matched) / total:5.0f}%"
        )
    print("  per frame (offset: hand / regions / tracked / whole):")
    cells = [
        f"{o:4.0f}s {hand[o][0]}/{run.regions[o]}/{run.tracked[o]}/{run.whole[o]}"
        for o in sorted(hand)
    ]
    for at in range(0, len(cells), 5):
        print("   ", "   ".join(cells[at : at + 5]))
    print(
        "  MAE: mean absolute error in people per frame; bias: mean of (pipeline - hand); "
        "found: Σ min(pipeline, hand) / Σ hand; extra: Σ (pipeline - that) / Σ hand"
    )


def match(
    hand: list[tuple[float, str, str]], hits: list[tuple[float, str]]
) -> tuple[list[tuple[float, float, str]], list[int], list[int]]:
    """Hand crossings paired with rule hits of the same direction within ``MATCH_SECONDS``,
    closest pairs first: (hand time, hit time, direction), and the hand and hit indices left
    over."""
    pairs = sorted(
        (abs(got - at), h, g)
        for h, (at, direction, _) in enumerate(hand)
        for g, (got, way) in enumerate(hits)
        if way == direction and abs(got - at) <= MATCH_SECONDS
    )
    matched, used_hand, used_hits = [], set(), set()
    for _, h, g in pairs:
        if h not in used_hand and g not in used_hits:
            used_hand.add(h)
            used_hits.add(g)
            matched.append((hand[h][0], hits[g][0], hand[h][1]))
    missed = [h for h in range(len(hand)) if h not in used_hand]
    extra = [g for g in range(len(hits)) if g not in used_hits]
    return sorted(matched), missed, extra


def crossings_table(hand: list[tuple[float, str, str]], run: PlazaRun) -> None:
    matched, missed, extra = match(hand, run.crossings)
    print(
        f"\nline crossings, vtest.avi, a vertical line at x = {LINE_X} (top to bottom): "
        f"{len(hand)} counted by hand"
    )
    print(
        f"  {'direction on the screen':<24} {'hand':>5} {'rule hits':>10} {'matched':>8} "
        f"{'missed':>7} {'extra':>6} {'every crossing':>15}"
    )
    for direction in ("right_to_left", "left_to_right"):
        print(
            f"  {direction.replace('_', ' '):<24} "
            f"{sum(1 for _, d, _ in hand if d == direction):5d} "
            f"{sum(1 for _, d in run.crossings if d == direction):10d} "
            f"{sum(1 for _, _, d in matched if d == direction):8d} "
            f"{sum(1 for h in missed if hand[h][1] == direction):7d} "
            f"{sum(1 for g in extra if run.crossings[g][1] == direction):6d} "
            f"{run.counted[direction]:15d}"
        )
    if matched:
        late = [got - at for at, got, _ in matched]
        print(
            f"  matched within {MATCH_SECONDS} s: {len(matched)} of {len(hand)} "
            f"({100 * len(matched) / len(hand):.0f}%); rule hit - hand time: median "
            f"{np.median(late):+.1f} s, worst {max(late, key=abs):+.1f} s"
        )
    for h in missed:
        at, direction, note = hand[h]
        print(
            f"  missed: {at:5.1f} s {direction.replace('_', ' ')}" + (f" ({note})" if note else "")
        )
    for g in extra:
        got, direction = run.crossings[g]
        print(f"  extra:  {got:5.1f} s {direction.replace('_', ' ')} (no hand crossing)")
    print(
        "  rule hits: one per track and direction (a rule per direction); every crossing: the "
        "counts of city life (every crossing of every track)"
    )


# -- 3: tamper onset -------------------------------------------------------------------------


def decoded(path: Path) -> list[Image]:
    with av.open(str(path)) as container:
        return [cast(Image, f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


def window(picture: Image, dx: float = 0.0) -> Image:
    """The middle 80% of the picture, moved by ``dx`` of its width."""
    height, width = picture.shape[:2]
    w, h = int(width * 0.8) // 2 * 2, int(height * 0.8) // 2 * 2
    x, y = (width - w) // 2 + int(dx * width), (height - h) // 2
    return np.ascontiguousarray(picture[y : y + h, x : x + w])


def shade(picture: Image) -> Image:
    """A cloth over the lens: the picture's light, smeared into a soft shade."""
    height, width = picture.shape[:2]
    blotch = cv2.resize(picture, (4, 3), interpolation=cv2.INTER_AREA)
    return (cv2.resize(blotch, (width, height), interpolation=cv2.INTER_LINEAR) // 2 + 30).astype(
        np.uint8
    )


EFFECTS: dict[str, Callable[[Image], Image]] = {
    "covered": shade,
    "defocus": lambda p: cast(Image, cv2.GaussianBlur(p, (0, 0), 6)),
    "moved": lambda p: window(p, dx=0.08),
    "dark": lambda p: (p * 0.15).astype(np.uint8),
}
CASES = {
    "covered": "covered",
    "defocus": "defocus",
    "moved": "moved",
    "dark": "dark",
    "frozen": "frozen",
    "frozen, 80% window": "frozen",
}
"""Each clip and the check it should raise. The camera turned is an 80% window of the
picture, moved; the others are the whole picture, and the freeze once more in a window."""


def tampered(pictures: Sequence[Image], case: str, fps: float) -> Iterator[Image]:
    framed = case in ("moved", "frozen, 80% window")
    stuck: Image | None = None
    for index, picture in enumerate(pictures):
        seen = window(picture) if framed else picture
        if not ONSET <= index / fps < END:
            yield seen
        elif CASES[case] == "frozen":
            stuck = seen if stuck is None else stuck
            yield stuck
        else:
            yield EFFECTS[case](picture)


def encode(pictures: Iterator[Image], target: Path, fps: float) -> Path:
    """H.264 as a camera sends it (as safecity.demo.footage.h264_copy makes it)."""
    with av.open(str(target), "w", format="mp4") as writer:
        stream = writer.add_stream("libx264", rate=round(fps))
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "26", "bf": "0", "g": str(round(2 * fps))}
        for index, picture in enumerate(pictures):
            if index == 0:
                stream.width, stream.height = picture.shape[1], picture.shape[0]
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            writer.mux(stream.encode(frame))
        writer.mux(stream.encode(None))
    return target


def tamper_events(path: Path, sensitivity: Sensitivity) -> list[OfflineEvent]:
    rules = CameraRules(rules=[Tamper(name="tamper", sensitivity=sensitivity)])
    return list(analyse_file(path, rules, None, UTC, started_at=0.0))


def tamper_table(folder: Path) -> None:
    pictures = decoded(footage("vtest.avi"))
    print(
        f"\ntamper onset, vtest.avi as H.264 (10 fps, 2 s GOP), tampered from {ONSET:.0f} s to "
        f"{END:.0f} s: raised - onset / cleared - end, in seconds"
    )
    print(f"  {'clip':<20} " + " ".join(f"{s:>22}" for s in SENSITIVITIES))
    for at, (case, check) in enumerate(CASES.items()):
        clip = encode(tampered(pictures, case, 10.0), folder / f"tampered-{at}.mp4", 10.0)
        cells = []
        for sensitivity in SENSITIVITIES:
            events = tamper_events(clip, sensitivity)
            raised = [e for e in events if e.type == "tamper_raised"]
            cleared = [e for e in events if e.type == "tamper_cleared"]
            right = [e for e in raised if e.data["check"] == check]
            wrong = sorted({str(e.data["check"]) for e in raised if e.data["check"] != check})
            up = f"{right[0].offset - ONSET:+.1f}" if right else "not raised"
            down = next(
                (f"{e.offset - END:+.1f}" for e in cleared if e.data["check"] == check), "—"
            )
            cell = f"{up} / {down}" + (f" +{','.join(wrong)}" if wrong else "")
            cells.append(f"{cell:>22}")
        print(f"  {case:<20} " + " ".join(cells))
    print(
        "  hold times: high 2 s (frozen 5 s), medium 4 s (10 s), low 8 s (30 s: longer than the "
        "30 s freeze); clearing needs 2 s of recovered picture; '+x': another check raised too"
    )


# -- 4: false alerts on untouched footage ---------------------------------------------------


def false_alerts(detector: Detector) -> None:
    vtest, tree = footage("vtest.avi"), footage("tree.avi")
    lengths = {}
    for path in (vtest, tree):
        with av.open(str(path)) as container:
            assert container.duration is not None
            lengths[path.name] = container.duration / 1_000_000
    print("\nfalse alerts on untouched footage (tamper at each sensitivity; person events)")
    print(f"  {'footage':<34} {'seconds':>8} {'alerts':>7} {'per hour':>9}")
    for path in (vtest, tree):
        for sensitivity in SENSITIVITIES:
            events = tamper_events(path, sensitivity)
            raised = [e for e in events if e.type == "tamper_raised"]
            rate = len(raised) / lengths[path.name] * 3600
            name = f"{path.name}, tamper {sensitivity}"
            what = ", ".join(str(e.data["check"]) for e in raised)
            print(
                f"  {name:<34} {lengths[path.name]:8.1f} {len(raised):7d} {rate:9.0f}"
                + (f"  ({what})" if what else "")
            )
    intrusion = ZoneIntrusion(name="anyone")
    analytics_events = list(
        analyse_file(
            tree,
            CameraRules(rules=[intrusion]),
            detector,
            UTC,
            started_at=0.0,
            detections=True,
        )
    )
    hits = [e for e in analytics_events if e.type == "rule"]
    found = sum(
        1
        for e in analytics_events
        if e.type == "detections"
        for o in e.data["objects"]
        if o["class"] == "person"
    )
    frames = sum(1 for e in analytics_events if e.type == "detections")
    print(
        f"  {'tree.avi, person intrusion':<34} {lengths['tree.avi']:8.1f} {len(hits):7d} "
        f"{len(hits) / lengths['tree.avi'] * 3600:9.0f}  (detector ran on {frames} frames, "
        f"{found} person boxes)"
    )
    observed = sum(lengths.values())
    print(
        f"  {observed:.0f} s of negative footage in all: one false alert in it would read as "
        f"{3600 / lengths['vtest.avi']:.0f}/h on vtest and {3600 / lengths['tree.avi']:.0f}/h "
        "on tree; zero says little more than 'not every minute'"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--parts", default="people,tamper,false", help="which parts to run, comma-separated"
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    cv2.setNumThreads(1)
    uptime()
    detector = build_configured_detector(AnalyticsSettings())
    assert detector is not None
    print(f"detector: {detector.name}; defaults: 5 fps, 640 px detect width")
    if "people" in parts:
        started = time.perf_counter()
        hand = read_people()
        run = plaza_run(detector, sorted(hand))
        print(
            f"\nplaza run: {run.frames} frames analysed, the detector on {run.detector_frames}"
            f" ({time.perf_counter() - started:.0f} s)"
        )
        people_table(hand, run)
        crossings_table(read_crossings(), run)
    with tempfile.TemporaryDirectory(prefix="safecity-accuracy-") as temp:
        if "tamper" in parts:
            tamper_table(Path(temp))
    if "false" in parts:
        false_alerts(detector)
    uptime()


if __name__ == "__main__":
    main()
