"""Reading a request an outside system signed (the inbound alert webhook, analytics events):
the body, bounded, and the source its signature proves (see ``inbound``)."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import HTTPException, Request, status
from pydantic import SecretStr

from safecity.ops.alerts import inbound

BAD_SIGNATURE = "unknown source, or a bad or stale signature"
MAX_SIGNED_BODY = 256 * 1024
TOO_LARGE = f"the body is over {MAX_SIGNED_BODY // 1024} KiB"


async def signed_body(request: Request, sources: Mapping[str, SecretStr]) -> tuple[str, bytes]:
    """The verified source name and the raw body of a request signed by an outside system, or
    413 for a body over MAX_SIGNED_BODY (read no further: nobody is verified yet) and 401 (the
    same answer for every reason) for an unknown source or a bad or stale signature."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_SIGNED_BODY:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=TOO_LARGE)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SIGNED_BODY:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail=TOO_LARGE)
    source = inbound.verified_source(
        sources,
        source=request.headers.get(inbound.SOURCE_HEADER),
        timestamp=request.headers.get(inbound.TIMESTAMP_HEADER),
        signature=request.headers.get(inbound.SIGNATURE_HEADER),
        body=bytes(body),
    )
    if source is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail=BAD_SIGNATURE)
    return source, bytes(body)
