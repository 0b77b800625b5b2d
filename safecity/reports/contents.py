"""The report's table of contents: insights' sections, then those of planning."""

from __future__ import annotations

from collections.abc import Sequence

from safecity.insights.reports.building import SECTIONS as INSIGHTS_SECTIONS
from safecity.insights.reports.building import SectionBuilder
from safecity.planning.requests.report_section import requests_section

SECTIONS: Sequence[tuple[str, SectionBuilder]] = (
    *INSIGHTS_SECTIONS,
    ("Camera requests", requests_section),
)
