"""A file of requests into the database: what its rows are checked against, then every good
row stored, numbered and audited, in the caller's transaction.

As the camera registry does: with any bad row nothing is stored unless ``skip_invalid``;
``dry_run`` checks and stores nothing. The caller's transaction makes it all or nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.city.districts import stored_district_locator
from safecity.city.models import District, Organization, Site
from safecity.planning.requests.importing import (
    ImportContext,
    ParsedFile,
    Validation,
    same_request,
    validate,
)
from safecity.planning.requests.models import CameraRequest
from safecity.planning.requests.rules import Draft, Submitter
from safecity.planning.requests.service import (
    Actor,
    asking_organization,
    request_site,
    store_request,
)
from safecity.planning.requests.workflow import OPEN_STATUSES

Progress = Callable[[str, int, int], None]
"""Told (phase, done, total) as an import goes: phase is "checking" or "storing"."""


class ImportOutcome(enum.StrEnum):
    STORED = "stored"
    DRY_RUN = "dry_run"
    REJECTED = "rejected"  # bad rows and no skip_invalid: nothing stored


@dataclass(frozen=True)
class ImportReport:
    outcome: ImportOutcome
    validation: Validation
    numbers: tuple[str, ...] = ()
    """The numbers given to the stored requests, in file order."""

    @property
    def skipped(self) -> int:
        return len(self.validation.problems) if self.outcome is not ImportOutcome.REJECTED else 0


def load_context(session: Session) -> ImportContext:
    """Districts, organizations, sites and stored requests (every status) as they are now.
    Raises ValueError on an unusable district polygon."""
    keys: dict[str, set[int]] = {}
    names: dict[int, str] = {}
    for district_id, code, name in session.execute(
        select(District.id, District.code, District.name)
    ):
        names[district_id] = name
        keys.setdefault(code.casefold(), set()).add(district_id)
        keys.setdefault(name.casefold(), set()).add(district_id)
    organizations = [asking_organization(row) for row in session.scalars(select(Organization))]
    requests = list(session.scalars(select(CameraRequest).order_by(CameraRequest.number)))
    stored = {
        same_request(
            Draft(
                organization_id=row.organization_id,
                district_id=row.district_id,
                justification=row.justification,
                urgency=row.urgency,
                latitude=row.latitude,
                longitude=row.longitude,
                address=row.address,
            )
        ): row.number
        for row in sorted(requests, key=lambda r: r.status not in OPEN_STATUSES, reverse=True)
    }
    return ImportContext(
        locator=stored_district_locator(session),
        district_keys={key: frozenset(ids) for key, ids in keys.items()},
        district_names=names,
        organizations={org.code: org for org in organizations},
        organizations_by_id={org.id: org for org in organizations},
        sites={site.code: request_site(site) for site in session.scalars(select(Site))},
        stored=stored,
        statuses={row.number: (row.organization_id, row.status.value) for row in requests},
    )


def import_requests(
    session: Session,
    parsed: ParsedFile,
    submitter: Submitter,
    actor: Actor,
    *,
    default_organization: str | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row of ``parsed`` and store the good ones (see the module's words)."""
    validation = validate(
        parsed,
        load_context(session),
        submitter,
        default_organization=default_organization,
        progress=None
        if progress is None
        else lambda done, total: progress("checking", done, total),
    )
    if validation.problems and not skip_invalid:
        return ImportReport(ImportOutcome.REJECTED, validation)
    if dry_run:
        return ImportReport(ImportOutcome.DRY_RUN, validation)
    drafts = validation.drafts
    stored = []
    for index, draft in enumerate(drafts):
        stored.append(store_request(session, actor, draft))
        if progress is not None and ((index + 1) % 100 == 0 or index + 1 == len(drafts)):
            progress("storing", index + 1, len(drafts))
    return ImportReport(
        ImportOutcome.STORED, validation, tuple(request.number for request in stored)
    )
