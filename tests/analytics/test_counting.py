"""Counts of city life on synthetic scenes (tests/analytics/scenes.py), tracked by the tracker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from safecity.analytics.counting import CountBins, CountRow
from safecity.analytics.objects import ObjectClass
from safecity.analytics.rules.definitions import (
    CameraRules,
    LineCrossing,
    Loitering,
    Rule,
    ZoneIntrusion,
)
from safecity.analytics.tracking import Tracker
from safecity.city.schedule import WatchWindow
from tests.analytics.scenes import HEIGHT, T0, WIDTH, Mover, frames, walk

PERSON, CAR = ObjectClass.PERSON, ObjectClass.CAR
RIGHT_HALF = [(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)]
ACROSS = ((0.1, 0.5), (0.9, 0.5))
NINE = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
"""T0, the scenes' start."""


def count(
    rules: Sequence[Rule],
    movers: Sequence[Mover],
    seconds: float,
    start: float = T0,
    bin_seconds: int = 900,
) -> list[CountRow]:
    """Every row, drained frame by frame as a pipeline would, and flushed at the end."""
    tracker = Tracker()
    bins = CountBins(CameraRules(rules=list(rules)), WIDTH, HEIGHT, bin_seconds)
    rows = []
    for t, _, found in frames(movers, seconds):
        bins.update(tracker.update(start + t, found))
        rows += bins.drain(start + t)
    bins.update(tracker.finish())
    return rows + bins.flush()


def table(rows: list[CountRow]) -> dict[tuple[str, str, str, str, str], int]:
    return {
        (f"{row.bin_start:%H:%M}", row.scope, row.scope_name, row.object_class, row.direction): (
            row.count
        )
        for row in rows
    }


def test_the_camera_counts_each_track_once_by_class() -> None:
    movers = [
        walk(PERSON, (20, 150), (620, 150), 0, 10),
        walk(PERSON, (620, 250), (20, 250), 0, 10, hidden=((4, 5),)),
        walk(PERSON, (100, 340), (540, 340), 2, 9),
        walk(CAR, (20, 300), (620, 300), 0, 5, size=(100, 50)),
    ]
    rows = count([], movers, 10)
    assert table(rows) == {
        ("09:00", "camera", "", "car", ""): 1,
        ("09:00", "camera", "", "person", ""): 3,
    }
    assert rows[0].bin_start == NINE


def test_bins_follow_the_utc_clock_and_only_finished_ones_are_drained() -> None:
    start = T0 + 14 * 60 + 50  # 09:14:50
    first = walk(PERSON, (20, 150), (620, 150), 0, 10)
    second = walk(PERSON, (20, 250), (620, 250), 20, 30)
    tracker = Tracker()
    bins = CountBins(CameraRules(), WIDTH, HEIGHT)
    drained: list[tuple[float, list[CountRow]]] = []
    for t, _, found in frames([first, second], 30):
        bins.update(tracker.update(start + t, found))
        drained.append((t, bins.drain(start + t)))
    assert [(t, table(rows)) for t, rows in drained if rows] == [
        (10.0, {("09:00", "camera", "", "person", ""): 1})
    ]
    assert table(bins.flush()) == {("09:15", "camera", "", "person", ""): 1}
    assert bins.flush() == []


def test_bins_can_be_shorter() -> None:
    movers = [
        walk(PERSON, (20, 150), (620, 150), 0, 5),
        walk(PERSON, (20, 250), (620, 250), 61, 70),
    ]
    assert table(count([], movers, 70, bin_seconds=60)) == {
        ("09:00", "camera", "", "person", ""): 1,
        ("09:01", "camera", "", "person", ""): 1,
    }


def test_a_zone_counts_each_track_once_however_often_it_enters() -> None:
    rules = [ZoneIntrusion(name="yard", zone=RIGHT_HALF), Loitering(name="left", seconds=60)]
    pacing = Mover(
        PERSON, ((0, 200, 200), (3, 420, 200), (6, 200, 200), (9, 420, 200), (12, 200, 200))
    )
    outside = walk(PERSON, (20, 300), (250, 300), 0, 12)
    car = walk(CAR, (20, 340), (620, 340), 0, 12, size=(100, 50))
    assert table(count(rules, [pacing, outside, car], 12)) == {
        ("09:00", "camera", "", "car", ""): 1,
        ("09:00", "camera", "", "person", ""): 2,
        ("09:00", "zone", "left", "car", ""): 1,
        ("09:00", "zone", "left", "person", ""): 2,
        ("09:00", "zone", "yard", "car", ""): 1,
        ("09:00", "zone", "yard", "person", ""): 1,
    }


def test_a_line_counts_every_crossing_each_way_whatever_its_rule_watches() -> None:
    rules = [LineCrossing(name="gate", line=ACROSS, direction="forward")]
    pacing = Mover(
        PERSON, ((0, 300, 100), (3, 300, 260), (6, 300, 100), (9, 300, 260), (12, 300, 100))
    )
    up = walk(PERSON, (450, 320), (450, 60), 0, 6)
    assert table(count(rules, [pacing, up], 12)) == {
        ("09:00", "camera", "", "person", ""): 2,
        ("09:00", "line", "gate", "person", "backward"): 3,
        ("09:00", "line", "gate", "person", "forward"): 2,
    }


def test_disabled_rules_count_nothing_and_schedules_do_not_apply_to_counts() -> None:
    never = WatchWindow(days=["sun"], start="01:00", end="02:00")
    rules = [
        ZoneIntrusion(name="off", zone=RIGHT_HALF, enabled=False),
        ZoneIntrusion(name="sundays", zone=RIGHT_HALF, schedule=[never]),
    ]
    rows = count(rules, [walk(PERSON, (100, 200), (540, 200), 0, 8)], 8)
    assert table(rows) == {
        ("09:00", "camera", "", "person", ""): 1,
        ("09:00", "zone", "sundays", "person", ""): 1,
    }


def test_bad_bins_and_late_frames_are_refused() -> None:
    with pytest.raises(ValueError, match="whole bins"):
        CountBins(CameraRules(), WIDTH, HEIGHT, bin_seconds=7 * 60)
    with pytest.raises(ValueError, match="size"):
        CountBins(CameraRules(), WIDTH, 0)
    bins = CountBins(CameraRules(), WIDTH, HEIGHT)
    tracker = Tracker()
    bins.drain(T0 + 900)
    with pytest.raises(ValueError, match="already drained"):
        bins.update(tracker.update(T0 + 899, []))
