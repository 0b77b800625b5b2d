"""Named counters (``counters`` table): numbers handed out one after the other, e.g. the
incident numbers of a year.

Taking the next value updates the counter's row, so on PostgreSQL it stays locked until the
caller's transaction ends: a second taker waits for it, and a rolled-back transaction hands
its number back. Nothing else waits: the lock is that one row's.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import BigInteger, String, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from safecity.store.base import Base
from safecity.store.locks import is_postgresql, take_write_lock


class Counter(Base):
    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, doc="The value last handed out.")


def next_value(session: Session, name: str, *, first: Callable[[], int]) -> int:
    """The counter's next value, in the caller's transaction. A counter that does not exist
    yet starts at ``first()`` (read once, e.g. from rows numbered before the counter was kept);
    two transactions starting it at once get ``first()`` and the value after it."""
    take_write_lock(session)
    taken = session.execute(
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar()
    if taken is not None:
        return taken
    insert = postgresql.insert(Counter) if is_postgresql(session) else sqlite.insert(Counter)
    statement = (
        insert.values(name=name, value=first())
        .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
        .returning(Counter.value)
    )
    return session.execute(statement).scalar_one()
