"""The retention planner decides what goes and why; no database, no files."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from safecity.video.models import PurgeReason
from safecity.video.recording.retention import (
    CameraRecordings,
    Deletion,
    DiskSpace,
    HoldSpan,
    PolicyError,
    PolicyOverride,
    PurgeTotals,
    RetentionPolicy,
    SegmentRef,
    plan_camera,
    plan_floor,
    resolve_policy,
    tally,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MB = 1_000_000


def segments(
    camera_id: int, first: datetime, count: int, *, size: int = MB, seconds: int = 10
) -> list[SegmentRef]:
    """``count`` back-to-back segments of one camera, oldest first."""
    return [
        SegmentRef(
            id=camera_id * 1000 + index,
            camera_id=camera_id,
            started_at=first + timedelta(seconds=seconds * index),
            ended_at=first + timedelta(seconds=seconds * (index + 1)),
            bytes=size,
        )
        for index in range(count)
    ]


def within(segment: SegmentRef) -> HoldSpan:
    """A hold on a stretch inside the segment only (back-to-back segments touch at their
    ends, and a hold on an edge pins both)."""
    second = timedelta(seconds=1)
    return HoldSpan(segment.camera_id, segment.started_at + second, segment.ended_at - second)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def reasons(deletions: Iterable[Deletion]) -> list[PurgeReason]:
    return [deletion.reason for deletion in deletions]


# -- policy -------------------------------------------------------------------------------------


def test_global_days_and_no_quota_when_nothing_is_set() -> None:
    assert resolve_policy(PolicyOverride(), None, 30) == RetentionPolicy(days=30, max_bytes=None)


def test_site_policy_is_inherited() -> None:
    policy = resolve_policy(PolicyOverride(), PolicyOverride(days=7, max_bytes=5 * MB), 30)
    assert policy == RetentionPolicy(days=7, max_bytes=5 * MB)


def test_camera_overrides_its_site_field_by_field() -> None:
    site = PolicyOverride(days=7, max_bytes=5 * MB)
    assert resolve_policy(PolicyOverride(days=90), site, 30) == RetentionPolicy(90, 5 * MB)
    assert resolve_policy(PolicyOverride(max_bytes=MB), site, 30) == RetentionPolicy(7, MB)


@pytest.mark.parametrize(
    ("camera", "site", "message"),
    [
        (PolicyOverride(days=0), None, "0 days"),
        (PolicyOverride(), PolicyOverride(days=-1), "-1 days"),
        (PolicyOverride(max_bytes=0), None, "quota of 0 bytes"),
        (PolicyOverride(days=float("nan")), None, "not a number"),
    ],
)
def test_a_setting_that_would_delete_everything_is_refused(
    camera: PolicyOverride, site: PolicyOverride | None, message: str
) -> None:
    with pytest.raises(PolicyError, match=message):
        resolve_policy(camera, site, 30)


def test_cutoff_is_now_minus_days() -> None:
    assert RetentionPolicy(days=1.5).cutoff(NOW) == NOW - timedelta(hours=36)


@pytest.mark.parametrize("days", [1e6, 1e9, 1e300, float("inf")])
def test_days_beyond_the_calendar_keep_everything(days: float) -> None:
    assert RetentionPolicy(days=days).cutoff(NOW) == datetime.min.replace(tzinfo=UTC)


# -- holds --------------------------------------------------------------------------------------


def test_a_hold_pins_every_segment_it_overlaps_edges_included() -> None:
    first, second, third, fourth = segments(1, days_ago(40), 4)
    hold = HoldSpan(1, second.ended_at, third.ended_at)  # touches second's end, covers third
    assert [hold.pins(s) for s in (first, second, third, fourth)] == [False, True, True, True]
    assert not HoldSpan(2, days_ago(50), NOW).pins(first)  # another camera's hold


# -- age and quota ------------------------------------------------------------------------------


def recordings(
    candidates: list[SegmentRef], *, days: float = 30, quota: int | None = None
) -> CameraRecordings:
    return CameraRecordings(
        camera_id=candidates[0].camera_id if candidates else 1,
        policy=RetentionPolicy(days, quota),
        stored_bytes=sum(s.bytes for s in candidates),
        candidates=candidates,
    )


def test_age_deletes_what_ended_before_the_cutoff_and_stops_at_the_first_kept() -> None:
    old = segments(1, days_ago(30) - timedelta(seconds=30), 5)  # 3 end before the cutoff
    plan = plan_camera(recordings(old), [], NOW)
    assert [d.segment for d in plan.deletions] == old[:2]
    assert reasons(plan.deletions) == [PurgeReason.AGE] * 2
    assert plan.settled and plan.over_quota_bytes == 0


def test_a_segment_ending_exactly_at_the_cutoff_is_kept() -> None:
    (segment,) = segments(1, days_ago(30) - timedelta(seconds=10), 1)
    assert segment.ended_at == days_ago(30)
    assert plan_camera(recordings([segment]), [], NOW).deletions == ()


def test_a_batch_that_is_all_too_old_is_not_settled() -> None:
    plan = plan_camera(recordings(segments(1, days_ago(40), 3)), [], NOW)
    assert len(plan.deletions) == 3 and not plan.settled


def test_quota_deletes_the_oldest_until_the_camera_is_under_it() -> None:
    young = segments(1, days_ago(1), 5)
    plan = plan_camera(recordings(young, quota=3 * MB), [], NOW)
    assert [d.segment for d in plan.deletions] == young[:2]
    assert reasons(plan.deletions) == [PurgeReason.CAMERA_QUOTA] * 2
    assert plan.settled and plan.over_quota_bytes == 0


def test_age_deletions_count_towards_the_quota() -> None:
    old = segments(1, days_ago(31), 2)
    young = segments(2, days_ago(1), 3)
    young = [SegmentRef(s.id, 1, s.started_at, s.ended_at, s.bytes) for s in young]
    plan = plan_camera(recordings(old + young, quota=2 * MB), [], NOW)
    assert reasons(plan.deletions) == [
        PurgeReason.AGE,
        PurgeReason.AGE,
        PurgeReason.CAMERA_QUOTA,
    ]


def test_holds_protect_from_age_and_quota_and_do_not_count_against_the_quota() -> None:
    old = segments(1, days_ago(31), 2)
    young = [
        SegmentRef(s.id + 100, 1, s.started_at, s.ended_at, s.bytes)
        for s in segments(1, days_ago(1), 3)
    ]
    held, held_young = within(old[0]), within(young[0])
    candidates = old + young
    # The keeper measures the quota on unheld bytes: 5 MB stored, 2 of them held.
    batch = CameraRecordings(1, RetentionPolicy(30, 2 * MB), 3 * MB, candidates)
    plan = plan_camera(batch, [held, held_young, HoldSpan(2, days_ago(99), NOW)], NOW)
    assert [(d.segment, d.reason) for d in plan.deletions] == [
        (old[1], PurgeReason.AGE),
    ]
    assert plan.settled and plan.over_quota_bytes == 0


def test_over_quota_is_reported_when_the_batch_runs_out() -> None:
    young = segments(1, days_ago(1), 2)
    batch = CameraRecordings(1, RetentionPolicy(30, MB), 5 * MB, young)
    plan = plan_camera(batch, [], NOW)
    assert len(plan.deletions) == 2 and not plan.settled
    assert plan.over_quota_bytes == 2 * MB


# -- the disk floor -----------------------------------------------------------------------------


def test_disk_figures() -> None:
    disk = DiskSpace(total=1000, free=30)
    assert disk.floor(5) == 50 and disk.floor(0.01) == 1  # rounded up: never under-asks
    assert disk.shortfall(5) == 20 and disk.shortfall(3) == 0
    assert disk.after_freeing(5000) == DiskSpace(1000, 1000)


def test_floor_takes_the_oldest_city_wide_whatever_the_input_order() -> None:
    a = segments(1, days_ago(3), 3)
    b = segments(2, days_ago(3) + timedelta(seconds=5), 3)
    disk = DiskSpace(total=100 * MB, free=2 * MB)  # 5 % floor: 3 MB short
    plan = plan_floor(list(reversed(b)) + a, [], disk, 5)
    assert [d.segment for d in plan.deletions] == [a[0], b[0], a[1]]
    assert reasons(plan.deletions) == [PurgeReason.DISK_FLOOR] * 3
    assert plan.missing_bytes == 0 and plan.held_bytes == 0
    assert plan.walked_to == a[1]


def test_floor_never_takes_held_segments_and_says_what_they_keep() -> None:
    a = segments(1, days_ago(3), 3)
    hold = HoldSpan(1, a[0].started_at, a[1].ended_at - timedelta(seconds=1))
    disk = DiskSpace(total=100 * MB, free=MB)  # 4 MB short
    plan = plan_floor(a, [hold], disk, 5)
    assert [d.segment for d in plan.deletions] == [a[2]]
    assert plan.held_bytes == 2 * MB
    assert plan.missing_bytes == 3 * MB
    assert plan.missing_because_of_holds == 2 * MB


def test_floor_met_means_nothing_to_do() -> None:
    plan = plan_floor(segments(1, days_ago(3), 3), [], DiskSpace(100 * MB, 50 * MB), 5)
    assert plan.deletions == () and plan.walked_to is None and plan.missing_bytes == 0


# -- purge records ------------------------------------------------------------------------------


def test_tally_groups_by_camera_and_reason() -> None:
    a = segments(1, days_ago(40), 3)
    b = segments(2, days_ago(40), 1)
    plan_a = plan_camera(recordings(a), [], NOW)
    plan_b = plan_floor(b, [], DiskSpace(100 * MB, 0), 1)
    totals = tally(plan_a.deletions + plan_b.deletions)
    assert totals == {
        (1, PurgeReason.AGE): PurgeTotals(3, 3 * MB, a[0].started_at, a[2].ended_at),
        (2, PurgeReason.DISK_FLOOR): PurgeTotals(1, MB, b[0].started_at, b[0].ended_at),
    }


def test_purge_totals_add_up() -> None:
    early = PurgeTotals(2, 20, days_ago(9), days_ago(8))
    late = PurgeTotals(1, 5, days_ago(7), days_ago(6))
    assert late.plus(early) == PurgeTotals(3, 25, days_ago(9), days_ago(6))
