"""The incident types file (``incident_types.yaml``): the format a city folder keeps its types
in, the built-in catalogue ships in (``default.yaml``) and ``safecity incident-types export``
writes. Pure: bytes in, types and problems out, and back.

The file is a mapping with one key, ``incident_types``: a list of entries, each with ``code``,
``name``, ``priority`` (1 most urgent … 4), ``crime_kind`` (a crime register kind, or null),
``checklist`` (the SOP steps, in order) and optionally ``active`` (true by default).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from safecity.city.crime_register import CrimeKind
from safecity.ops.incident_types import (
    HIGHEST_PRIORITY,
    LOWEST_PRIORITY,
    IncidentType,
    checklist_problem,
    code_problem,
    name_problem,
)

FILE_NAME = "incident_types.yaml"
TOP_KEY = "incident_types"
FIELDS = ("code", "name", "priority", "crime_kind", "checklist", "active")
REQUIRED = ("code", "name", "priority", "checklist")
BUILT_IN = "built-in catalogue"
"""Who wrote the checklists seeded from ``default.yaml``."""
HEADER = (
    "# SafeCity incident types: code, name, default priority (1 most urgent … 4), the crime\n"
    "# register kind each counts as (null: not a crime), and the SOP checklist, in order.\n"
    "# See docs/incident-types.md.\n"
)


@dataclass(frozen=True)
class FileProblem:
    """What is wrong, and where: the file, the entry (1-based, with its code when it has one)
    and the field; entry and field are None for a problem with the file as a whole."""

    source: str
    entry: int | None
    code: str | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = [self.source]
        if self.entry is not None:
            where.append(f"entry {self.entry}" + (f" ({self.code})" if self.code else ""))
        if self.field is not None:
            where.append(self.field)
        return f"{': '.join(where)}: {self.reason}"


def parse_incident_types(
    data: bytes, source_name: str = FILE_NAME
) -> tuple[list[IncidentType], list[FileProblem]]:
    """Every entry of the file checked: the types when there is no problem, else the problems
    (and the types that were good, which a caller must not store alone)."""

    def whole(reason: str) -> tuple[list[IncidentType], list[FileProblem]]:
        return [], [FileProblem(source_name, None, None, None, reason)]

    try:
        document = yaml.safe_load(data.decode("utf-8"))
    except UnicodeDecodeError:
        return whole("is not UTF-8 text")
    except yaml.YAMLError as exc:
        return whole(f"is not YAML: {exc}")
    if not isinstance(document, dict) or not isinstance(document.get(TOP_KEY), list):
        return whole(f"must be a mapping with the key {TOP_KEY!r} holding a list of types")
    if set(document) != {TOP_KEY}:
        extra = ", ".join(sorted(map(str, set(document) - {TOP_KEY})))
        return whole(f"has unknown top-level keys: {extra}")
    entries: list[Any] = document[TOP_KEY]
    if not entries:
        return whole("lists no incident types")
    types: list[IncidentType] = []
    problems: list[FileProblem] = []
    first_at: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        checker = _EntryChecker(source_name, number, entry)
        parsed = checker.parse()
        problems.extend(checker.problems)
        code = checker.code
        if code is not None and code in first_at:
            problems.append(
                FileProblem(
                    source_name,
                    number,
                    code,
                    "code",
                    f"duplicate code: entry {first_at[code]} has it too",
                )
            )
            continue
        if code is not None:
            first_at[code] = number
        if parsed is not None:
            types.append(parsed)
    return types, problems


class _EntryChecker:
    def __init__(self, source: str, number: int, entry: object) -> None:
        self.source, self.number, self.entry = source, number, entry
        self.code: str | None = None
        self.problems: list[FileProblem] = []

    def problem(self, field: str | None, reason: str) -> None:
        self.problems.append(FileProblem(self.source, self.number, self.code, field, reason))

    def parse(self) -> IncidentType | None:
        if not isinstance(self.entry, dict):
            self.problem(None, "must be a mapping of code, name, priority, crime_kind, checklist")
            return None
        entry: Mapping[Any, Any] = self.entry
        code = self.text(entry, "code", code_problem)
        if code is not None:
            self.code = code
        unknown = sorted(str(key) for key in entry if key not in FIELDS)
        if unknown:
            self.problem(None, f"unknown field {', '.join(unknown)}; known: {', '.join(FIELDS)}")
        for field in REQUIRED:
            if field not in entry:
                self.problem(field, "is required")
        name = self.text(entry, "name", name_problem)
        priority = self.priority(entry.get("priority"))
        crime_kind = self.crime_kind(entry.get("crime_kind"))
        checklist = self.checklist(entry.get("checklist"))
        active = entry.get("active", True)
        if not isinstance(active, bool):
            self.problem("active", "must be true or false")
        if self.problems or code is None or name is None or priority is None:
            return None
        assert checklist is not None
        return IncidentType(code, name, priority, crime_kind, checklist, active is True)

    def text(
        self, entry: Mapping[Any, Any], field: str, rule: Callable[[str], str | None]
    ) -> str | None:
        if field not in entry:
            return None
        value = entry[field]
        if not isinstance(value, str):
            self.problem(field, "must be text")
            return None
        problem = rule(value)
        if problem:
            self.problem(field, problem)
            return None
        return value

    def priority(self, value: object) -> int | None:
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not HIGHEST_PRIORITY <= value <= LOWEST_PRIORITY
        ):
            self.problem(
                "priority",
                f"must be a whole number {HIGHEST_PRIORITY} (most urgent) to "
                f"{LOWEST_PRIORITY}, not {value!r}",
            )
            return None
        return value

    def crime_kind(self, value: object) -> CrimeKind | None:
        if value is None:
            return None
        known = {kind.value: kind for kind in CrimeKind}
        if isinstance(value, str) and value in known:
            return known[value]
        self.problem(
            "crime_kind", f"unknown crime kind {value!r}; known: {', '.join(known)} or null"
        )
        return None

    def checklist(self, value: object) -> tuple[str, ...] | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(step, str) for step in value):
            self.problem("checklist", "must be a list of steps, each a line of text")
            return None
        steps = tuple(value)
        problem = checklist_problem(steps)
        if problem:
            self.problem("checklist", problem)
            return None
        return steps


def serialise_incident_types(types: Sequence[IncidentType]) -> bytes:
    """The file for these types, in code order: what ``parse_incident_types`` reads back as the
    same types, and what a file written here reads and writes back to byte for byte."""
    entries = [
        {
            "code": kind.code,
            "name": kind.name,
            "priority": kind.default_priority,
            "crime_kind": kind.crime_kind.value if kind.crime_kind else None,
            "active": kind.active,
            "checklist": list(kind.checklist),
        }
        for kind in sorted(types, key=lambda kind: kind.code)
    ]
    body = yaml.safe_dump(
        {TOP_KEY: entries}, sort_keys=False, allow_unicode=True, width=100, indent=2
    )
    return (HEADER + body).encode("utf-8")


def default_incident_types() -> list[IncidentType]:
    """The built-in catalogue, shipped as ``default.yaml``: what a new database starts with."""
    data = resources.files(__package__).joinpath("default.yaml").read_bytes()
    types, problems = parse_incident_types(data, "default.yaml")
    if problems:
        raise ValueError("; ".join(map(str, problems)))
    return types
