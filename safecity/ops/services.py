"""The OCC's background workers, started and stopped together by `serve` and `demo`.

Each worker has ``start()`` and ``stop()``; they start in order and stop in reverse, so a
worker may rely on the ones listed before it. The first publishes the domain events of every
change committed in the process (``safecity/ops/events.py``), the workers' own included.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol

from safecity.bus import Bus
from safecity.ops.alerts.analytics import AnalyticsAlerts
from safecity.ops.alerts.camera_health import CameraHealthAlerts
from safecity.ops.alerts.grouping import AlertGrouping
from safecity.ops.dispatch.notifications import NotificationDispatcher
from safecity.ops.events import ChangePublisher
from safecity.ops.shifts.escalation import SlaEscalator
from safecity.settings import Settings
from safecity.store.engine import Database

log = logging.getLogger(__name__)


class Worker(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


class OpsServices:
    def __init__(self, settings: Settings, database: Database, bus: Bus) -> None:
        ops = settings.ops
        grouping = AlertGrouping.from_settings(ops)
        self.workers: list[Worker] = [
            ChangePublisher(database.sessions, bus),
            CameraHealthAlerts(
                bus,
                database,
                grace=timedelta(seconds=ops.camera_down_grace_seconds),
                start_grace=timedelta(seconds=ops.camera_down_at_start_grace_seconds),
                zone=settings.zone,
                grouping=grouping,
            ),
            AnalyticsAlerts(bus, database, zone=settings.zone, grouping=grouping),
            NotificationDispatcher(ops.notifications, database),
            SlaEscalator(ops.sla, database, bus),
        ]
        self._started: list[Worker] = []

    def start(self) -> None:
        try:
            for worker in self.workers:
                worker.start()
                self._started.append(worker)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        while self._started:
            worker = self._started.pop()
            try:
                worker.stop()
            except Exception:
                log.exception("stopping %s failed", type(worker).__name__)
