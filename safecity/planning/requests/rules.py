"""Who may ask for a camera where, and for whom. Pure: the caller loads what is checked.

An akimat user asks for their own organization, in the districts they see (a district akimat
its district; the city akimat anywhere); a duty officer for the police, in their unit's
districts. The programme office (the administrator, or a command run at the server) registers
a request for any akimat or police organization, within that organization's own area: a
district akimat's district, or the whole city for the city akimat and the police.
"""

from __future__ import annotations

from dataclasses import dataclass

from safecity.auth.roles import Role, Scope
from safecity.city.models import OrganizationKind
from safecity.planning.requests.models import Urgency
from safecity.planning.requests.workflow import SUBMITTERS

ASKING_KINDS = frozenset({OrganizationKind.AKIMAT, OrganizationKind.POLICE})


@dataclass(frozen=True)
class Submitter:
    """The person submitting (or importing), as far as the rules care."""

    role: Role
    organization_id: int | None
    scope: Scope

    @property
    def for_others(self) -> bool:
        """Submits on behalf of organizations (the programme office), not for its own."""
        return self.role is Role.ADMIN

    @classmethod
    def programme_office(cls) -> Submitter:
        """A command run at the server: the programme office's powers, no organization."""
        return cls(Role.ADMIN, None, Scope(city_wide=True))


@dataclass(frozen=True)
class Draft:
    """A checked request, ready to be numbered and stored."""

    organization_id: int
    district_id: int
    justification: str
    urgency: Urgency
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = None
    site_id: int | None = None


@dataclass(frozen=True)
class AskingOrganization:
    id: int
    code: str
    name: str
    kind: OrganizationKind
    district_id: int | None
    city_wide: bool
    active: bool = True


@dataclass(frozen=True)
class RequestSite:
    id: int
    code: str
    district_id: int
    owner_organization_id: int | None


def role_problem(submitter: Submitter) -> str | None:
    if submitter.role not in SUBMITTERS:
        return "your role may not submit camera requests"
    if not submitter.for_others and submitter.organization_id is None:
        return "you belong to no organization to submit for"
    return None


def organization_problem(
    submitter: Submitter, organization: AskingOrganization | None, named: str | None
) -> str | None:
    """Why ``organization`` (None: the one ``named`` does not exist, or none was named)
    cannot ask through this submitter, or None."""
    if organization is None:
        if named is None:
            return (
                "organization: required (the akimat or police organization that asks)"
                if submitter.for_others
                else None
            )
        return f"organization: no organization {named!r}"
    if not submitter.for_others and organization.id != submitter.organization_id:
        return "organization: you submit for your own organization only"
    if organization.kind not in ASKING_KINDS:
        return (
            f"organization: {organization.code!r} is a {organization.kind.value} organization; "
            "requests come from an akimat or the police"
        )
    if not organization.active:
        return f"organization: {organization.code!r} is deactivated"
    return None


def district_problem(
    submitter: Submitter, organization: AskingOrganization, district_id: int, district_name: str
) -> str | None:
    """Why a request in ``district_id`` is outside what may be asked for, or None."""
    if not submitter.for_others:
        if not submitter.scope.sees_district(district_id):
            return f"district: {district_name} is outside your area"
        return None
    if (
        organization.kind is OrganizationKind.AKIMAT
        and not organization.city_wide
        and organization.district_id != district_id
    ):
        return f"district: {district_name} is outside the area of {organization.name}"
    return None


def site_problem(
    submitter: Submitter, site: RequestSite | None, named: str | None, district_id: int | None
) -> str | None:
    """Why the site cannot be named: unknown or not visible to the submitter (the same
    words for both), or in another district than the request."""
    if named is None:
        return None
    if site is None or not submitter.scope.sees_site(site.district_id, site.owner_organization_id):
        return f"site: no site {named!r}, or not yours to see"
    if district_id is not None and site.district_id != district_id:
        return f"site: {site.code!r} lies in another district than the request"
    return None
