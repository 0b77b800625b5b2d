"""The node's analytics without its model: it says so, and takes the model up once fetched."""

from __future__ import annotations

import shutil
from pathlib import Path

from safecity.analytics.node import AnalyticsNode
from safecity.bus import InProcessBus
from safecity.settings import Settings
from safecity.store.engine import Database


def test_a_missing_model_is_a_health_problem_until_it_is_fetched(
    database: Database, ssd_model: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "models"
    settings = Settings.model_validate(
        {"data_dir": str(tmp_path), "analytics": {"models_dir": str(cache)}}
    )
    bus = InProcessBus()
    analytics = AnalyticsNode(settings, database, bus)
    analytics.start()
    try:
        problems = analytics.health_problems()
        assert problems == [
            "object detection off: the detector model is not fetched (safecity models fetch)"
        ]
        # The model arrives (`safecity models fetch` into the configured cache).
        shutil.copytree(ssd_model.parent, cache / ssd_model.parent.name)
        analytics.refresh()
        assert analytics.health_problems() == []
    finally:
        analytics.stop()
        bus.close()
