"""POST /api/insights/crimes/import: a police statistics CSV file, checked row by row and
upserted by register number, for admins and analysts. Audited with the file's SHA-256."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from safecity.api.deps import CurrentUser, DbSession, require_role
from safecity.audit.log import record as audit
from safecity.auth.roles import Role
from safecity.core.clock import utcnow
from safecity.insights.crimes.file import MAX_ROWS, CrimeFileError, TooManyRows, parse_csv
from safecity.insights.crimes.schemas import CrimeImportOut
from safecity.insights.crimes.store import ConcurrentImport, ImportOutcome, import_file
from safecity.settings import Settings

IMPORTERS = (Role.ADMIN, Role.ANALYST)
LARGEST_IMPORT_MB = 32
MIB = 1024 * 1024
TOO_LARGE = f"the file is over {LARGEST_IMPORT_MB} MB: split it"

router = APIRouter(prefix="/api/insights/crimes", tags=["insights"])


async def _file_body(request: Request) -> bytes:
    """The body, refused (413) as soon as it is known to be too large."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > LARGEST_IMPORT_MB * MIB:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=TOO_LARGE)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > LARGEST_IMPORT_MB * MIB:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=TOO_LARGE)
    return bytes(body)


@router.post(
    "/import",
    response_model=CrimeImportOut,
    dependencies=[Depends(require_role(*IMPORTERS))],
    max_body_size=LARGEST_IMPORT_MB * MIB,
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
    responses={
        400: {"description": "Not a readable CSV file (encoding, header, quoting)."},
        409: {"description": "Another import wrote the same new register numbers meanwhile."},
        413: {"description": f"Over {LARGEST_IMPORT_MB} MB or over {MAX_ROWS:,} rows."},
        422: {"description": "Bad rows and no skip_invalid: nothing imported; the report."},
    },
)
def import_crimes(
    request: Request,
    response: Response,
    session: DbSession,
    user: CurrentUser,
    body: Annotated[bytes, Depends(_file_body)],
    dry_run: bool = False,
    skip_invalid: bool = False,
) -> CrimeImportOut:
    """Create or update crime records from a police statistics CSV (the body, text/csv):
    columns code, time, kind, place_kind, and latitude/longitude or district; solved and
    solved_at optional. Russian and Kazakh column names and values are understood
    (docs/insights.md). Every row is checked first; with any bad row nothing is written
    (422 with every problem) unless ``skip_invalid``. Importing the same file again changes
    nothing. ``dry_run`` checks and counts without writing."""
    settings: Settings = request.app.state.settings
    try:
        parsed = parse_csv(body)
    except TooManyRows as exc:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, detail=f"{exc}; nothing imported"
        ) from exc
    except CrimeFileError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"{exc}; nothing imported") from exc
    try:
        report = import_file(
            session,
            parsed,
            zone=settings.zone,
            now=utcnow(),
            skip_invalid=skip_invalid,
            dry_run=dry_run,
        )
    except ConcurrentImport as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    except ValueError as exc:  # an unusable district polygon
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"cannot locate: {exc}") from exc
    out = CrimeImportOut.of(report, dict(parsed.columns), list(parsed.ignored_columns))
    if report.outcome is ImportOutcome.REJECTED:
        response.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    elif report.outcome is ImportOutcome.WRITTEN:
        audit(
            session,
            action="crimes.import",
            actor=user.username,
            actor_id=user.id,
            target="crime_records",
            details={
                "sha256": hashlib.sha256(body).hexdigest(),
                "rows": out.rows,
                "created": out.created,
                "updated": out.updated,
                "unchanged": out.unchanged,
                "skipped": out.skipped,
                "columns": out.columns,
            },
            address=request.client.host if request.client else None,
        )
    return out
