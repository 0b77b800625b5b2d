"""Writes finished segments into the index, many per transaction, off the ingest threads.

A city's cameras finish about one segment per camera every ten seconds; inserting each on its
camera's thread would put a database round trip in the ingest path. If the database is away,
rows wait here and are retried; the files are already safe on disk, and start-up recovery
indexes any file whose row never made it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from safecity.core.periodic import PeriodicWork
from safecity.store.engine import Database
from safecity.video.models import RecordedSegment
from safecity.video.recording.recorder import FinishedSegment

log = logging.getLogger(__name__)

MAX_WAITING = 100_000
"""Rows kept while the database is unreachable (about 3 hours of 100 cameras)."""


def segment_row(segment: FinishedSegment) -> dict[str, object]:
    row = asdict(segment)
    del row["camera_code"]
    return row


class SegmentIndexWriter:
    def __init__(self, database: Database, *, flush_every: float = 1.0) -> None:
        self._database = database
        self._waiting: list[FinishedSegment] = []
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._flushes = PeriodicWork(
            "segment-index",
            self.flush,
            every=flush_every,
            log=log,
            failed="could not index segments",
        )

    def start(self) -> None:
        self._flushes.start()

    def stop(self) -> None:
        self._flushes.stop(timeout=5.0)
        try:
            self.flush()
        except Exception:
            log.exception("could not index the last segments; recovery will at next start")

    def add(self, segment: FinishedSegment) -> None:
        with self._lock:
            if len(self._waiting) >= MAX_WAITING:
                dropped = self._waiting.pop(0)
                log.error("index queue full; %s left for start-up recovery", dropped.path)
            self._waiting.append(segment)

    def flush(self) -> int:
        with self._flushing:
            with self._lock:
                batch, self._waiting = self._waiting, []
            if not batch:
                return 0
            try:
                self._insert(batch)
            except Exception:
                with self._lock:
                    self._waiting = batch + self._waiting
                raise
            return len(batch)

    def _insert(self, batch: list[FinishedSegment]) -> None:
        try:
            with self._database.engine.begin() as connection:
                connection.execute(insert(RecordedSegment), [segment_row(s) for s in batch])
        except IntegrityError:
            # One row already there (indexed by recovery meanwhile) must not hold back the rest.
            for segment in batch:
                try:
                    with self._database.engine.begin() as connection:
                        connection.execute(insert(RecordedSegment), [segment_row(segment)])
                except IntegrityError:
                    log.warning("%s was already indexed", segment.path)
