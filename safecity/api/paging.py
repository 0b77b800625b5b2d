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
from typing import Annotated

from fastapi import HTTPException, Query, Response, status
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from safecity.bounds import MAX_ID, moment_problem

NEXT_CURSOR_HEADER = "X-Next-Cursor"
MAX_PRIORITY = 99
"""Alert and incident priorities are 1 to 4; a cursor past this is not one of ours."""
BAD_CURSOR = "bad cursor: pass back the X-Next-Cursor value of the previous page"


def encode(priority: int, at: datetime, row_id: int) -> str:
    raw = json.dumps([priority, at.isoformat(), row_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[int, datetime, int]:
    """The (priority, time, id) a cursor names; 422 for anything else, a cursor whose values
    no row could have (an id past 2^31, a year 9999 time) included."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        priority, at, row_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        when = datetime.fromisoformat(at)
        if not (
            type(priority) is int
            and 0 <= priority <= MAX_PRIORITY
            and type(row_id) is int
            and 1 <= row_id <= MAX_ID
            and when.tzinfo is not None
            and moment_problem(when) is None
        ):
            raise ValueError(cursor)
    except (ValueError, TypeError, RecursionError, binascii.Error, UnicodeDecodeError) as exc:
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


def encode_newest(at: datetime, row_id: int) -> str:
    """The cursor of a row in a list ordered by time alone, ``at DESC, id DESC``."""
    return encode(0, at, row_id)


def decode_newest(cursor: str) -> tuple[datetime, int]:
    """The (time, id) an ``encode_newest`` cursor names; 422 for anything else."""
    priority, at, row_id = decode(cursor)
    if priority != 0:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=BAD_CURSOR)
    return at, row_id


Cursor = Annotated[
    str | None,
    Query(max_length=200, description="The X-Next-Cursor of the previous page."),
]


def announce_next(response: Response, cursor: str | None) -> None:
    if cursor is not None:
        response.headers[NEXT_CURSOR_HEADER] = cursor
