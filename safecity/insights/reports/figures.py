"""How a change is put in words: always the percentage with the counts it comes from. Pure."""

from __future__ import annotations

from safecity.insights.statistics import Change

MINUS = "\u2212"


def percent_change(now: int, before: int) -> float | None:
    """The change in percent to one decimal, rounded as the statistics round it (half away
    from zero), so a report and the Figures screen never differ by a tenth; None where there
    was nothing before to compare with."""
    return Change(before, now).percent


def signed_percent(change: float | None) -> str:
    """-53.0%, +4.2%, 0.0% (a true minus sign, U+2212); a dash where there is no change."""
    if change is None:
        return "—"
    text = f"{abs(change):.1f}%"
    if text == "0.0%":
        return text
    return f"{MINUS if change < 0 else '+'}{text}"


def count(value: int) -> str:
    return f"{value:,}"


def change_words(now: int, before: int, against: str) -> str:
    """-53.0%: 4,502 fewer than 8,502 in 2026-Q1: the percentage never alone."""
    if before == 0:
        return f"none in {against} to compare with" if now else f"none in {against} either"
    difference = now - before
    if difference == 0:
        return f"no change from {count(before)} in {against}"
    more_or_fewer = "more" if difference > 0 else "fewer"
    return (
        f"{signed_percent(percent_change(now, before))}: {count(abs(difference))} "
        f"{more_or_fewer} than {count(before)} in {against}"
    )
