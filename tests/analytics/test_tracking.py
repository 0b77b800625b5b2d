"""The tracker on synthetic scenes with known truth (tests/analytics/scenes.py).

Identity is judged per frame: a track seen in a frame belongs to the mover whose true box it
overlaps most (IoU > 0.3); a scene is tracked right when that is one-to-one over the whole run.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safecity.analytics.objects import Box, Detection, ObjectClass
from safecity.analytics.tracking import Tracker, TrackerSettings
from tests.analytics.scenes import T0, Mover, Step, track, walk

PERSON, CAR, TRUCK, BAG = ObjectClass.PERSON, ObjectClass.CAR, ObjectClass.TRUCK, ObjectClass.BAG


def identities(movers: list[Mover], run: list[Step]) -> dict[int, set[int]]:
    """For each track id, the movers it was found on."""
    found: dict[int, set[int]] = defaultdict(set)
    for step in run:
        for tracked in step.tracks:
            if tracked.last_seen != step.at:
                continue
            overlaps = [
                (truth.iou(tracked.box), i)
                for i, mover in enumerate(movers)
                if (truth := mover.box(step.t)) is not None
            ]
            best, mover = max(overlaps)
            if best > 0.3:
                found[tracked.id].add(mover)
    return dict(found)


def assert_one_track_each(movers: list[Mover], run: list[Step]) -> None:
    found = identities(movers, run)
    assert sorted(found) == list(range(1, len(movers) + 1)), found
    assert all(len(each) == 1 for each in found.values()), found
    assert {next(iter(each)) for each in found.values()} == set(range(len(movers))), found


def ended(run: list[Step]) -> list[tuple[float, int]]:
    return [(step.t, gone.id) for step in run for gone in step.ended]


def test_people_walking_across_keep_their_ids() -> None:
    movers = [
        walk(PERSON, (20, 150), (620, 150), 0, 10),
        walk(PERSON, (620, 250), (20, 250), 0, 12),
        walk(PERSON, (100, 340), (540, 340), 1, 9),
    ]
    run = track(movers, 12)
    assert_one_track_each(movers, run)
    assert ended(run) == []


def test_crossing_people_keep_their_ids_while_one_hides_behind_the_other() -> None:
    movers = [
        walk(PERSON, (100, 200), (540, 200), 0, 8),
        walk(PERSON, (540, 210), (100, 210), 0, 8, size=(32, 85), hidden=((3.4, 4.6),)),
    ]
    run = track(movers, 8)
    assert_one_track_each(movers, run)
    assert ended(run) == []


def test_a_track_is_kept_through_an_occlusion_shorter_than_max_age() -> None:
    movers = [walk(PERSON, (50, 200), (590, 200), 0, 10, hidden=((3, 5.4),))]
    run = track(movers, 10)
    assert_one_track_each(movers, run)
    assert ended(run) == []


def test_a_track_hidden_longer_than_max_age_ends_and_its_object_comes_back_as_a_new_one() -> None:
    movers = [walk(PERSON, (50, 200), (590, 200), 0, 12, hidden=((3, 6.6),))]
    run = track(movers, 12)
    assert sorted(identities(movers, run)) == [1, 2]
    assert ended(run) == [(6.0, 1)]


def test_a_stretch_of_dropped_frames_keeps_the_ids() -> None:
    movers = [
        walk(PERSON, (50, 150), (590, 150), 0, 10),
        walk(PERSON, (590, 300), (50, 300), 0, 10),
    ]
    run = track(movers, 10, skipped=((3.0, 4.6),))
    assert_one_track_each(movers, run)


def test_jittery_boxes_keep_their_ids() -> None:
    movers = [
        walk(PERSON, (50, 150), (590, 170), 0, 10),
        walk(PERSON, (590, 190), (50, 210), 0, 10),
        walk(PERSON, (300, 320), (300, 320), 0, 10),
    ]
    run = track(movers, 10, jitter=4.0)
    assert_one_track_each(movers, run)


def test_a_small_fast_object_is_followed_by_centre_distance_where_boxes_never_overlap() -> None:
    # 10 px wide, 15 px a frame: no overlap from one frame to the next.
    movers = [walk(ObjectClass.BICYCLE, (20, 100), (620, 100), 0, 8, size=(10, 10))]
    assert sorted(identities(movers, track(movers, 8))) == [1]
    without = track(movers, 8, settings=TrackerSettings(centre_gate=0.1))
    assert identities(movers, without) == {}


def test_ended_tracks_say_when_their_objects_entered_and_left() -> None:
    movers = [walk(PERSON, (50, 200), (300, 200), 1, 5)]
    run = track(movers, 10)
    assert ended(run) == [(8.2, 1)]
    gone = next(step.ended[0] for step in run if step.ended)
    assert (gone.first_seen - T0, gone.last_seen - T0) == pytest.approx((1, 5))


def test_tracks_are_confirmed_after_three_hits_and_one_frame_detections_get_no_id() -> None:
    flash = Mover(PERSON, ((1.0, 500, 100), (1.0, 500, 100)))
    person = walk(PERSON, (50, 200), (300, 200), 2, 6)
    run = track([flash, person], 6)
    confirmed = [(step.t, tracked) for step in run for tracked in step.confirmed]
    assert confirmed == [(2.4, 1)]
    assert all(tracked.id == 1 for step in run for tracked in step.tracks)


def test_a_track_takes_its_class_by_vote_within_its_family() -> None:
    flicker = Mover(CAR, ((0, 50, 300), (8, 590, 300)), size=(100, 50), label=(((2, 3), TRUCK),))
    run = track([flicker], 8)
    last = run[-1].tracks
    assert [(tracked.id, tracked.object_class) for tracked in last] == [(1, CAR)]

    mostly_truck = Mover(
        CAR, ((0, 50, 300), (8, 590, 300)), size=(100, 50), label=(((1, 8), TRUCK),)
    )
    assert [tracked.object_class for tracked in track([mostly_truck], 8)[-1].tracks] == [TRUCK]


def test_a_person_never_becomes_a_car() -> None:
    # A person steps out in front of a parked car just as the detector loses the car for a
    # moment: the car's track, overlapping the person, must not take them.
    car = Mover(CAR, ((0, 300, 300), (10, 300, 300)), size=(100, 50), hidden=((5, 5.6),))
    person = walk(PERSON, (300, 310), (560, 310), 5, 10)
    run = track([car, person], 10)
    assert_one_track_each([car, person], run)
    assert {(t.id, t.object_class) for t in run[-1].tracks} == {(1, CAR), (2, PERSON)}


def test_weak_detections_keep_a_track_but_never_start_one() -> None:
    person = Mover(PERSON, ((0, 50, 200), (10, 590, 200)), weak=((2, 7),))
    run = track([person], 10)
    assert sorted(identities([person], run)) == [1]
    assert all(step.tracks[0].last_seen == step.at for step in run if 2 < step.t < 7)

    faint = Mover(PERSON, ((0, 50, 200), (10, 590, 200)), weak=((0, 11),))
    assert all(not step.tracks for step in track([faint], 10))


def person_at(x: float, width: float = 30) -> Detection:
    return Detection(PERSON, 0.9, Box(x, 100, x + width, 180))


def test_the_best_view_is_the_largest_box_weighed_by_the_callers_quality() -> None:
    tracker = Tracker(TrackerSettings(min_hits=1))
    for i, quality in enumerate([0.2, 0.9, 0.5]):
        tracker.update(T0 + i * 0.2, [person_at(100 + i)], [quality])
    (tracked,) = tracker.update(T0 + 0.6, [person_at(103, width=34)], [0.3]).tracks
    assert (tracked.best.at, tracked.best.box) == (T0 + 0.2, person_at(101).box)
    assert tracked.best.value == pytest.approx(30 * 80 * 0.9)


def test_without_qualities_the_best_view_is_the_largest_box_by_score() -> None:
    tracker = Tracker(TrackerSettings(min_hits=1))
    tracker.update(T0, [Detection(PERSON, 0.9, Box(100, 100, 130, 180))])
    tracker.update(T0 + 0.2, [Detection(PERSON, 0.6, Box(100, 100, 134, 180))])
    (tracked,) = tracker.update(T0 + 0.4, [Detection(PERSON, 0.7, Box(100, 100, 131, 180))]).tracks
    assert tracked.best.at == T0 and tracked.best_score == 0.9


def test_predicted_boxes_lead_the_detector_to_where_a_moving_object_will_be() -> None:
    tracker = Tracker()
    mover = walk(PERSON, (50, 200), (550, 200), 0, 10)
    for i in range(16):
        box = mover.box(i * 0.2)
        assert box is not None
        tracker.update(T0 + i * 0.2, [Detection(PERSON, 0.9, box)])
    ((_, ahead),) = tracker.predicted(T0 + 3.2)
    truth = mover.box(3.2)
    assert truth is not None
    assert ahead.iou(truth) > 0.9
    assert abs(ahead.centre[0] - truth.centre[0]) < 3


def test_a_stopped_vehicle_becomes_stationary_and_a_walker_never_does() -> None:
    car = Mover(CAR, ((0, 50, 300), (4, 300, 300), (20, 300, 300)), size=(100, 50))
    walker = walk(PERSON, (600, 150), (100, 150), 0, 20)
    run = track([car, walker], 20, jitter=2.0)
    since = {tracked.object_class: tracked.stationary_since for tracked in run[-1].tracks}
    assert since[CAR] is not None and 4.0 <= since[CAR] - T0 <= 5.5
    assert since[PERSON] is None
    assert all(
        tracked.stationary_since is None for step in run if step.t < 4 for tracked in step.tracks
    )


def test_the_path_keeps_the_newest_foot_points_with_their_times() -> None:
    tracker = Tracker(TrackerSettings(min_hits=1, path_length=5))
    for i in range(8):
        update = tracker.update(T0 + i, [person_at(100 + 2 * i)])
    path = update.tracks[0].path
    assert [round(point.at - T0) for point in path] == [3, 4, 5, 6, 7]
    assert path[-1].y == pytest.approx(180, abs=1)
    assert path[-1].x == pytest.approx(129, abs=1)


def test_finish_ends_every_confirmed_track() -> None:
    tracker = Tracker()
    for i in range(3):
        tracker.update(T0 + i * 0.2, [person_at(100 + i)])
    tracker.update(T0 + 0.6, [person_at(103), person_at(400)])
    done = tracker.finish()
    assert [gone.id for gone in done.ended] == [1]
    assert tracker.update(T0 + 1, []).tracks == ()


def test_bad_input_is_refused_with_a_plain_message() -> None:
    tracker = Tracker()
    with pytest.raises(ValueError, match="one per detection"):
        tracker.update(T0, [person_at(100)], [0.5, 0.5])
    tracker.update(T0, [])
    with pytest.raises(ValueError, match="time order"):
        tracker.update(T0 - 1, [])
    with pytest.raises(ValueError, match="finite"):
        tracker.update(float("nan"), [])
    with pytest.raises(ValueError, match="low_score"):
        TrackerSettings(low_score=0.6, high_score=0.5)
    with pytest.raises(ValueError, match="min_hits"):
        TrackerSettings(min_hits=0)


boxes = st.tuples(st.floats(0, 600), st.floats(0, 300), st.floats(0, 80), st.floats(0, 120)).map(
    lambda b: Box(b[0], b[1], b[0] + b[2], b[1] + b[3])
)
detections = st.builds(Detection, st.sampled_from(list(ObjectClass)), st.floats(0, 1), boxes)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(detections, max_size=8), max_size=15), st.floats(0, 1))
def test_any_detections_give_unique_ids_counting_up(
    scene: list[list[Detection]], gap: float
) -> None:
    """Degenerate boxes (no width, no height), duplicates and frames at one instant included."""
    tracker = Tracker(TrackerSettings(min_hits=2))
    given_ids: list[int] = []
    for i, found in enumerate(scene):
        update = tracker.update(T0 + i * gap, found)
        given_ids += [tracked.id for tracked in update.confirmed]
        assert len({tracked.id for tracked in update.tracks}) == len(update.tracks)
    assert given_ids == list(range(1, len(given_ids) + 1))
    assert {tracked.id for tracked in tracker.finish().ended} <= set(given_ids)


def test_a_person_gone_from_view_does_not_take_a_newcomers_detection() -> None:
    # One person walks off behind something at 3 s (their track is kept through the miss);
    # another comes into view at 3.4 s 80 px from where the first should be (about 1.5 of
    # their sizes): a track of their own, not the first one's.
    movers = [
        walk(PERSON, (100, 200), (190, 200), 0, 3),
        walk(PERSON, (202, 280), (400, 280), 3.4, 10),
    ]
    assert_one_track_each(movers, track(movers, 10))
    wide = track(movers, 10, settings=TrackerSettings(person_centre_gate=2.5))
    assert any(len(each) > 1 for each in identities(movers, wide).values())
