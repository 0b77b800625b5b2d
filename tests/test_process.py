"""The wiring `serve` and `demo` share (safecity/process.py), without a web server."""

from __future__ import annotations

import threading
from pathlib import Path

from safecity.bus import Message
from safecity.ops.events import AlertChanged
from safecity.ops.models import Alert, AlertSource
from safecity.process import running_process
from safecity.settings import Settings
from safecity.store.engine import Database
from tests import factories as f


def test_changes_go_out_as_domain_events_while_the_process_runs_without_the_app_serving(
    database: Database, tmp_path: Path
) -> None:
    settings = Settings.model_validate({"data_dir": str(tmp_path), "video": {"cameras": "none"}})
    with database.session() as session:
        camera_id = f.add_camera(session, "W-1", f.add_district(session, "west", f.WEST)).id
    received: list[Message] = []
    arrived = threading.Event()

    def on_message(message: Message) -> None:
        received.append(message)
        arrived.set()

    with running_process(settings, database) as running:
        running.bus.subscribe(AlertChanged.topic, on_message)
        with database.session() as session:
            alert = Alert(
                source=AlertSource.MANUAL,
                camera_id=camera_id,
                kind="test",
                priority=3,
                title="Test",
                dedup_key=f"camera:{camera_id}:test",
            )
            session.add(alert)
        assert arrived.wait(5)
        assert AlertChanged.from_envelope(received[0].payload).id == alert.id
