"""Sign in, sign out, who am I."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, Field

from safecity.api.deps import SESSION_COOKIE, CurrentScope, CurrentUser, DbSession, request_token
from safecity.audit.log import record
from safecity.auth.passwords import MAX_PASSWORD_LENGTH
from safecity.auth.roles import Role
from safecity.auth.scope import resolve_scope
from safecity.auth.sessions import authenticate, close_session, open_session, user_for_token
from safecity.auth.throttle import LoginThrottle
from safecity.bounds import Line
from safecity.settings import Settings

router = APIRouter(prefix="/api/auth", tags=["auth"])


class LoginRequest(BaseModel):
    # One line of text: PostgreSQL refuses a NUL in a query parameter (a 500, not a 401).
    username: Line = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    issue_token: bool = Field(
        default=False,
        description="Also return the session as a bearer token (API clients). Browsers leave "
        "this off and rely on the HttpOnly cookie, so no page script ever holds the token.",
    )


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: Role
    role_label: str
    organization: str | None
    city_wide: bool
    district_ids: list[int]


class LoginResponse(BaseModel):
    token: str | None = Field(description="Bearer token, only when issue_token was asked for.")
    expires_at: datetime
    user: UserOut


def _user_out(user: CurrentUser, scope: CurrentScope) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        role_label=user.role.label,
        organization=user.organization.name if user.organization else None,
        city_wide=scope.city_wide,
        district_ids=sorted(scope.district_ids),
    )


@router.post("/login", response_model=LoginResponse)
def login(
    body: LoginRequest, request: Request, response: Response, session: DbSession
) -> LoginResponse:
    settings: Settings = request.app.state.settings
    throttle: LoginThrottle = request.app.state.login_throttle
    name = body.username.lower()
    # The peer, or the client a trusted proxy forwarded for (api.trusted_proxies, create_app).
    address = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(name, address)
    if wait > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail="too many failed sign-ins; try again later",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    user = authenticate(session, body.username, body.password)
    if user is None:
        throttle.failed(name, address)
        record(session, action="auth.login_failed", actor=name, address=address)
        session.commit()  # the error below rolls the request's session back
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="wrong username or password")
    throttle.succeeded(name, address)
    token, expires_at = open_session(session, user, timedelta(hours=settings.api.session_hours))
    record(session, action="auth.login", actor=user.username, actor_id=user.id, address=address)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(settings.api.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=settings.api.secure_cookies,
        path="/",
    )
    return LoginResponse(
        token=token if body.issue_token else None,
        expires_at=expires_at,
        user=_user_out(user, resolve_scope(session, user)),
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, response: Response, session: DbSession) -> None:
    token = request_token(request)
    if token:
        user = user_for_token(session, token)
        if user is not None:
            record(
                session,
                action="auth.logout",
                actor=user.username,
                actor_id=user.id,
                address=request.client.host if request.client else None,
            )
        close_session(session, token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser, scope: CurrentScope) -> UserOut:
    return _user_out(user, scope)
