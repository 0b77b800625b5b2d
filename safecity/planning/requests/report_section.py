"""The camera requests section of a report: requests in the report's districts by status,
those submitted and those installed in the period. Planning sits above insights, so it may
write a report section (insights.reports' document and context); the report is assembled
above both, in ``safecity.reports``."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.insights.reports.context import ReportContext
from safecity.insights.reports.document import (
    Cell,
    Column,
    KeyFigure,
    KeyFigures,
    Paragraph,
    Section,
    Table,
)
from safecity.planning.requests.models import CameraRequest, RequestStatus

STATUS_WORDS = {
    RequestStatus.SUBMITTED: "Submitted",
    RequestStatus.UNDER_REVIEW: "Under review",
    RequestStatus.APPROVED: "Approved",
    RequestStatus.REJECTED: "Rejected",
    RequestStatus.INSTALLED: "Installed",
}


def requests_section(session: Session, context: ReportContext) -> Section:
    """Requests for new cameras in the report's districts: where each stands now (by district),
    how many were submitted in the period and how many installed in it."""
    start, end = context.bounds()
    names = {district.id: district.name for district in context.districts}
    rows = session.execute(
        select(
            CameraRequest.district_id,
            CameraRequest.status,
            CameraRequest.submitted_at,
            CameraRequest.installed_at,
        ).where(CameraRequest.district_id.in_(context.district_ids))
    )
    by_district: dict[str, Counter[str]] = {name: Counter() for name in names.values()}
    for district_id, status, submitted_at, installed_at in rows:
        tally = by_district[names[district_id]]
        tally["all"] += 1
        tally[status.value] += 1
        if start <= submitted_at < end:
            tally["submitted_in_period"] += 1
        if installed_at is not None and start <= installed_at < end:
            tally["installed_in_period"] += 1
    total = Counter[str]()
    for tally in by_district.values():
        total.update(tally)
    title = "Camera requests"
    if not total["all"]:
        return Section(
            title,
            [Paragraph("No request for a new camera has been made in these districts.")],
        )
    statuses = list(STATUS_WORDS)
    keys = ["all", *(s.value for s in statuses), "submitted_in_period", "installed_in_period"]

    def row(label: str, tally: Counter[str]) -> list[Cell]:
        return [label, *(tally[key] for key in keys)]

    open_now = total[RequestStatus.SUBMITTED.value] + total[RequestStatus.UNDER_REVIEW.value]
    return Section(
        title,
        [
            KeyFigures(
                [
                    KeyFigure("Submitted in the period", total["submitted_in_period"]),
                    KeyFigure("Installed in the period", total["installed_in_period"]),
                    KeyFigure(
                        "Awaiting a decision now",
                        open_now,
                        f"of {total['all']:,} requests in all",
                    ),
                ]
            ),
            Paragraph(
                "Requests for new cameras from district akimats and the police, by the status "
                f"each has now; submitted and installed count those of {context.period.label}."
            ),
            Table(
                [
                    Column("District"),
                    Column("Requests", numeric=True),
                    *(Column(STATUS_WORDS[s], numeric=True) for s in statuses),
                    Column("Submitted in period", numeric=True),
                    Column("Installed in period", numeric=True),
                ],
                [row(name, tally) for name, tally in by_district.items()],
                caption="Camera requests by district and status",
                total=row("Total", total),
            ),
        ],
    )
