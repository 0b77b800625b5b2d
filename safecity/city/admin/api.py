"""The city administration API (``/api/admin``): districts, organizations, police units and
sites, admins only; each resource's endpoints in a module of their own."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from safecity.api.deps import require_role
from safecity.auth.roles import Role
from safecity.city.admin import districts_api, organizations_api, police_units_api, sites_api

router = APIRouter(
    prefix="/api/admin",
    tags=["city administration"],
    dependencies=[Depends(require_role(Role.ADMIN))],
)
for resource in (districts_api, organizations_api, police_units_api, sites_api):
    router.include_router(resource.router)
