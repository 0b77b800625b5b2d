"""A report puts a change in the same words and tenths as the Figures screen."""

from __future__ import annotations

from safecity.insights.reports.figures import change_words, signed_percent
from safecity.insights.statistics import Change


def test_a_report_rounds_a_change_as_the_statistics_do() -> None:
    # 400 → 401 is +0.25%: half away from zero gives +0.3%, as the statistics page says
    # (rounding half to even would print +0.2%).
    assert Change(400, 401).text.startswith("+0.3%")
    assert change_words(401, 400, "2026-Q2") == "+0.3%: 1 more than 400 in 2026-Q2"
    assert change_words(1_604, 1_600, "2026-Q2").startswith("+0.3%")


def test_the_programmes_headline_reads_the_same_in_a_report() -> None:
    assert change_words(4_000, 8_502, "2026-Q1") == "\u221253.0%: 4,502 fewer than 8,502 in 2026-Q1"
    assert signed_percent(None) == "—"
