"""A report assembled: its sections built in order, each reporting when it is done.

A section is a function ``(session, context) -> Section``. ``SECTIONS`` here are insights'
own; the report's full table of contents, with the sections of capabilities above insights
(planning's camera requests), is ``safecity.reports.contents.SECTIONS``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from safecity.insights.reports.analysis import (
    before_after_section,
    hotspots_section,
    kpis_section,
)
from safecity.insights.reports.context import ReportContext
from safecity.insights.reports.document import Report, Section
from safecity.insights.reports.html import render_html
from safecity.insights.reports.pdf import render_pdf
from safecity.insights.reports.sections import (
    camera_fleet_section,
    crime_counts_section,
    incidents_section,
)

SectionBuilder = Callable[[Session, ReportContext], Section]
Progress = Callable[[str, int, int], None]
"""Told (what is being done, steps done, steps in all) as the report is made."""

SECTIONS: Sequence[tuple[str, SectionBuilder]] = (
    ("Crime", crime_counts_section),
    ("Before and after", before_after_section),
    ("Hot spots", hotspots_section),
    ("KPIs", kpis_section),
    ("Camera fleet", camera_fleet_section),
    ("Incidents", incidents_section),
)


def report_title(context: ReportContext) -> str:
    where = "City" if context.whole_city else "District"
    return f"{where} safety report, {context.period.label}"


def build_report(
    session: Session,
    context: ReportContext,
    *,
    city: str,
    author: str,
    now: datetime,
    sections: Sequence[tuple[str, SectionBuilder]] = SECTIONS,
    progress: Progress | None = None,
) -> Report:
    """The report's document; ``progress`` hears of each section as it starts."""
    built = []
    for index, (name, builder) in enumerate(sections):
        if progress is not None:
            progress(name, index, len(sections))
        built.append(builder(session, context))
    if progress is not None:
        progress("done", len(sections), len(sections))
    return Report(
        title=report_title(context),
        city=city,
        area=context.area,
        period=context.period,
        generated_at=now.astimezone(context.zone),
        author=author,
        sections=built,
    )


FORMATS = ("pdf", "html")
MEDIA_TYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8"}


def render(report: Report, format: str) -> bytes:
    """The report as a file of the format ("pdf" or "html")."""
    if format == "pdf":
        return render_pdf(report)
    if format == "html":
        return render_html(report).encode()
    raise ValueError(f"unknown report format {format!r}: pdf or html")


def file_name(context: ReportContext, format: str) -> str:
    """``safecity-report-<city, the district's code, or districts>-<period>.<format>``, in
    plain ASCII (a code in other letters becomes "district")."""
    if context.whole_city:
        where = "city"
    elif context.single_district:
        where = context.districts[0].code
    else:
        where = "districts"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", where).strip("-").lower() or "district"
    return f"safecity-report-{slug}-{context.period.code}.{format}"
