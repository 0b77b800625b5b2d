"""Incident types: the standard code, name, default priority, SOP checklist and the crime
register kind each one counts as.

They are the city's data: stored in the database (``models``), edited through the admin API
(``api``) or a file (``file``, ``cli``), and seeded on ``db upgrade`` from the built-in
catalogue ``default.yaml``. A checklist edit makes a new version; an incident keeps the version
it was opened with. This module is the pure part: the type as a value and its rules.
Priority 1 is the most urgent, 4 the least.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from safecity.bounds import text_problem
from safecity.city.crime_register import CrimeKind

HIGHEST_PRIORITY = 1
LOWEST_PRIORITY = 4
CODE_PATTERN = r"^[a-z][a-z0-9_]*$"
MAX_CODE = 64
MAX_NAME = 200
MAX_STEP = 500
MAX_STEPS = 50


@dataclass(frozen=True)
class IncidentType:
    code: str
    name: str
    default_priority: int
    crime_kind: CrimeKind | None
    """The kind in the police crime register (and so in the crime statistics) that this type
    of incident is counted as; None for incidents that are not crimes."""
    checklist: tuple[str, ...]
    """The standard operating procedure: steps the operator works through, in order."""
    active: bool = True
    """Offered for new incidents; a retired type still names the incidents opened with it."""


class UnknownIncidentType(LookupError):
    pass


class RetiredIncidentType(LookupError):
    """The type exists but is no longer offered for new incidents."""


def valid_priority(priority: int) -> bool:
    return HIGHEST_PRIORITY <= priority <= LOWEST_PRIORITY


def code_problem(code: str) -> str | None:
    if not 1 <= len(code) <= MAX_CODE or not re.fullmatch(CODE_PATTERN, code):
        return (
            f"must be 1–{MAX_CODE} lowercase letters, digits and underscores, "
            "starting with a letter"
        )
    return None


def name_problem(name: str) -> str | None:
    if not name.strip() or len(name) > MAX_NAME:
        return f"must be 1–{MAX_NAME} characters"
    return text_problem(name)


def checklist_problem(steps: tuple[str, ...]) -> str | None:
    """Why a checklist cannot be an SOP, or None: an incident type needs at least one step,
    each a line of text; a type with nothing to do has no procedure to follow."""
    if not steps:
        return "needs at least one step"
    if len(steps) > MAX_STEPS:
        return f"has more than {MAX_STEPS} steps"
    for number, step in enumerate(steps, start=1):
        if not step.strip() or len(step) > MAX_STEP:
            return f"step {number} must be 1–{MAX_STEP} characters"
        problem = text_problem(step)
        if problem:
            return f"step {number} {problem}"
    return None
