"""Alert rules over HTTP: admins list, add, change and delete them; every change is audited
with the rule before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from safecity.api.deps import CurrentUser, DbSession, require_role
from safecity.audit.log import record as audit
from safecity.auth.models import User
from safecity.auth.roles import Role
from safecity.bounds import Id, Line
from safecity.city.models import Camera, District, Site
from safecity.city.schedule import WatchWindow
from safecity.ops.alerts.rule_models import AlertRule
from safecity.ops.alerts.rules import SPECIFICITY, RuleScope
from safecity.ops.incident_types import HIGHEST_PRIORITY, LOWEST_PRIORITY

router = APIRouter(
    prefix="/api/alert-rules",
    tags=["alert rules"],
    dependencies=[Depends(require_role(Role.ADMIN))],
)

RULE_NOT_FOUND = "no such alert rule"
SUPPRESS = "suppress"
KIND_PATTERN = r"^(\*|[a-z][a-z0-9_]*)$"

Priority = Annotated[int, Field(ge=HIGHEST_PRIORITY, le=LOWEST_PRIORITY)]
RulePriority = Priority | Literal["suppress"] | None
_TARGETS: dict[RuleScope, type[Camera | Site | District]] = {
    RuleScope.CAMERA: Camera,
    RuleScope.SITE: Site,
    RuleScope.DISTRICT: District,
}


class _RuleFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line = Field(min_length=1, max_length=200)
    kind: str = Field(  # its own pattern is stricter than Line
        min_length=1,
        max_length=64,
        pattern=KIND_PATTERN,
        description='The event kind (e.g. "intrusion", "camera_unreachable"), or "*" for all.',
    )
    scope: RuleScope
    target_id: Id | None = Field(
        default=None, description="The camera, site or district id; none for the city."
    )
    enabled: bool = True
    min_confidence: float = Field(
        default=0.0,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Events less sure than this do not match.",
    )
    schedule: list[WatchWindow] = Field(
        default_factory=list, max_length=28, description="Weekly windows (city time); [] always."
    )
    priority: RulePriority = Field(
        default=None,
        description='1 (most urgent) to 4, "suppress" (no alert), or null for the kind\'s '
        "default priority.",
    )


class AlertRuleIn(_RuleFields):
    @model_validator(mode="after")
    def _target_fits_scope(self) -> AlertRuleIn:
        _check_target(self.scope, self.target_id)
        return self


class AlertRulePatch(BaseModel):
    """Only the fields given change."""

    model_config = ConfigDict(extra="forbid")

    name: Line | None = Field(default=None, min_length=1, max_length=200)
    kind: str | None = Field(default=None, min_length=1, max_length=64, pattern=KIND_PATTERN)
    scope: RuleScope | None = None
    target_id: Id | None = None
    enabled: bool | None = None
    min_confidence: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    schedule: list[WatchWindow] | None = Field(default=None, max_length=28)
    priority: RulePriority = None


class AlertRuleOut(_RuleFields):
    id: int
    created_at: datetime
    updated_at: datetime


def _check_target(scope: RuleScope, target_id: int | None) -> None:
    if scope is RuleScope.CITY and target_id is not None:
        raise ValueError("a city-wide rule has no target_id")
    if scope is not RuleScope.CITY and target_id is None:
        raise ValueError(f"a {scope} rule needs target_id (the {scope}'s id)")


def _out(rule: AlertRule) -> AlertRuleOut:
    return AlertRuleOut(
        id=rule.id,
        name=rule.name,
        kind=rule.kind,
        scope=rule.scope,
        target_id=rule.target_id,
        enabled=rule.enabled,
        min_confidence=rule.min_confidence,
        schedule=[WatchWindow.model_validate(window) for window in rule.schedule],
        priority=SUPPRESS if rule.suppress else rule.priority,
        created_at=rule.created_at,
        updated_at=rule.updated_at,
    )


def _audited(rule: AlertRule) -> dict[str, Any]:
    return _out(rule).model_dump(mode="json", exclude={"created_at", "updated_at"})


def _apply(session: Session, rule: AlertRule, fields: _RuleFields) -> None:
    """Store validated fields on the row; 422 when the target does not exist."""
    if fields.scope is not RuleScope.CITY:
        model = _TARGETS[fields.scope]
        if session.get(model, fields.target_id) is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"no {fields.scope} {fields.target_id}",
            )
    rule.name, rule.kind, rule.scope = fields.name, fields.kind, fields.scope
    rule.camera_id = fields.target_id if fields.scope is RuleScope.CAMERA else None
    rule.site_id = fields.target_id if fields.scope is RuleScope.SITE else None
    rule.district_id = fields.target_id if fields.scope is RuleScope.DISTRICT else None
    rule.enabled, rule.min_confidence = fields.enabled, fields.min_confidence
    rule.schedule = [window.model_dump(mode="json") for window in fields.schedule]
    rule.suppress = fields.priority == SUPPRESS
    rule.priority = fields.priority if isinstance(fields.priority, int) else None


def _record(
    session: Session,
    request: Request,
    user: User,
    action: str,
    rule_id: Id,
    **details: dict[str, Any] | None,
) -> None:
    audit(
        session,
        action=action,
        actor=user.username,
        actor_id=user.id,
        target=f"alert_rule:{rule_id}",
        details=details,
        address=request.client.host if request.client else None,
    )


def _rule(session: Session, rule_id: int) -> AlertRule:
    rule = session.get(AlertRule, rule_id)
    if rule is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=RULE_NOT_FOUND)
    return rule


@router.get("", response_model=list[AlertRuleOut])
def list_rules(session: DbSession) -> list[AlertRuleOut]:
    """Every rule, the widest scope first (the more specific ones override them)."""
    rows = session.scalars(select(AlertRule).order_by(AlertRule.id))
    return sorted(
        (_out(rule) for rule in rows), key=lambda rule: (SPECIFICITY[rule.scope], rule.id)
    )


@router.post("", response_model=AlertRuleOut, status_code=status.HTTP_201_CREATED)
def create_rule(
    body: AlertRuleIn, session: DbSession, user: CurrentUser, request: Request
) -> AlertRuleOut:
    rule = AlertRule(created_by_id=user.id)
    _apply(session, rule, body)
    session.add(rule)
    session.flush()
    _record(session, request, user, "rule.create", rule.id, after=_audited(rule))
    return _out(rule)


@router.get("/{rule_id}", response_model=AlertRuleOut)
def get_rule(rule_id: Id, session: DbSession) -> AlertRuleOut:
    return _out(_rule(session, rule_id))


@router.patch("/{rule_id}", response_model=AlertRuleOut)
def update_rule(
    rule_id: Id, body: AlertRulePatch, session: DbSession, user: CurrentUser, request: Request
) -> AlertRuleOut:
    rule = _rule(session, rule_id)
    before = _audited(rule)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("scope", rule.scope) != rule.scope and "target_id" not in changes:
        changes["target_id"] = None  # the old target is another scope's: a new one is needed
    try:
        merged = AlertRuleIn.model_validate(
            {**{key: value for key, value in before.items() if key != "id"}, **changes}
        )
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=exc.errors(include_url=False, include_context=False, include_input=False),
        ) from exc
    _apply(session, rule, merged)
    session.flush()
    after = _audited(rule)
    if after != before:
        _record(session, request, user, "rule.update", rule.id, before=before, after=after)
    return _out(rule)


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(rule_id: Id, session: DbSession, user: CurrentUser, request: Request) -> Response:
    rule = _rule(session, rule_id)
    before = _audited(rule)
    session.delete(rule)
    session.flush()
    _record(session, request, user, "rule.delete", rule_id, before=before)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
