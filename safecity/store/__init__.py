"""Persistence shared by every capability: the declarative base, engines, sessions, migrations."""

from safecity.store.base import Base
from safecity.store.engine import Database

__all__ = ["Base", "Database"]
