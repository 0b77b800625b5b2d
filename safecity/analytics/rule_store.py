"""Rules and privacy masks as stored: a camera's own document, a site's, and what a camera
runs with (both merged).

A site's rules apply to each of its cameras while the site is active. When a camera has a rule
of the same name as one of its site's, the camera's own rule is the one it runs: an
administrator redraws the site's "Gate" zone for the one camera that sees the gate from
another angle without touching the site's rule for the others.

Replacing a document keeps the rows of rules whose names remain (their ids, which events
point to, stay), updates them, adds the new ones and deletes the rest; every change is
audited in the caller's transaction, nothing at all when the document did not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from safecity.analytics.models import AnalyticsRule, CameraMasks
from safecity.analytics.rules.definitions import CameraRules, Rule
from safecity.audit.log import record
from safecity.auth.models import User
from safecity.city.models import Camera, Site

_RULE: TypeAdapter[Rule] = TypeAdapter(Rule)


class UnknownCamera(LookupError):
    def __init__(self, camera_id: int) -> None:
        super().__init__(f"no camera {camera_id}")


def _stored_rules(session: Session, target: ColumnElement[bool]) -> list[AnalyticsRule]:
    query = select(AnalyticsRule).where(target).order_by(AnalyticsRule.position, AnalyticsRule.id)
    return list(session.scalars(query))


def _as_rules(rows: Sequence[AnalyticsRule]) -> list[Rule]:
    return [_RULE.validate_python(row.definition) for row in rows]


def camera_masks(session: Session, camera_id: int) -> list[list[tuple[float, float]]]:
    stored = session.get(CameraMasks, camera_id)
    if stored is None:
        return []
    return [[(x, y) for x, y in polygon] for polygon in stored.polygons]


def camera_document(session: Session, camera_id: int) -> CameraRules:
    """The camera's own rules and its masks, as an administrator last saved them."""
    rules = _as_rules(_stored_rules(session, AnalyticsRule.camera_id == camera_id))
    return CameraRules.model_construct(rules=rules, masks=camera_masks(session, camera_id))


def site_rules(session: Session, site_id: int) -> list[Rule]:
    """The site's rules, as an administrator last saved them."""
    return _as_rules(_stored_rules(session, AnalyticsRule.site_id == site_id))


def rules_for_camera(session: Session, camera_id: int) -> CameraRules:
    """What the camera runs with: its active site's rules, then its own, and its masks.

    A camera rule replaces a site rule of the same name (see the module's docstring), so every
    name is used once. Raises :class:`UnknownCamera` for a camera that does not exist."""
    camera = session.get(Camera, camera_id)
    if camera is None:
        raise UnknownCamera(camera_id)
    own = camera_document(session, camera_id)
    inherited: list[Rule] = []
    if camera.site_id is not None:
        site = session.get(Site, camera.site_id)
        if site is not None and site.active:
            names = {rule.name for rule in own.rules}
            inherited = [rule for rule in site_rules(session, site.id) if rule.name not in names]
    # Each part was validated when it was saved; together they may hold more rules than one
    # document may, which is what the camera runs.
    return CameraRules.model_construct(rules=[*inherited, *own.rules], masks=own.masks)


def rule_id_for(session: Session, camera_id: int, name: str) -> int | None:
    """The stored rule a camera runs under ``name``: its own, else its site's (as
    :func:`rules_for_camera` merges them); None when there is none any more (an edit took it
    away while the camera was still running it)."""
    own = session.scalar(
        select(AnalyticsRule.id).where(
            AnalyticsRule.camera_id == camera_id, AnalyticsRule.name == name
        )
    )
    if own is not None:
        return own
    site_id = session.scalar(select(Camera.site_id).where(Camera.id == camera_id))
    if site_id is None:
        return None
    return session.scalar(
        select(AnalyticsRule.id).where(AnalyticsRule.site_id == site_id, AnalyticsRule.name == name)
    )


def _definition(rule: Rule) -> dict[str, Any]:
    dumped: dict[str, Any] = rule.model_dump(mode="json")
    return dumped


def _replace(
    session: Session,
    rows: list[AnalyticsRule],
    rules: Sequence[Rule],
    actor: User,
    **target: int,
) -> dict[str, Any]:
    """Make ``rows`` say ``rules``; what changed, for the audit log."""
    by_name = {row.name: row for row in rows}
    wanted = {rule.name for rule in rules}
    changes: dict[str, Any] = {"added": {}, "changed": {}, "removed": {}}
    for stored in rows:
        if stored.name not in wanted:
            changes["removed"][stored.name] = stored.definition
            session.delete(stored)
    # Deletes first: a unique (target, name) may not hold two rows even for a moment.
    session.flush()
    for position, rule in enumerate(rules):
        definition = _definition(rule)
        row = by_name.get(rule.name)
        if row is None:
            changes["added"][rule.name] = definition
            row = AnalyticsRule(**target, name=rule.name)
            session.add(row)
        elif row.definition != definition:
            changes["changed"][rule.name] = {"from": row.definition, "to": definition}
        elif row.position == position:
            continue
        row.position, row.kind, row.enabled = position, rule.kind, rule.enabled
        row.definition = definition
        row.updated_by = actor.username
    session.flush()
    kept_before = [row.name for row in rows if row.name in wanted]
    kept_after = [rule.name for rule in rules if rule.name in by_name]
    if kept_before != kept_after:
        changes["order"] = [rule.name for rule in rules]
    return {key: value for key, value in changes.items() if value}


def replace_camera_rules(
    session: Session,
    camera: Camera,
    document: CameraRules,
    actor: User,
    *,
    address: str | None = None,
) -> CameraRules:
    """Store the camera's own rules and masks as ``document`` says (audited); the stored
    document."""
    rows = _stored_rules(session, AnalyticsRule.camera_id == camera.id)
    changes = _replace(session, rows, document.rules, actor, camera_id=camera.id)
    masks = [[list(point) for point in mask] for mask in document.masks]
    stored = session.get(CameraMasks, camera.id)
    before = stored.polygons if stored is not None else []
    if masks != before:
        changes["masks"] = {"from": before, "to": masks}
        if stored is None:
            session.add(CameraMasks(camera_id=camera.id, polygons=masks, updated_by=actor.username))
        elif not masks:
            session.delete(stored)
        else:
            stored.polygons, stored.updated_by = masks, actor.username
        session.flush()
    _audit(session, actor, f"camera:{camera.id}", changes, address)
    return camera_document(session, camera.id)


def replace_site_rules(
    session: Session,
    site: Site,
    rules: Sequence[Rule],
    actor: User,
    *,
    address: str | None = None,
) -> list[Rule]:
    """Store the site's rules (audited); the stored rules. Checked as a camera's document is
    (unique names, at most as many): raises pydantic's ValidationError, a ValueError."""
    CameraRules(rules=list(rules))
    rows = _stored_rules(session, AnalyticsRule.site_id == site.id)
    changes = _replace(session, rows, rules, actor, site_id=site.id)
    _audit(session, actor, f"site:{site.id}", changes, address)
    return site_rules(session, site.id)


def _audit(
    session: Session, actor: User, target: str, changes: dict[str, Any], address: str | None
) -> None:
    """One audit entry for a change of a camera's or a site's rules; none when nothing changed."""
    if changes:
        record(
            session,
            action="analytics.rules",
            actor=actor.username,
            actor_id=actor.id,
            target=target,
            details=changes,
            address=address,
        )
