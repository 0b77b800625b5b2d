"""What the OCC's tests share: a small city to raise alerts and dispatch incidents in."""

from __future__ import annotations

import pytest

from safecity.store.engine import Database
from tests import factories as f


@pytest.fixture
def city(database: Database) -> f.EastCity:
    with database.session() as session:
        return f.add_east_city(session)
