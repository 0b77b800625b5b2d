"""Alert rules: which priority an event gets, or whether it is suppressed, by where and when.

A rule matches an event kind (or every kind, ``*``) at a scope — one camera, one site, one
district or the whole city — optionally only above a minimum confidence and only inside weekly
watch windows (the city's local time). Of the enabled rules that match, the most specific one
decides: camera over site over district over city; at the same scope a named kind over ``*``,
then a rule with a schedule over one without (so "intrusion at the school: suppress" plus
"intrusion at the school at night: priority 1" means night alerts only), then the oldest rule.
No matching rule: the kind's default priority.

Pure: no database, no clock; the caller passes the rules and the local time zone.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from safecity.city.schedule import WatchWindow, in_schedule

ANY_KIND = "*"


class RuleScope(enum.StrEnum):
    CITY = "city"
    DISTRICT = "district"
    SITE = "site"
    CAMERA = "camera"


SPECIFICITY = {RuleScope.CITY: 0, RuleScope.DISTRICT: 1, RuleScope.SITE: 2, RuleScope.CAMERA: 3}


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    kind: str
    scope: RuleScope
    target_id: int | None
    """The camera, site or district id for those scopes; None for the city."""
    priority: int | None
    """1–4; None keeps the kind's default priority."""
    suppress: bool = False
    enabled: bool = True
    min_confidence: float = 0.0
    schedule: tuple[WatchWindow, ...] = ()
    """Empty: always."""


@dataclass(frozen=True)
class Place:
    """Where an event happened, as far as it is known."""

    camera_id: int | None = None
    site_id: int | None = None
    district_id: int | None = None


@dataclass(frozen=True)
class Decision:
    priority: int | None
    """None: suppressed (no alert)."""
    rule: Rule | None
    """None: no rule matched; the kind's default priority."""

    @property
    def suppressed(self) -> bool:
        return self.priority is None

    def record(self) -> dict[str, Any]:
        """What the alert's details keep about the rule that decided."""
        if self.rule is None:
            return {"id": None, "name": "default for the kind", "scope": None}
        return {"id": self.rule.id, "name": self.rule.name, "scope": self.rule.scope.value}


def covers(rule: Rule, place: Place) -> bool:
    """Whether the rule's scope includes the place."""
    if rule.scope is RuleScope.CITY:
        return True
    target = {
        RuleScope.DISTRICT: place.district_id,
        RuleScope.SITE: place.site_id,
        RuleScope.CAMERA: place.camera_id,
    }[rule.scope]
    return target is not None and target == rule.target_id


def matches(
    rule: Rule,
    *,
    kind: str,
    place: Place,
    at: datetime,
    zone: tzinfo,
    confidence: float | None = None,
) -> bool:
    """``confidence`` None (a camera-health report, not a guess) passes every minimum."""
    return (
        rule.enabled
        and rule.kind in (kind, ANY_KIND)
        and covers(rule, place)
        and (confidence is None or confidence >= rule.min_confidence)
        and in_schedule(rule.schedule, at, zone)
    )


def _rank(rule: Rule) -> tuple[int, int, int, int]:
    return (
        -SPECIFICITY[rule.scope],
        0 if rule.kind != ANY_KIND else 1,
        0 if rule.schedule else 1,
        rule.id,
    )


def decide(
    rules: Iterable[Rule],
    *,
    kind: str,
    place: Place,
    at: datetime,
    zone: tzinfo,
    default_priority: int,
    confidence: float | None = None,
) -> Decision:
    """The priority of an event (None: suppressed) and the rule that decided it."""
    matching = [
        rule
        for rule in rules
        if matches(rule, kind=kind, place=place, at=at, zone=zone, confidence=confidence)
    ]
    if not matching:
        return Decision(priority=default_priority, rule=None)
    winner = min(matching, key=_rank)
    if winner.suppress:
        return Decision(priority=None, rule=winner)
    return Decision(priority=winner.priority or default_priority, rule=winner)
