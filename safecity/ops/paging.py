"""Keyset pages for the OCC's lists: a cursor names the last row of a page, so the next page
starts right after it however many rows arrive meanwhile (an offset would skip or repeat rows
on a list that grows fifty times a second: new alerts sort first, before any cursor).

A row that changes its sort keys while someone pages (an alert folding a repeat moves its
``last_at``) can move before the cursor and is not in a later page; the live feed delivers
that change, so a console that pages and follows the feed misses nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from fastapi import HTTPException, Response, status
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

NEXT_CURSOR_HEADER = "X-Next-Cursor"
BAD_CURSOR = "bad cursor: pass back the X-Next-Cursor value of the previous page"


def encode(priority: int, at: datetime, row_id: int) -> str:
    raw = json.dumps([priority, at.isoformat(), row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[int, datetime, int]:
    """The (priority, time, id) a cursor names; 422 for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        priority, at, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        when = datetime.fromisoformat(at)
        if not isinstance(priority, int) or not isinstance(row_id, int) or when.tzinfo is None:
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=BAD_CURSOR) from exc
    return priority, when, row_id


def after(
    cursor: str,
    priority: InstrumentedAttribute[int],
    at: InstrumentedAttribute[datetime],
    row_id: InstrumentedAttribute[int],
) -> ColumnElement[bool]:
    """Rows after the cursor in the order ``priority, at DESC, id DESC``."""
    p, t, i = decode(cursor)
    return or_(
        priority > p,
        and_(priority == p, or_(at < t, and_(at == t, row_id < i))),
    )


def announce_next(response: Response, cursor: str | None) -> None:
    if cursor is not None:
        response.headers[NEXT_CURSOR_HEADER] = cursor
