"""Carrying a retention plan out: files first, then their rows and the purge records.

Every batch deletes the files first, then their rows and the purge record, in one transaction:
if the commit fails, the next pass finds rows whose file is already gone, which is fine (they
are counted, and deleted). A file that cannot be deleted keeps its row and is tried again on
the next pass. Holds are read when a batch is planned and read again (one indexed query per
``_HOLD_RECHECK_FILES`` files) just before its files are deleted, so a hold committed while a
batch is under way protects what it pins from the next few files on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from safecity.video.models import RecordedSegment, RecordingPurge
from safecity.video.recording.retention import Deletion, PurgeTotals, is_held, tally
from safecity.video.recording.retention_pass import Outcome, Pass
from safecity.video.recording.retention_rows import active_holds, chunks

log = logging.getLogger("safecity.video.recording.retention_keeper")
"""Retention's one logger, whichever of its modules speaks (docs/running.md names it)."""

_HOLD_RECHECK_FILES = 100
"""Files deleted between two reads of the active holds within a batch."""

_MOSTLY_MISSING = 0.5
"""A floor batch that finds at least this share of its files already gone, their folders too,
stops the floor."""

_Segment = RecordedSegment


def _figures(totals: PurgeTotals) -> dict[str, object]:
    return {
        "segments": totals.segments,
        "bytes": totals.bytes,
        "oldest_at": totals.oldest_at,
        "newest_at": totals.newest_at,
    }


class Deleter:
    """Deletes what a plan says from one media folder and its index, inside the caller's
    transaction. ``remove_file`` is the operating system's unless a test needs a file that
    will not go."""

    def __init__(self, root: Path, remove_file: Callable[[Path], None] = os.remove) -> None:
        self._root = root
        self._remove_file = remove_file

    def carry_out(
        self,
        session: Session,
        deletions: Sequence[Deletion],
        paths: dict[int, str],
        run: Pass,
        *,
        keep_missing_when_most: bool = False,
    ) -> Outcome:
        """Delete the files, then their rows, and bring this pass's purge records up to date,
        all inside the caller's transaction. A dry run only counts.

        The active holds are read again before every ``_HOLD_RECHECK_FILES`` files, and a
        segment a hold now pins is kept. With ``keep_missing_when_most``, when most files were
        already missing, folders and all, their rows are kept (``Outcome.keep_missing_rows``).
        """
        outcome = Outcome()
        failures: dict[int, list[str]] = {}
        for chunk in chunks(deletions, _HOLD_RECHECK_FILES):
            if not run.dry_run:
                chunk = self._still_unheld(session, chunk, outcome)
            for deletion in chunk:
                segment = deletion.segment
                if not run.dry_run:
                    try:
                        folder, existed = self._delete_file(paths[segment.id])
                    except (OSError, ValueError) as exc:
                        failures.setdefault(segment.camera_id, []).append(str(exc))
                        continue
                    if existed:
                        outcome.folders.add(folder)
                        outcome.freed_bytes += segment.bytes
                    else:
                        outcome.missing[(segment.camera_id, deletion.reason)] += 1
                        outcome.gone.append(deletion)
                        if not folder.is_dir():
                            outcome.vanished += 1
                outcome.removed.append(deletion)
        outcome.failed = sum(len(problems) for problems in failures.values())
        outcome.tried = len(outcome.removed) + outcome.failed
        for camera_id, problems in failures.items():
            log.error(
                "camera id %d: could not delete %d recording file(s), kept them and their index "
                "rows for the next pass; first: %s",
                camera_id,
                len(problems),
                problems[0],
            )
        mostly_missing = outcome.vanished >= _MOSTLY_MISSING * outcome.tried
        if keep_missing_when_most and outcome.vanished and mostly_missing:
            outcome.keep_missing_rows()
        for key, delta in tally(outcome.removed).items():
            before = run.totals.get(key)
            outcome.totals[key] = (run.purge_ids.get(key), before.plus(delta) if before else delta)
        if not run.dry_run and outcome.removed:
            self._write_rows(session, outcome, run.now)
        return outcome

    def _still_unheld(
        self, session: Session, deletions: Sequence[Deletion], outcome: Outcome
    ) -> list[Deletion]:
        """The deletions that no active hold pins now: a hold committed since the batch was
        planned keeps its segments (one indexed query on the holds of these cameras)."""
        holds = active_holds(session, [deletion.segment for deletion in deletions])
        if not holds:
            return list(deletions)
        kept: list[Deletion] = []
        for deletion in deletions:
            segment = deletion.segment
            if is_held(segment, holds):
                outcome.held_late[segment.camera_id] += segment.bytes
            else:
                kept.append(deletion)
        late = len(deletions) - len(kept)
        if late:
            log.info("kept %d segment(s) that a legal hold placed during this pass pins", late)
        return kept

    def _delete_file(self, relative: str) -> tuple[Path, bool]:
        """Delete one segment's file; return its folder and whether the file was there.
        Raises OSError when it cannot be deleted, ValueError for a path that is not inside
        the media folder."""
        file = self._media_file(relative)
        try:
            self._remove_file(file)
        except FileNotFoundError:
            return file.parent, False
        return file.parent, True

    def _media_file(self, relative: str) -> Path:
        """The file a stored path names. Raises ValueError for one that would lead outside
        the media folder (absolute, or with '..'): a damaged row must not delete anything else."""
        if not relative.strip("/") or relative.startswith("/") or ".." in relative.split("/"):
            raise ValueError(f"{relative!r} is not a path inside the media folder")
        return self._root / relative

    @staticmethod
    def _write_rows(session: Session, outcome: Outcome, now: datetime) -> None:
        """Delete the batch's rows and insert or update this pass's purge records, a
        statement per kind rather than per camera (a floor batch touches hundreds)."""
        ids = [deletion.segment.id for deletion in outcome.removed]
        for chunk in chunks(ids):
            session.execute(delete(_Segment).where(_Segment.id.in_(chunk)))
        new = [
            (key, totals) for key, (purge_id, totals) in outcome.totals.items() if purge_id is None
        ]
        grown = [
            {"id": purge_id, **_figures(totals)}
            for purge_id, totals in outcome.totals.values()
            if purge_id is not None
        ]
        if grown:
            session.execute(update(RecordingPurge), grown)
        if new:
            purge_ids = session.scalars(
                insert(RecordingPurge).returning(RecordingPurge.id, sort_by_parameter_order=True),
                [
                    {"camera_id": camera_id, "reason": reason, "purged_at": now, **_figures(totals)}
                    for (camera_id, reason), totals in new
                ],
            ).all()
            for (key, totals), purge_id in zip(new, purge_ids, strict=True):
                outcome.totals[key] = (purge_id, totals)

    def remove_empty_folders(self, folders: Iterable[Path]) -> None:
        """Remove the folders (a camera's day, ``recordings/<camera>/<date>``) that deleting
        files emptied. Their parents stay, so that the recorder never finds a camera's folder
        vanishing while it creates the next day's folder in it."""
        for folder in folders:
            try:
                folder.rmdir()
            except OSError:  # not empty, or already gone
                continue
