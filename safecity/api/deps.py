"""Request dependencies: the database session, the signed-in user and the part of the city
they may see. Routers take these instead of reaching for globals."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from safecity.auth.models import User
from safecity.auth.roles import Role, Scope
from safecity.auth.scope import resolve_scope
from safecity.auth.sessions import user_for_token
from safecity.store.engine import Database

SESSION_COOKIE = "safecity_session"


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_session(request: Request) -> Iterator[Session]:
    with get_database(request).session() as session:
        yield session


# scope="function" commits before the response is sent. With the default ("request") FastAPI
# commits after sending, so a client could use a just-issued login token before it is stored.
# The commit still runs as a thread-pool call of its own after the endpoint's: an endpoint that
# holds a lock every writer waits for (the audit log's, e.g. raising an alert) commits itself,
# since under load that extra hop can outlast the work, all of it with the lock held.
DbSession = Annotated[Session, Depends(get_session, scope="function")]


def request_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    return request.cookies.get(SESSION_COOKIE)


def get_current_user(request: Request, session: DbSession) -> User:
    token = request_token(request)
    user = user_for_token(session, token) if token else None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="sign in first",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_scope(user: CurrentUser, session: DbSession) -> Scope:
    return resolve_scope(session, user)


CurrentScope = Annotated[Scope, Depends(get_scope)]


def require_role(*roles: Role) -> Callable[[User], User]:
    """A dependency that lets only users with one of ``roles`` through (403 otherwise)."""

    def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="your role may not do this")
        return user

    return check
