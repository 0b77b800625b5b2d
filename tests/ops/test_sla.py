"""SLA figures: durations per stage and P50/P90, pure."""

from datetime import UTC, datetime, timedelta

from safecity.ops.incidents.sla import IncidentTimes, durations, figures, percentile

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _times(minutes: int) -> IncidentTimes:
    return IncidentTimes(
        opened_at=T0,
        first_alert_at=T0 - timedelta(seconds=30),
        acknowledged_at=T0,
        dispatched_at=T0 + timedelta(minutes=minutes),
        accepted_at=T0 + timedelta(minutes=2 * minutes),
    )


def test_percentiles_interpolate_and_ignore_order() -> None:
    assert percentile([], 0.5) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert percentile([float(v) for v in range(1, 11)], 0.9) == 9.1


def test_durations_leave_out_stages_not_reached() -> None:
    assert durations(IncidentTimes(opened_at=T0)) == {
        "acknowledge": None,
        "dispatch": None,
        "accept": None,
        "arrive": None,
    }
    assert durations(_times(1))["accept"] == 60.0


def test_figures_are_percentiles_not_averages() -> None:
    result = {f.stage: f for f in figures([_times(1), _times(1), _times(1), _times(100)])}
    assert result["acknowledge"].count == 4 and result["acknowledge"].p50_seconds == 30.0
    assert result["dispatch"].p50_seconds == 60.0  # the average would be 1575 s
    assert result["dispatch"].p90_seconds is not None and result["dispatch"].p90_seconds > 60
    assert result["arrive"].count == 0 and result["arrive"].p50_seconds is None
