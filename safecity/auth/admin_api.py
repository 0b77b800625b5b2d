"""Managing users over HTTP, for admins: list, add, edit, deactivate, reset a password, sign
someone out everywhere. The rules are ``users.py``'s; every change is audited with what
changed, never a password."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safecity.api.deps import CurrentUser, DbSession, require_role
from safecity.audit.log import record
from safecity.auth.models import LoginSession, User
from safecity.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from safecity.auth.roles import Role
from safecity.auth.sessions import close_all_sessions
from safecity.auth.users import (
    KEEP,
    UserConflict,
    UserError,
    activate_user,
    create_user,
    deactivate_user,
    edit_user,
    find_organization,
    find_police_unit,
    generate_password,
    open_sessions,
    reset_password,
    user_facts,
    users_query,
)
from safecity.bounds import Id, Line, Offset
from safecity.city.models import Organization, PoliceUnit
from safecity.core.clock import utcnow

router = APIRouter(
    prefix="/api/admin/users",
    tags=["users"],
    dependencies=[Depends(require_role(Role.ADMIN))],
)

NOT_FOUND = "no such user"

Code = Annotated[Line, Field(min_length=1, max_length=64)]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]


class LinkOut(BaseModel):
    id: int
    code: str
    name: str


class ManagedUserOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: Role
    role_label: str
    organization: LinkOut | None
    police_unit: LinkOut | None
    is_active: bool = Field(description="A deactivated user cannot sign in.")
    created_at: datetime
    open_sessions: int = Field(description="Unexpired logins the user has now.")


class UserPage(BaseModel):
    items: list[ManagedUserOut]
    total: int
    limit: int
    offset: int


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Code = Field(
        description="2–64 lower-case letters, digits, '.', '_' or '-'; what they sign in with."
    )
    full_name: Line = Field(min_length=1, max_length=200)
    role: Role
    organization_code: Code | None = None
    organization_id: Id | None = Field(default=None, description="Instead of the code.")
    police_unit_code: Code | None = Field(
        default=None, description="For a police duty officer (their organization follows it)."
    )
    police_unit_id: Id | None = Field(default=None, description="Instead of the code.")
    password: Password | None = Field(
        default=None,
        description="The first password; leave out to have one generated and returned once.",
    )


class UserCreated(BaseModel):
    user: ManagedUserOut
    generated_password: str | None = Field(
        description="Only when none was given: hand it to the user; it is never shown again."
    )


class UserUpdate(BaseModel):
    """Only the fields sent change; null clears an organization or a police unit."""

    model_config = ConfigDict(extra="forbid")

    full_name: Line | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    organization_code: Code | None = None
    organization_id: Id | None = None
    police_unit_code: Code | None = None
    police_unit_id: Id | None = None

    @model_validator(mode="after")
    def _name_and_role_stay(self) -> UserUpdate:
        for field in ("full_name", "role"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be cleared")
        return self


class PasswordResetRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Password | None = Field(
        default=None, description="The new password; leave out to have one generated."
    )


class PasswordResetOut(BaseModel):
    generated_password: str | None = Field(
        description="Only when none was given: shown this once, stored nowhere."
    )
    sessions_ended: int


class SignedOutOut(BaseModel):
    sessions_ended: int


def _link(linked: Organization | PoliceUnit | None) -> LinkOut | None:
    if linked is None:
        return None
    return LinkOut(id=linked.id, code=linked.code, name=linked.name)


def _user_out(user: User, sessions: int) -> ManagedUserOut:
    return ManagedUserOut(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        role_label=user.role.label,
        organization=_link(user.organization),
        police_unit=_link(user.police_unit),
        is_active=user.is_active,
        created_at=user.created_at,
        open_sessions=sessions,
    )


def managed_user(user_id: Id, session: DbSession) -> User:
    """The user named in the path, or 404."""
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
    return user


ManagedUser = Annotated[User, Depends(managed_user)]


def _refused(exc: UserError) -> HTTPException:
    """A conflict with the user's state is a 409; any other refused input a 422 that says why."""
    code = (
        status.HTTP_409_CONFLICT
        if isinstance(exc, UserConflict)
        else status.HTTP_422_UNPROCESSABLE_CONTENT
    )
    return HTTPException(code, detail=str(exc))


def _audit(
    session: Session,
    request: Request,
    admin: User,
    action: str,
    user: User,
    details: dict[str, Any],
) -> None:
    record(
        session,
        action=action,
        actor=admin.username,
        actor_id=admin.id,
        target=f"user:{user.id}",
        details=details,
        address=request.client.host if request.client else None,
    )


@router.get("", response_model=UserPage, summary="List users")
def list_users(
    session: DbSession,
    role: Role | None = None,
    organization: Annotated[Code | None, Query(description="Organization code.")] = None,
    active: Annotated[bool | None, Query(description="Only active (or deactivated) users.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> UserPage:
    """Users by username, filtered by role, organization and whether they may sign in."""
    query = users_query(role=role, organization_code=organization, active=active)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    users = list(session.scalars(query.limit(limit).offset(offset)))
    sessions: dict[int, int] = {
        user_id: count
        for user_id, count in session.execute(
            select(LoginSession.user_id, func.count())
            .where(
                LoginSession.user_id.in_([user.id for user in users]),
                LoginSession.expires_at > utcnow(),
            )
            .group_by(LoginSession.user_id)
        )
    }
    return UserPage(
        items=[_user_out(user, sessions.get(user.id, 0)) for user in users],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/{user_id}", response_model=ManagedUserOut, summary="Show a user")
def get_user(user: ManagedUser, session: DbSession) -> ManagedUserOut:
    return _user_out(user, open_sessions(session, user))


@router.post(
    "",
    response_model=UserCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Add a user",
)
def add(body: UserCreate, request: Request, session: DbSession, admin: CurrentUser) -> UserCreated:
    """Add a user with the organization and police unit their role needs (422 saying which is
    missing or wrong). Without a password one is generated and returned this once."""
    password = body.password if body.password is not None else generate_password()
    try:
        user = create_user(
            session,
            username=body.username,
            full_name=body.full_name,
            role=body.role,
            password=password,
            organization=find_organization(
                session, code=body.organization_code, id=body.organization_id
            ),
            police_unit=find_police_unit(
                session, code=body.police_unit_code, id=body.police_unit_id
            ),
        )
    except UserError as exc:
        raise _refused(exc) from exc
    generated = body.password is None
    _audit(
        session,
        request,
        admin,
        "user.add",
        user,
        {**user_facts(user), "generated_password": generated},
    )
    return UserCreated(user=_user_out(user, 0), generated_password=password if generated else None)


@router.patch("/{user_id}", response_model=ManagedUserOut, summary="Edit a user")
def edit(
    body: UserUpdate, user: ManagedUser, request: Request, session: DbSession, admin: CurrentUser
) -> ManagedUserOut:
    """Change the full name, role, organization or police unit. The result must still meet
    the role's rules (a duty officer keeps a unit, an akimat user an akimat organization…),
    and the last active admin cannot stop being one (409)."""
    sent = body.model_fields_set
    try:
        organization = (
            find_organization(session, code=body.organization_code, id=body.organization_id)
            if sent & {"organization_code", "organization_id"}
            else KEEP
        )
        police_unit = (
            find_police_unit(session, code=body.police_unit_code, id=body.police_unit_id)
            if sent & {"police_unit_code", "police_unit_id"}
            else KEEP
        )
        changes = edit_user(
            session,
            user,
            full_name=body.full_name if body.full_name is not None else KEEP,
            role=body.role if body.role is not None else KEEP,
            organization=organization,
            police_unit=police_unit,
        )
    except UserError as exc:
        raise _refused(exc) from exc
    if changes:
        _audit(
            session,
            request,
            admin,
            "user.update",
            user,
            {"username": user.username, "changed": changes},
        )
    return _user_out(user, open_sessions(session, user))


@router.post("/{user_id}/deactivate", response_model=ManagedUserOut, summary="Deactivate a user")
def deactivate(
    user: ManagedUser, request: Request, session: DbSession, admin: CurrentUser
) -> ManagedUserOut:
    """The user can no longer sign in, and every session they have ends now. Refused (409) for
    the last active admin and for a user already deactivated."""
    try:
        ended = deactivate_user(session, user)
    except UserError as exc:
        raise _refused(exc) from exc
    _audit(
        session,
        request,
        admin,
        "user.deactivate",
        user,
        {"username": user.username, "sessions_ended": ended},
    )
    return _user_out(user, 0)


@router.post("/{user_id}/activate", response_model=ManagedUserOut, summary="Reactivate a user")
def activate(
    user: ManagedUser, request: Request, session: DbSession, admin: CurrentUser
) -> ManagedUserOut:
    """A deactivated user may sign in again, with the password they had (409 if active)."""
    try:
        activate_user(session, user)
    except UserError as exc:
        raise _refused(exc) from exc
    _audit(session, request, admin, "user.activate", user, {"username": user.username})
    return _user_out(user, 0)


@router.post("/{user_id}/password", response_model=PasswordResetOut, summary="Reset a password")
def new_password(
    body: PasswordResetRequest,
    user: ManagedUser,
    request: Request,
    session: DbSession,
    admin: CurrentUser,
) -> PasswordResetOut:
    """Set a new password, or have one generated and returned this once; the user's sessions
    end, so whoever knew the old one is signed out."""
    try:
        generated, ended = reset_password(session, user, body.password)
    except UserError as exc:
        raise _refused(exc) from exc
    _audit(
        session,
        request,
        admin,
        "user.password_reset",
        user,
        {"username": user.username, "generated": generated is not None, "sessions_ended": ended},
    )
    return PasswordResetOut(generated_password=generated, sessions_ended=ended)


@router.post(
    "/{user_id}/sign-out", response_model=SignedOutOut, summary="Sign a user out everywhere"
)
def sign_out_everywhere(
    user: ManagedUser, request: Request, session: DbSession, admin: CurrentUser
) -> SignedOutOut:
    """End every session the user has (a lost phone, a shared terminal); they may sign in
    again with their password."""
    ended = close_all_sessions(session, user.id)
    _audit(
        session,
        request,
        admin,
        "user.sign_out_everywhere",
        user,
        {"username": user.username, "sessions_ended": ended},
    )
    return SignedOutOut(sessions_ended=ended)
