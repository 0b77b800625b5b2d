"""The rule engine on synthetic scenes (tests/analytics/scenes.py), tracked by the real tracker.

Timing tolerance: a rule that fires on where an object is fires within 0.5 s of the truth (the
tracker confirms a track at its third detection, 0.4 s at 5 fps); a rule that waits for a
stop within 1.5 s (a track becomes stationary once it has kept still for a second).
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safecity.analytics.objects import Detection, ObjectClass
from safecity.analytics.rules.definitions import (
    CameraRules,
    Crowd,
    LineCrossing,
    Loitering,
    ObjectLeft,
    StoppedVehicle,
    Tamper,
    ZoneIntrusion,
)
from safecity.analytics.rules.engine import RuleEngine, RuleHit
from safecity.analytics.rules.geometry import LineWatch
from safecity.analytics.tracking import Tracker, TrackerSettings
from safecity.city.schedule import WatchWindow
from tests.analytics.scenes import HEIGHT, T0, WIDTH, Mover, walk, watch

PERSON, CAR, BAG = ObjectClass.PERSON, ObjectClass.CAR, ObjectClass.BAG
ALMATY = ZoneInfo("Asia/Almaty")  # UTC+5
RIGHT_HALF = [(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)]
LEFT_HALF = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]
ACROSS = ((0.1, 0.5), (0.9, 0.5))
"""A line drawn left to right across the middle, at y = 180 px from x = 64 to 576."""


def fired(hits: list[RuleHit]) -> list[tuple[str, int | None]]:
    return [(hit.rule, hit.track_id) for hit in hits]


def stand(kind: ObjectClass, x: float, y: float, t0: float, t1: float) -> Mover:
    size = {PERSON: (30.0, 80.0), CAR: (100.0, 50.0), BAG: (30.0, 25.0)}[kind]
    return Mover(kind, ((t0, x, y), (t1, x, y)), size=size)


# Intrusion


def test_intrusion_fires_once_when_a_person_steps_into_the_zone() -> None:
    rule = ZoneIntrusion(name="yard", zone=RIGHT_HALF)
    # Foot at x = 320 (the zone's edge) at t = 4.
    hits = watch([rule], [walk(PERSON, (100, 200), (540, 200), 0, 8)], 10)
    assert fired(hits) == [("yard", 1)]
    (hit,) = hits
    assert hit.at == pytest.approx(4.0, abs=0.5)
    assert hit.started_at == hit.at
    assert (hit.kind, hit.object_class, hit.confidence) == ("intrusion", PERSON, 0.9)
    assert len(hit.boxes) == 1 and hit.boxes[0].foot[0] >= 320


def test_intrusion_with_seconds_waits_that_long_inside() -> None:
    rule = ZoneIntrusion(name="yard", zone=RIGHT_HALF, seconds=2)
    (hit,) = watch([rule], [walk(PERSON, (100, 200), (540, 200), 0, 8)], 10)
    assert hit.at == pytest.approx(6.0, abs=0.5)
    assert hit.started_at == pytest.approx(4.0, abs=0.5)
    assert hit.details["seconds_in_zone"] == pytest.approx(2.0, abs=0.2)


def test_intrusion_ignores_people_outside_and_classes_it_does_not_watch() -> None:
    rule = ZoneIntrusion(name="yard", zone=RIGHT_HALF)
    outside = walk(PERSON, (100, 200), (300, 250), 0, 8)
    car = walk(CAR, (100, 300), (600, 300), 0, 8, size=(100, 50))
    assert watch([rule], [outside, car], 10) == []


def test_a_whole_picture_zone_holds_objects_standing_on_the_bottom_edge() -> None:
    rule = ZoneIntrusion(name="anywhere")
    assert fired(watch([rule], [stand(PERSON, 300, HEIGHT, 0, 3)], 3)) == [("anywhere", 1)]


# Line crossing


def test_line_crossing_forward_is_from_the_left_side_to_the_right_side() -> None:
    rules = [
        LineCrossing(name="forward", line=ACROSS, direction="forward"),
        LineCrossing(name="backward", line=ACROSS, direction="backward"),
        LineCrossing(name="any", line=ACROSS),
    ]
    # Drawn left to right, the line's left side is above it: walking down crosses forward.
    down = walk(PERSON, (320, 60), (320, 320), 0, 6)
    hits = watch(rules, [down], 8)
    assert fired(hits) == [("forward", 1), ("any", 1)]
    assert all(hit.details == {"direction": "forward"} for hit in hits)
    assert hits[0].at == pytest.approx(120 / 260 * 6, abs=0.5)

    up = walk(PERSON, (320, 320), (320, 60), 0, 6)
    assert fired(watch(rules, [up], 8)) == [("backward", 1), ("any", 1)]


def test_a_person_walking_back_and_forth_over_a_line_fires_each_rule_once() -> None:
    rules = [
        LineCrossing(name="forward", line=ACROSS, direction="forward"),
        LineCrossing(name="backward", line=ACROSS, direction="backward"),
        LineCrossing(name="any", line=ACROSS),
    ]
    pacing = Mover(
        PERSON, ((0, 300, 100), (3, 300, 260), (6, 300, 100), (9, 300, 260), (12, 300, 100))
    )
    hits = watch(rules, [pacing], 12)
    assert fired(hits) == [("forward", 1), ("any", 1), ("backward", 1)]
    forward, any_way, backward = (hit.at for hit in hits)
    assert forward == any_way == pytest.approx(1.5, abs=0.5)
    assert backward == pytest.approx(4.5, abs=0.5)


def test_walking_round_the_end_of_a_line_or_standing_on_it_crosses_nothing() -> None:
    rule = LineCrossing(name="gate", line=ACROSS)
    round_the_end = walk(PERSON, (610, 60), (610, 320), 0, 6)
    on_the_line = stand(PERSON, 200, 180, 0, 10)
    assert watch([rule], [round_the_end, on_the_line], 10, jitter=4.0) == []


@settings(max_examples=60, deadline=None)
@given(
    a=st.tuples(st.floats(0.05, 0.95), st.floats(0.05, 0.95)),
    b=st.tuples(st.floats(0.05, 0.95), st.floats(0.05, 0.95)),
    leftwards=st.booleans(),
)
def test_the_direction_of_a_crossing_follows_the_screen_under_random_lines(
    a: tuple[float, float], b: tuple[float, float], leftwards: bool
) -> None:
    """The truth, worked out without a cross product: facing along A→B on a screen whose y
    grows downward, the left hand points along (dy, -dx). A walker goes from 40 px on that
    side, across the line's middle, to 40 px on the other."""
    ax, ay, bx, by = a[0] * WIDTH, a[1] * HEIGHT, b[0] * WIDTH, b[1] * HEIGHT
    length = math.hypot(bx - ax, by - ay)
    if length < 60:
        return
    left = ((by - ay) / length, -(bx - ax) / length)
    sign = -1 if leftwards else 1
    mx, my = (ax + bx) / 2, (ay + by) / 2
    start = (mx + sign * 40 * left[0], my + sign * 40 * left[1])
    end = (mx - sign * 40 * left[0], my - sign * 40 * left[1])
    rules = CameraRules(
        rules=[
            LineCrossing(name="forward", line=(a, b), direction="forward"),
            LineCrossing(name="backward", line=(a, b), direction="backward"),
        ]
    )
    tracker = Tracker(TrackerSettings(min_hits=1))
    engine = RuleEngine(rules, WIDTH, HEIGHT, ALMATY)
    walker = walk(PERSON, start, end, 0, 2, size=(20, 40))
    hits = []
    for i in range(11):
        box = walker.box(i * 0.2)
        assert box is not None
        update = tracker.update(T0 + i * 0.2, [Detection(PERSON, 0.9, box)])
        hits += engine.update(update.at, update.tracks, update.ended)
    assert [hit.rule for hit in hits] == ["backward" if leftwards else "forward"]


def test_a_line_watch_says_which_side_a_point_is_on() -> None:
    line = LineWatch(ACROSS, WIDTH, HEIGHT)
    assert line.side(320, 100) == pytest.approx(-80)  # above: the left side
    assert line.side(320, 200) == pytest.approx(20)


# Loitering


def test_loitering_fires_once_after_the_time_in_the_zone() -> None:
    rule = Loitering(name="atm", zone=LEFT_HALF, seconds=20)
    pacing = Mover(PERSON, ((0, 100, 200), (10, 250, 220), (20, 100, 200), (30, 250, 220)))
    (hit,) = watch([rule], [pacing], 30)
    assert (hit.at, hit.started_at) == (pytest.approx(20.4, abs=0.3), pytest.approx(0.4, abs=0.1))
    assert hit.details["seconds_in_zone"] == pytest.approx(20, abs=0.3)


def test_loitering_counts_a_short_exit_as_time_in_the_zone() -> None:
    rule = Loitering(name="atm", zone=LEFT_HALF, seconds=20)
    # Out from about 9.5 s to 11.75 s: under the 5 s a short exit may last.
    route = ((0, 200, 200), (9, 300, 200), (10, 340, 200), (11.5, 340, 200), (12, 300, 200))
    stepping_out = Mover(PERSON, (*route, (30, 200, 200)))
    (hit,) = watch([rule], [stepping_out], 30)
    assert hit.at == pytest.approx(20.4, abs=0.3)


def test_loitering_sums_visits_apart_but_not_the_time_between_them() -> None:
    rule = Loitering(name="atm", zone=LEFT_HALF, seconds=20)
    # Out at about 9.7 s, back at about 19.8 s: 9.2 s in (the frames 0.4 s to 9.6 s), then
    # 20 s in all at 30.8 s, more than 20 s in the next frame.
    route = ((0, 200, 200), (9.5, 300, 200), (10, 360, 200), (19.5, 360, 200), (20, 300, 200))
    coming_back = Mover(PERSON, (*route, (40, 200, 200)))
    (hit,) = watch([rule], [coming_back], 40)
    assert hit.at == pytest.approx(31.0, abs=0.3)
    assert hit.started_at == pytest.approx(0.4, abs=0.1)


def test_passing_through_is_not_loitering() -> None:
    rule = Loitering(name="atm", zone=LEFT_HALF, seconds=20)
    assert watch([rule], [walk(PERSON, (20, 200), (620, 200), 0, 25)], 30) == []


# Crowd


def people(spots: list[tuple[float, float]], t0: float, t1: float) -> list[Mover]:
    return [stand(PERSON, x, y, t0, t1) for x, y in spots]


CENTRE = [(0.25, 0.25), (0.75, 0.25), (0.75, 1.0), (0.25, 1.0)]


def test_a_crowd_is_raised_once_and_again_only_after_it_has_thinned_for_a_while() -> None:
    rule = Crowd(name="square", zone=CENTRE, count=4, seconds=5)
    first = [stand(PERSON, 200 + 60 * i, 300, 1 + i, 20 if i < 2 else 40) for i in range(4)]
    # Two leave at 20 s (their tracks end at 23.2 s) and two others join at 30 s: under the
    # count for less than the 30 s re-arming time, so no second event.
    joining = people([(240, 200), (340, 200)], 30, 40)
    # Everyone leaves at 40 s (tracks end 43.2 s); four gather at 80 s: a second crowd.
    later = people([(200, 250), (260, 250), (320, 250), (380, 250)], 80, 95)
    hits = watch([rule], first + joining + later, 95)
    assert [hit.at for hit in hits] == [pytest.approx(9.4, abs=0.3), pytest.approx(85.4, abs=0.3)]
    crowd = hits[0]
    assert (crowd.track_id, crowd.object_class, crowd.kind) == (None, PERSON, "crowd")
    assert crowd.details["count"] == 4 and crowd.details["track_ids"] == [1, 2, 3, 4]
    assert len(crowd.boxes) == 4
    assert crowd.started_at == pytest.approx(4.4, abs=0.3)


def test_no_crowd_under_the_count_or_of_other_classes() -> None:
    rule = Crowd(name="square", zone=CENTRE, count=4, seconds=5)
    three = people([(200, 300), (260, 300), (320, 300)], 0, 30)
    car = stand(CAR, 400, 200, 0, 30)
    assert watch([rule], [*three, car], 30) == []


def test_a_crowd_must_last_its_seconds() -> None:
    rule = Crowd(name="square", zone=CENTRE, count=3, seconds=10)
    brief = people([(200, 300), (260, 300), (320, 300)], 0, 6)
    assert watch([rule], brief, 20) == []


# Stopped vehicle


def stopping_car(y: float = 300) -> Mover:
    return Mover(CAR, ((0, 20, y), (4, 300, y), (30, 300, y)), size=(100, 50))


BOTTOM = [(0.0, 0.6), (1.0, 0.6), (1.0, 1.0), (0.0, 1.0)]


def test_a_vehicle_stopped_in_the_zone_fires_once_after_its_seconds() -> None:
    rule = StoppedVehicle(name="bus lane", zone=BOTTOM, seconds=10)
    (hit,) = watch([rule], [stopping_car()], 30, jitter=2.0)
    assert hit.at == pytest.approx(14.0, abs=1.5)
    assert hit.started_at == pytest.approx(4.0, abs=1.5)
    assert (hit.object_class, hit.details["stopped_seconds"]) == (CAR, pytest.approx(10, abs=0.3))


def test_no_stopped_vehicle_for_traffic_a_car_outside_or_a_person_standing() -> None:
    rule = StoppedVehicle(name="bus lane", zone=BOTTOM, seconds=10)
    through = walk(CAR, (20, 340), (620, 340), 0, 25, size=(100, 50))
    outside = stopping_car(y=150)
    person = stand(PERSON, 500, 300, 0, 30)
    assert watch([rule], [through, outside, person], 30, jitter=2.0) == []


# Object left


def owner(route: tuple[tuple[float, float, float], ...]) -> Mover:
    return Mover(PERSON, route)


def test_a_bag_left_by_a_person_who_walks_away_fires_once() -> None:
    rule = ObjectLeft(name="platform", seconds=10)
    bag = stand(BAG, 330, 300, 5, 40)
    person = owner(((0, 50, 300), (5, 300, 300), (10, 300, 300), (15, 620, 300)))
    (hit,) = watch([rule], [bag, person], 40)
    # The person is two bag widths (60 px) clear of it at about 11.9 s.
    assert hit.at == pytest.approx(21.9, abs=0.5)
    assert (hit.track_id, hit.object_class) == (2, BAG)  # the person came first
    assert hit.started_at == pytest.approx(5.4, abs=1.0)
    assert hit.details["unattended_seconds"] == pytest.approx(10, abs=0.3)


def test_a_bag_its_owner_stays_with_or_comes_back_to_is_not_left() -> None:
    rule = ObjectLeft(name="platform", seconds=10)
    bag = stand(BAG, 330, 300, 5, 40)
    staying = owner(((0, 50, 300), (5, 300, 300), (40, 300, 300)))
    assert watch([rule], [bag, staying], 40) == []
    back = owner(((0, 50, 300), (5, 300, 300), (10, 300, 300), (13, 560, 300), (16, 560, 300)))
    returning = Mover(PERSON, (*back.route, (19, 300, 300), (40, 300, 300)))
    assert watch([rule], [bag, returning], 40) == []


def test_an_owner_coming_back_starts_the_count_again() -> None:
    rule = ObjectLeft(name="platform", seconds=10)
    bag = stand(BAG, 330, 300, 5, 45)
    # Away (clear of the bag) from about 11.9 s, back by 19 s, away again from about 23.2 s.
    route = ((0, 50, 300), (5, 300, 300), (10, 300, 300), (13, 560, 300), (16, 560, 300))
    returning = Mover(PERSON, (*route, (19, 300, 300), (22, 300, 300), (25, 620, 300)))
    (hit,) = watch([rule], [bag, returning], 45)
    assert hit.at == pytest.approx(33.2, abs=0.5)


def test_a_moving_bag_is_not_left() -> None:
    rule = ObjectLeft(name="platform", seconds=5)
    carried = walk(BAG, (20, 300), (620, 300), 0, 20, size=(30, 25))
    assert watch([rule], [carried], 25) == []


# Schedules, disabled and tamper rules


NIGHTS = WatchWindow(days=["fri"], start="22:00", end="06:00")


def local(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=ALMATY).timestamp()


@pytest.mark.parametrize(
    ("moment", "fires"),
    [
        ("2025-03-14 23:30", True),  # Friday night
        ("2025-03-15 01:00", True),  # the small hours of Friday's window
        ("2025-03-14 12:00", False),  # Friday noon
        ("2025-03-15 23:30", False),  # Saturday night: not in the days
    ],
)
def test_a_scheduled_rule_fires_only_inside_its_windows(moment: str, fires: bool) -> None:
    rule = ZoneIntrusion(name="yard", zone=RIGHT_HALF, schedule=[NIGHTS])
    person = walk(PERSON, (100, 200), (540, 200), 0, 8)
    hits = watch([rule], [person], 10, start=local(moment), zone=ALMATY)
    assert fired(hits) == ([("yard", 1)] if fires else [])


def test_a_scheduled_rule_counts_time_from_when_its_window_opens() -> None:
    rule = Loitering(name="yard", zone=LEFT_HALF, seconds=20, schedule=[NIGHTS])
    person = stand(PERSON, 100, 200, 0, 40)
    (hit,) = watch([rule], [person], 40, start=local("2025-03-14 21:59:50"), zone=ALMATY)
    # The window opens at 10 s; more than 20 s in the zone in the frame after 30 s.
    assert (hit.at, hit.started_at) == (pytest.approx(30.2), pytest.approx(10))


def test_a_scheduled_stopped_vehicle_counts_from_when_the_window_opens() -> None:
    rule = StoppedVehicle(name="bus lane", zone=BOTTOM, seconds=10, schedule=[NIGHTS])
    start = local("2025-03-14 21:59:50")
    (hit,) = watch([rule], [stopping_car()], 30, start=start, zone=ALMATY, jitter=2.0)
    assert (hit.at, hit.started_at) == (pytest.approx(20), pytest.approx(10))


def test_a_line_crossed_before_the_window_opens_does_not_fire_when_it_opens() -> None:
    rule = LineCrossing(name="gate", line=ACROSS, schedule=[NIGHTS])
    # Crosses at about 3 s; the window opens at 10 s while the person is still in view.
    down = walk(PERSON, (320, 60), (320, 320), 0, 6)
    lingering = Mover(PERSON, (*down.route, (20, 320, 320)))
    start = local("2025-03-14 21:59:50")
    assert watch([rule], [lingering], 20, start=start, zone=ALMATY) == []


def test_disabled_rules_never_fire_and_tamper_rules_are_left_to_the_pipeline() -> None:
    rules = [
        ZoneIntrusion(name="off", zone=RIGHT_HALF, enabled=False),
        Tamper(name="tamper"),
        ZoneIntrusion(name="on", zone=RIGHT_HALF),
    ]
    hits = watch(rules, [walk(PERSON, (100, 200), (540, 200), 0, 8)], 10)
    assert fired(hits) == [("on", 1)]


def test_an_engine_needs_a_picture_size() -> None:
    with pytest.raises(ValueError, match="size"):
        RuleEngine(CameraRules(), 0, 360, ALMATY)
