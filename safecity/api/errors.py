"""One shape for every refused request, safe to send whatever the request held.

FastAPI's own 422 echoes each offending value back (a 20 MB password comes back whole) and
fails as a 500 when that value is a NaN, which JSON cannot carry. Ours keeps FastAPI's shape,
``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``, without the values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from safecity.bounds import LINE_PATTERN, LINE_RULE, PARAGRAPH_PATTERN, PARAGRAPH_RULE

MAX_PROBLEMS = 20
MAX_NAME = 64
MAX_MESSAGE = 300


def _shown(part: int | str) -> int | str:
    """A location part: a field name or an index; a key from the request is cut short."""
    if isinstance(part, int):
        return part
    return part if len(part) <= MAX_NAME else part[: MAX_NAME - 1] + "…"


_TEXT_RULES = {LINE_PATTERN: LINE_RULE, PARAGRAPH_PATTERN: PARAGRAPH_RULE}


def _message(error: Any) -> str:
    """pydantic's message, or the rule in words where pydantic would quote our text pattern."""
    if error.get("type") == "string_pattern_mismatch":
        rule = _TEXT_RULES.get(str((error.get("ctx") or {}).get("pattern")))
        if rule is not None:
            return rule
    return str(error.get("msg", "invalid"))


def problems(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Where and what, for each of the first ``MAX_PROBLEMS`` errors; never the value sent."""
    shown = []
    for error in errors[:MAX_PROBLEMS]:
        message = _message(error)
        shown.append(
            {
                "loc": [_shown(part) for part in error.get("loc", ())],
                "msg": message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE] + "…",
                "type": str(error.get("type", "value_error")),
            }
        )
    if len(errors) > MAX_PROBLEMS:
        shown.append(
            {"loc": [], "msg": f"and {len(errors) - MAX_PROBLEMS} more", "type": "too_many"}
        )
    return shown


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        {"detail": problems(exc.errors())}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
    )


def _documented_422(schema: dict[str, Any]) -> None:
    """Say in the spec what a 422 carries: the list above for a request that breaks the
    schema, or one sentence for a valid request the city cannot meet ("no camera X")."""
    validation = schema.get("components", {}).get("schemas", {}).get("HTTPValidationError")
    if validation is None:
        return
    problems_list = validation["properties"]["detail"]
    validation["properties"]["detail"] = {
        "anyOf": [problems_list, {"type": "string"}],
        "title": "Detail",
        "description": "Each problem with the request, or why a valid request cannot be met.",
    }


def install(app: FastAPI) -> None:
    """Our 422 handler, and the spec that describes it."""
    app.add_exception_handler(RequestValidationError, _invalid_request)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _documented_422(generate())
        return generate()

    app.openapi = openapi  # type: ignore[method-assign]
