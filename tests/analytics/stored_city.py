"""The city of tests/api (two districts, a utility site in each, one user per role) served by
the real app in the city time zone of Aktobe (UTC+5), an analyst besides, and a helper that
stores analytics events as a camera's pipeline does.

Test modules take the fixtures by assignment (``client = stored_city.client``), which is how
pytest finds fixtures outside a conftest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safecity.analytics.event_store import record_event
from safecity.analytics.objects import Box, ObjectClass
from safecity.api.app import create_app
from safecity.auth.roles import Role
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f
from tests.api import conftest as api_fixtures
from tests.api.conftest import City

SignIn = Callable[[str], TestClient]
CITY_ZONE = "Asia/Aqtobe"
T0 = datetime(2026, 5, 1, 21, 0, tzinfo=UTC)

city = api_fixtures.city
signed_in = api_fixtures.signed_in


@pytest.fixture
def client(database: Database, city: City, tmp_path: Path) -> Iterator[TestClient]:
    """The real app; its media folder is tmp_path/media."""
    with database.session() as session:
        f.add_user(session, "analyst", Role.ANALYST)
    settings = Settings(data_dir=tmp_path, timezone=CITY_ZONE)
    with TestClient(create_app(settings, database)) as test_client:
        yield test_client


def media(tmp_path: Path) -> Path:
    return tmp_path / "media"


def add_event(database: Database, camera_id: int, **fields: Any) -> int:
    """An event of ``camera_id`` as a camera's pipeline stores it (a person crossing the
    "Gate" line at T0 unless ``fields`` say otherwise); its id."""
    at: datetime = fields.pop("at", T0)
    values: dict[str, Any] = {
        "started_at": at - timedelta(seconds=4),
        "rule_name": "Gate",
        "kind": "line_crossing",
        "confidence": 0.8,
        "boxes": [Box(10, 20, 50, 120)],
        "frame_size": (640, 360),
        "clip_start": at - timedelta(seconds=10),
        "clip_end": at + timedelta(seconds=10),
        "object_class": ObjectClass.PERSON,
        "track_id": 7,
        **fields,
    }
    with database.session() as session:
        return record_event(session, camera_id=camera_id, at=at, **values).id
