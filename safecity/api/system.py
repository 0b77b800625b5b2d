"""Liveness for load balancers, Prometheus metrics, and what the console says about itself."""

from __future__ import annotations

import hmac
from importlib.metadata import metadata
from typing import Literal, Protocol

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import text

from safecity import __version__
from safecity.api.deps import get_current_user, get_database, request_token, require_role
from safecity.auth.roles import Role
from safecity.settings import Settings

router = APIRouter(tags=["system"])

LICENSE = metadata("safecity")["License-Expression"]
"""The licence SafeCity is distributed under, as pyproject.toml declares it (SPDX)."""


class NodeHealth(Protocol):
    """What the process's video node reports about itself (``VideoNode``)."""

    def health_problems(self) -> list[str]: ...


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(
        description="'degraded' when the database is unreachable or anything in problems"
    )
    database: str
    problems: list[str] = Field(
        description="What keeps this process from keeping the city's video (recording that "
        "fails, retention that refuses to run), in a few words; the log says which and why"
    )
    version: str


@router.get("/api/health", response_model=Health, summary="Whether this process is well")
def health(request: Request, response: Response) -> Health:
    """For load balancers and monitoring, without sign-in. 503 only when the database is
    unreachable (this process can serve nothing); a recording or retention problem answers
    200 with status 'degraded': the console is still needed, to see it."""
    try:
        with get_database(request).engine.connect() as connection:
            connection.execute(text("select 1"))
        database = "ok"
    except Exception as exc:  # the point of this endpoint is to report, not to raise
        database = f"unreachable: {type(exc).__name__}"
        response.status_code = 503
    node: NodeHealth | None = request.app.state.node_health
    problems = node.health_problems() if node is not None else []
    return Health(
        status="ok" if database == "ok" and not problems else "degraded",
        database=database,
        problems=problems,
        version=__version__,
    )


class Installation(BaseModel):
    city_name: str
    timezone: str
    """IANA name: the console shows every time in the city's zone, whatever the browser's."""
    version: str = Field(description="SafeCity's version, as the installed package gives it")
    license: str = Field(description="The licence SafeCity is distributed under (SPDX)")


@router.get("/api/console", response_model=Installation)
def installation(request: Request) -> Installation:
    """What the console shows before sign-in: the city this installation serves, and the
    software's version and licence for its About box."""
    settings: Settings = request.app.state.settings
    return Installation(
        city_name=settings.city_name,
        timezone=settings.timezone,
        version=__version__,
        license=LICENSE,
    )


def may_read_metrics(request: Request) -> None:
    """Lets through what ``api.metrics_public`` and ``api.metrics_token`` allow, else only a
    signed-in administrator (401 for nobody signed in, 403 for another role): the metrics name
    routes, rates and queue sizes, operational detail for who runs the installation."""
    api = request.app.state.settings.api
    if api.metrics_public:
        return
    token = request_token(request)
    expected = api.metrics_token
    # compare_digest: the time taken says nothing about how much of the token was right. As
    # bytes: a header may carry any Latin-1 character, and only ASCII str may be compared.
    if token and expected:
        given, wanted = token.encode(), expected.get_secret_value().encode()
        if hmac.compare_digest(given, wanted):
            return
    with get_database(request).session() as session:
        require_role(Role.ADMIN)(get_current_user(request, session))


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(may_read_metrics)])
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
