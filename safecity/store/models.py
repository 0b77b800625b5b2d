"""Every capability's tables, imported so that ``Base.metadata`` knows the whole schema."""

from safecity.auth.models import LoginSession, User
from safecity.city.models import Camera, District, Organization, PoliceUnit, Site
from safecity.insights.models import CrimeRecord
from safecity.store.base import Base

__all__ = [
    "Base",
    "Camera",
    "CrimeRecord",
    "District",
    "LoginSession",
    "Organization",
    "PoliceUnit",
    "Site",
    "User",
]
