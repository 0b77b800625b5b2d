"""Start-up recovery: put the recordings folder and the segment index back in step.

After a crash or a power cut there can be, per camera, one ``.partial`` segment (being written
when it happened), finished files whose index row was never written, and — after a disk was
restored from backup or a file deleted by hand — rows whose file is gone. Recovery salvages
every complete fragment of a partial file into a normal segment (or discards it when nothing
is usable), indexes orphan files, and removes rows without files, logging each and recording
the removals as purges. Only the recent days are scanned: older folders were settled by the
starts before, and a city's archive holds millions of files.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from safecity.city.models import Camera
from safecity.core.files import file_sha256
from safecity.core.media import Sign, recordings_folder, unmounted
from safecity.store.engine import Database
from safecity.video.models import PurgeReason, RecordedSegment, RecordingPurge
from safecity.video.mp4.boxes import Fmp4Error, complete_prefix
from safecity.video.mp4.layout import read_layout
from safecity.video.recording.recorder import (
    PARTIAL_SUFFIX,
    FinishedSegment,
    started_at_from_path,
)
from safecity.video.recording.segment_index import segment_row

log = logging.getLogger(__name__)

RECENT_DAYS = 2
MISSING_ALARM = 100
"""More rows than this without files, and over half of those checked: the disk is missing."""
SALVAGE_SUFFIX = ".salvage"


@dataclass
class RecoveryReport:
    salvaged: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)
    indexed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unknown_cameras: list[str] = field(default_factory=list)
    refused: str | None = None
    """Why rows without files were left in the index (the media disk looks absent)."""

    @property
    def changed(self) -> bool:
        return bool(self.salvaged or self.discarded or self.indexed or self.missing)


def recover_recordings(
    database: Database, media_root: Path, *, now: datetime | None = None
) -> RecoveryReport:
    report = RecoveryReport()
    now = now or datetime.now(UTC)
    first_day = (now - timedelta(days=RECENT_DAYS)).date()
    root = recordings_folder(media_root)
    with database.session() as session:
        cameras = {key: value for key, value in session.execute(select(Camera.code, Camera.id))}
    if root.is_dir():
        for camera_folder in sorted(p for p in root.iterdir() if p.is_dir()):
            camera_id = cameras.get(camera_folder.name)
            if camera_id is None:
                report.unknown_cameras.append(camera_folder.name)
                log.warning("recordings of unknown camera %s left as they are", camera_folder.name)
                continue
            for day_folder in sorted(p for p in camera_folder.iterdir() if p.is_dir()):
                day = _day_of(day_folder)
                if day is None or day < first_day:
                    continue
                _recover_day(database, media_root, camera_id, day_folder, report)
    _forget_missing(database, media_root, cameras, now - timedelta(days=RECENT_DAYS), now, report)
    return report


def _day_of(folder: Path) -> date | None:
    try:
        return datetime.strptime(folder.name, "%Y-%m-%d").date()
    except ValueError:
        return None


def _recover_day(
    database: Database, media_root: Path, camera_id: int, folder: Path, report: RecoveryReport
) -> None:
    for leftover in folder.glob(f"*{SALVAGE_SUFFIX}"):
        leftover.unlink(missing_ok=True)
    for partial in sorted(folder.glob(f"*.mp4{PARTIAL_SUFFIX}")):
        final = partial.with_name(partial.name.removesuffix(PARTIAL_SUFFIX))
        relative = final.relative_to(media_root).as_posix()
        if salvage_partial(partial, final):
            report.salvaged.append(relative)
            log.warning("salvaged the complete part of %s after an unclean stop", relative)
        else:
            report.discarded.append(relative)
            log.warning("discarded %s: nothing complete in it", relative)
    files = {p.relative_to(media_root).as_posix(): p for p in folder.glob("*.mp4")}
    if not files:
        return
    with database.session() as session:
        known = set(
            session.scalars(
                select(RecordedSegment.path).where(RecordedSegment.path.in_(list(files)))
            )
        )
    for relative in sorted(set(files) - known):
        try:
            segment = describe_segment_file(camera_id, media_root, relative)
        except (Fmp4Error, OSError, ValueError) as exc:
            log.error("cannot index %s (%s); left on disk", relative, exc)
            continue
        with database.session() as session:
            session.execute(insert(RecordedSegment), [segment_row(segment)])
        report.indexed.append(relative)
        log.warning("indexed %s, which was on disk but not in the index", relative)


def salvage_partial(partial: Path, final: Path) -> bool:
    """Keep the init and every complete fragment of ``partial`` as ``final``, byte for byte;
    False (and the partial deleted) when not even one whole fragment is there."""
    salvage = final.with_name(final.name + SALVAGE_SUFFIX)
    try:
        keep = complete_prefix(partial)
        if keep:
            with partial.open("rb") as source, salvage.open("wb") as target:
                left = keep
                while left:
                    chunk = source.read(min(left, 1 << 20))
                    if not chunk:
                        raise OSError(f"{partial} shrank while being salvaged")
                    target.write(chunk)
                    left -= len(chunk)
                target.flush()
                os.fsync(target.fileno())
            salvage.replace(final)
    except OSError:
        salvage.unlink(missing_ok=True)
        keep = 0
    partial.unlink(missing_ok=True)
    return keep > 0


def describe_segment_file(camera_id: int, media_root: Path, relative: str) -> FinishedSegment:
    """Index data for a finished segment file, read from the file itself."""
    path = media_root / relative
    layout = read_layout(path)
    if not layout.fragments:
        raise ValueError("no fragments")
    started_at = started_at_from_path(relative)
    scale = layout.timescale
    first = layout.fragments[0].decode_time
    last = layout.fragments[-1]
    seconds = (last.decode_time + last.duration - first) / scale
    keyframes = [
        [round((fragment.decode_time - first) / scale * 1000), fragment.offset]
        for fragment in layout.fragments
        if fragment.keyframe
    ]
    return FinishedSegment(
        camera_id=camera_id,
        camera_code=relative.split("/")[1],
        path=relative,
        started_at=started_at,
        ended_at=started_at + timedelta(seconds=seconds),
        bytes=path.stat().st_size,
        sha256=file_sha256(path),
        codec=layout.codec,
        time_scale=scale,
        init_bytes=layout.init_size,
        packets=sum(fragment.samples for fragment in layout.fragments),
        keyframes=keyframes,
    )


@dataclass(frozen=True)
class _Indexed:
    id: int
    camera_id: int
    path: str
    started_at: datetime
    bytes: int


def _forget_missing(
    database: Database,
    media_root: Path,
    cameras: dict[str, int],
    since: datetime,
    now: datetime,
    report: RecoveryReport,
) -> None:
    """Remove index rows of the recent days whose file is gone — unless so many are gone that
    the media disk itself is probably missing (unmounted), where forgetting would orphan a
    whole archive: then nothing is touched and an error says why."""
    root = recordings_folder(media_root)
    checked, gone = 0, []
    for code, camera_id in cameras.items():
        day = since.date()
        while day <= now.date():
            folder = root / code / day.isoformat()
            present = {p.name for p in folder.glob("*.mp4")} if folder.is_dir() else set()
            for row in _indexed_on(database, camera_id, day):
                checked += 1
                if row.path.rsplit("/", 1)[-1] not in present:
                    gone.append(row)
            day += timedelta(days=1)
        if len(gone) > MISSING_ALARM and len(gone) * 2 > checked:
            break
    if not gone:
        return
    empty = unmounted(media_root, Sign.RECORDINGS) is not None
    if empty or (len(gone) > MISSING_ALARM and len(gone) * 2 > checked):
        report.refused = (
            f"{len(gone):,} of {checked:,} recent segments in the index have no file under "
            f"{root}: is the media disk mounted? The index was left as it is."
        )
        log.error("recovery: %s", report.refused)
        return
    with database.session() as session:
        _record_missing(session, gone)
        for start in range(0, len(gone), 500):
            ids = [row.id for row in gone[start : start + 500]]
            session.execute(delete(RecordedSegment).where(RecordedSegment.id.in_(ids)))
    for row in gone:
        report.missing.append(row.path)
        log.error("segment %s is in the index but not on disk; removed from the index", row.path)


def _indexed_on(database: Database, camera_id: int, day: date) -> list[_Indexed]:
    first = datetime.combine(day, datetime.min.time(), UTC)
    with database.session() as session:
        return [
            _Indexed(*row)
            for row in session.execute(
                select(
                    RecordedSegment.id,
                    RecordedSegment.camera_id,
                    RecordedSegment.path,
                    RecordedSegment.started_at,
                    RecordedSegment.bytes,
                ).where(
                    RecordedSegment.camera_id == camera_id,
                    RecordedSegment.started_at >= first,
                    RecordedSegment.started_at < first + timedelta(days=1),
                )
            )
        ]


def _record_missing(session: Session, gone: list[_Indexed]) -> None:
    by_camera: dict[int, list[_Indexed]] = {}
    for row in gone:
        by_camera.setdefault(row.camera_id, []).append(row)
    for camera_id, rows in by_camera.items():
        session.add(
            RecordingPurge(
                camera_id=camera_id,
                reason=PurgeReason.MISSING_FILE,
                segments=len(rows),
                bytes=sum(r.bytes for r in rows),
                oldest_at=min(r.started_at for r in rows),
                newest_at=max(r.started_at for r in rows),
            )
        )
