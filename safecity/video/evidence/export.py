"""Exporting an evidence package: pin the recordings, write the files, sign, audit.

Exporting first commits a legal hold over the range, so that retention keeps the recordings
while they are copied, then writes the files and the audit row: either all of it exists
afterwards or none of it (a failure deletes the hold again). Packages are private: folders
0700, files 0600. What a package holds: ``safecity.video.evidence.manifest``.

The export log stores a package in the evidence folder by its path relative to that folder, so
that a restore onto another data folder still finds it; one written elsewhere (``--out``) by
its absolute path.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete
from sqlalchemy.orm import Session

from safecity import __version__
from safecity.audit.log import record as audit
from safecity.auth.models import User
from safecity.auth.roles import Role
from safecity.city.models import Camera
from safecity.settings import Settings
from safecity.video.evidence.keys import (
    EvidenceError,
    key_fingerprint,
    public_key_pem,
    signing_key_for_export,
)
from safecity.video.evidence.manifest import (
    CLIP_FILE,
    FORMAT,
    MANIFEST_FILE,
    PUBLIC_KEY_FILE,
    README_FILE,
    SIGNATURE_FILE,
    CameraFacts,
    ClipEntry,
    District,
    Exported,
    FileEntry,
    Instant,
    Manifest,
    SegmentEntry,
    SigningKey,
    Software,
    manifest_bytes,
    readme_text,
    time_range,
)
from safecity.video.models import EvidenceExport, HoldKind, LegalHold
from safecity.video.playback.clips import Clip, ClipError, check_range, export_clip

log = logging.getLogger(__name__)

EXPORTER_ROLES = frozenset({Role.ADMIN, Role.OPERATOR, Role.POLICE_DUTY_OFFICER})
"""Who may export evidence (each within their scope): the OCC and the police who take it to
court. Analysts, akimats and utility companies may not take video out of the system."""
DEFAULT_MAX_RANGE = timedelta(hours=24)
"""Longest range one package may cover: a day of video is already gigabytes to copy and hand
over; a longer request is almost always a mistake in the dates."""
MAX_REASON_CHARS = 2000
_PRIVATE_FOLDER, _PRIVATE_FILE = 0o700, 0o600
"""Packages hold video of people: only the account SafeCity runs as may read them."""


class ExportRefused(EvidenceError):
    """The request cannot be exported as asked (its range, its reason, or the recordings)."""


class ClipWriter(Protocol):
    """``safecity.video.playback.clips.export_clip``'s shape; tests pass one that fails half-way."""

    def __call__(
        self,
        session: Session,
        media_root: Path,
        camera: Camera,
        start: datetime,
        end: datetime,
        out: Path,
        *,
        longest: timedelta,
    ) -> Clip: ...


@dataclass(frozen=True)
class Exporter:
    """Who exported: a signed-in user, or an operating-system account using the CLI."""

    name: str
    display_name: str
    role: str
    user_id: int | None = None

    @classmethod
    def from_user(cls, user: User) -> Exporter:
        return cls(user.username, user.full_name, user.role.value, user.id)

    @classmethod
    def cli(cls, os_user: str) -> Exporter:
        return cls(f"cli:{os_user}", os_user, "cli")


@dataclass(frozen=True)
class ExportRequest:
    camera: Camera
    start: datetime
    end: datetime
    """Aware datetimes; callers read zone-less input in the city's time zone."""
    reason: str
    exporter: Exporter


@dataclass(frozen=True)
class ExportResult:
    record: EvidenceExport
    folder: Path
    archive: Path
    manifest: Manifest


def evidence_folder(settings: Settings) -> Path:
    """Where packages are written unless told otherwise (the API serves downloads from here)."""
    return settings.data_dir / "evidence"


def path_to_store(settings: Settings, archive: Path) -> str:
    """How the export log records a package's zip: relative to the evidence folder when it is
    in it (a restore elsewhere keeps finding it), otherwise absolute."""
    absolute, root = archive.absolute(), evidence_folder(settings).absolute()
    return absolute.relative_to(root).as_posix() if absolute.is_relative_to(root) else str(absolute)


def stored_package(settings: Settings, stored: str) -> Path:
    """The zip an export-log path names: a relative one is in this installation's evidence
    folder."""
    path = Path(stored)
    return path if path.is_absolute() else evidence_folder(settings) / path


def check_request(start: datetime, end: datetime, reason: str, max_range: timedelta) -> str:
    """The cleaned reason, or ExportRefused saying what is wrong with the request; checked
    before anything is written."""
    try:
        check_range(start, end, longest=max_range)
    except ClipError as exc:
        raise ExportRefused(str(exc)) from exc
    cleaned = reason.strip()
    if not cleaned:
        raise ExportRefused("a reason is required (case or request number, what it is for)")
    if len(cleaned) > MAX_REASON_CHARS:
        raise ExportRefused(f"the reason is longer than {MAX_REASON_CHARS} characters")
    return cleaned


def export_evidence(
    session: Session,
    request: ExportRequest,
    *,
    settings: Settings,
    out_dir: Path | None = None,
    max_range: timedelta = DEFAULT_MAX_RANGE,
    progress: Callable[[str], None] | None = None,
    write_clip: ClipWriter = export_clip,
) -> ExportResult:
    """Write a signed package (folder and zip), pin its recordings and audit it.

    First the legal hold over the requested range is committed, so that retention (which
    reads the active holds for every batch it deletes) keeps the source segments while they
    are copied. Then the files are written under hidden partial names and renamed into place
    only once the audit row is flushed (with the hold widened to the clip's actual range where
    that is longer); then the session is committed. Any failure removes what was written, rolls
    the session back and deletes the hold, so no package exists without its audit row and no
    audit row or hold without its package. Commits the session: call it with nothing else
    pending. Raises ExportRefused (bad request, nothing recorded, a source segment altered,
    missing or unreadable) or SigningKeyError; anything else is a fault.
    """
    reason = check_request(request.start, request.end, request.reason, max_range)
    key = signing_key_for_export(
        session, settings, actor=request.exporter.name, actor_id=request.exporter.user_id
    )
    target = out_dir if out_dir is not None else evidence_folder(settings)
    _make_private_folder(target)
    package_id = str(uuid.uuid4())
    staging, folder = target / f".{package_id}.partial", target / package_id
    partial_archive, archive = target / f".{package_id}.zip.partial", target / f"{package_id}.zip"
    step = progress or (lambda _phase: None)
    step("pinning the recordings")
    hold = _pin(session, request, reason, package_id)
    hold_id = hold.id  # read now: a rollback expires it
    try:
        staging.mkdir(mode=_PRIVATE_FOLDER)
        staging.chmod(_PRIVATE_FOLDER)  # mkdir's mode is cut by the umask
        step("writing the clip")
        clip = _write_clip(session, write_clip, settings, request, staging / CLIP_FILE, max_range)
        (staging / CLIP_FILE).chmod(_PRIVATE_FILE)
        step("signing")
        exported_at = datetime.now(UTC).replace(microsecond=0)
        draft = _draft_manifest(package_id, request, reason, clip, exported_at, key, settings)
        manifest, signed = _write_signed_files(staging, draft, key)
        step("zipping")
        _write_zip(staging, package_id, partial_archive)
        record = _record(session, request, manifest, folder, path_to_store(settings, archive), hold)
        record.manifest_sha256 = hashlib.sha256(signed).hexdigest()
        record.bytes = partial_archive.stat().st_size
        _audit(session, request, record)
        session.flush()
        staging.rename(folder)
        partial_archive.rename(archive)
        session.commit()
    except BaseException:
        session.rollback()
        for tree in (staging, folder):
            shutil.rmtree(tree, ignore_errors=True)
        for file in (partial_archive, archive):
            file.unlink(missing_ok=True)
        _unpin(session, hold_id, package_id)
        raise
    return ExportResult(record, folder, archive, manifest)


def _make_private_folder(folder: Path) -> None:
    """Create the folder packages go to, 0700, unless it exists (then it is left as it is)."""
    if folder.is_dir():
        return
    folder.mkdir(parents=True, exist_ok=True, mode=_PRIVATE_FOLDER)
    folder.chmod(_PRIVATE_FOLDER)  # mkdir's mode is cut by the umask


def _pin(session: Session, request: ExportRequest, reason: str, package_id: str) -> LegalHold:
    """Commit the legal hold over the requested range before any recording is read.

    Retention re-reads the active holds for every batch it deletes, so from its next batch on
    the source segments (every one of which overlaps the requested range) stay. A batch
    already under way may still delete one: the clip writer then finds it missing and the
    export is refused, naming it.
    """
    hold = LegalHold(
        camera_id=request.camera.id,
        starts_at=request.start.astimezone(UTC),
        ends_at=request.end.astimezone(UTC),
        kind=HoldKind.EVIDENCE,
        reason=reason,
        reference=package_id,
        created_by_id=request.exporter.user_id,
    )
    try:
        session.add(hold)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return hold


def _unpin(session: Session, hold_id: int, package_id: str) -> None:
    """Delete the hold of an export that failed: there is no package for it to protect. If
    even that fails the hold stays (it only keeps recordings longer) and the log says so."""
    try:
        session.execute(delete(LegalHold).where(LegalHold.id == hold_id))
        session.commit()
    except Exception:
        session.rollback()
        log.exception(
            "evidence export %s failed and its legal hold %d could not be removed: "
            "release it by hand",
            package_id,
            hold_id,
        )


def _write_clip(
    session: Session,
    write_clip: ClipWriter,
    settings: Settings,
    request: ExportRequest,
    path: Path,
    max_range: timedelta,
) -> Clip:
    """The clip writer checks every source segment against its recorded hash; what it cannot
    export (nothing recorded, a segment altered, missing or unreadable) is refused in plain
    words naming the segment. An OS error about any other file (the package's own disk full,
    say) is a fault and stays as it is."""
    try:
        return write_clip(
            session,
            settings.media_path,
            request.camera,
            request.start,
            request.end,
            path,
            longest=max_range,
        )
    except ClipError as exc:
        raise ExportRefused(str(exc)) from exc
    except OSError as exc:
        segment = _recording_named_by(exc, settings.media_path, path.parent)
        if segment is None:
            raise
        if isinstance(exc, FileNotFoundError):
            problem = "is missing from the media folder (deleted while it was being exported)"
        else:
            problem = f"cannot be read ({exc.strerror or exc})"
        raise ExportRefused(f"segment {segment} {problem}; nothing was exported") from exc


def _recording_named_by(error: OSError, media_root: Path, staging: Path) -> str | None:
    """The recording (its path in the media folder) an OS error is about, if it is one: not
    the package being written, even if someone put the packages under the media folder."""
    roots = {media_root.absolute(), media_root.resolve()}
    for name in (error.filename, error.filename2):
        if not isinstance(name, str | bytes | os.PathLike):
            continue
        path = Path(os.fsdecode(name)).absolute()
        if path.is_relative_to(staging.absolute()):
            continue
        for root in roots:
            if path.is_relative_to(root):
                return path.relative_to(root).as_posix()
    return None


def _draft_manifest(
    package_id: str,
    request: ExportRequest,
    reason: str,
    clip: Clip,
    exported_at: datetime,
    key: Ed25519PrivateKey,
    settings: Settings,
) -> Manifest:
    """The manifest listing only the clip; the README, written from it, is added next."""
    zone, camera, exporter = settings.zone, request.camera, request.exporter
    return Manifest(
        format=FORMAT,
        package_id=package_id,
        city=settings.city_name,
        timezone=settings.timezone,
        camera=CameraFacts(
            code=camera.code,
            name=camera.name,
            address=camera.address,
            latitude=camera.latitude,
            longitude=camera.longitude,
            district=District(code=camera.district.code, name=camera.district.name),
        ),
        requested=time_range(request.start, request.end, zone),
        actual=time_range(clip.starts_at, clip.ends_at, zone),
        segments=[
            SegmentEntry(
                path=segment.path,
                started_at=segment.started_at.astimezone(UTC),
                ended_at=segment.ended_at.astimezone(UTC),
                bytes=segment.bytes,
                sha256=segment.sha256,
            )
            for segment in clip.segments
        ],
        gaps=[time_range(start, end, zone) for start, end in clip.gaps],
        clip=ClipEntry(
            file=CLIP_FILE, media_type="video/mp4", bytes=clip.bytes, sha256=clip.sha256
        ),
        files=[FileEntry(name=CLIP_FILE, bytes=clip.bytes, sha256=clip.sha256)],
        exported_by=Exported(
            name=exporter.name, display_name=exporter.display_name, role=exporter.role
        ),
        reason=reason,
        exported_at=Instant(utc=exported_at, local=exported_at.astimezone(zone)),
        software=Software(name="SafeCity", version=__version__),
        signing_key=SigningKey(
            algorithm="Ed25519", fingerprint_sha256=key_fingerprint(key.public_key())
        ),
    )


def _write_signed_files(
    staging: Path, draft: Manifest, key: Ed25519PrivateKey
) -> tuple[Manifest, bytes]:
    """README, manifest (now listing the README too), signature and public key; returns the
    final manifest and its signed bytes."""
    readme = readme_text(draft).encode("utf-8")
    _write_private(staging / README_FILE, readme)
    readme_entry = FileEntry(
        name=README_FILE, bytes=len(readme), sha256=hashlib.sha256(readme).hexdigest()
    )
    files = sorted([*draft.files, readme_entry], key=lambda entry: entry.name)
    manifest = draft.model_copy(update={"files": files})
    signed = manifest_bytes(manifest)
    _write_private(staging / MANIFEST_FILE, signed)
    _write_private(staging / SIGNATURE_FILE, key.sign(signed))
    _write_private(staging / PUBLIC_KEY_FILE, public_key_pem(key.public_key()))
    return manifest, signed


def _create_private(path: Path) -> IO[bytes]:
    """A new file only its owner can read (0600 whatever the umask)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_FILE)
    try:
        os.fchmod(descriptor, _PRIVATE_FILE)
    except BaseException:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "wb")


def _write_private(path: Path, data: bytes) -> None:
    with _create_private(path) as file:
        file.write(data)


def _write_zip(staging: Path, package_id: str, path: Path) -> None:
    """The folder as one zip (inside it, the folder named after the package). The video is
    stored as it is (already compressed), the text files deflated."""
    with _create_private(path) as raw, zipfile.ZipFile(raw, "w") as archive:
        for file in sorted(staging.iterdir()):
            method = zipfile.ZIP_STORED if file.name == CLIP_FILE else zipfile.ZIP_DEFLATED
            archive.write(file, f"{package_id}/{file.name}", compress_type=method)


def _record(
    session: Session,
    request: ExportRequest,
    manifest: Manifest,
    folder: Path,
    archive: str,
    hold: LegalHold,
) -> EvidenceExport:
    """The audit row naming the hold, which is widened to cover the clip's actual range too
    (the caller fills in the manifest's hash and the zip's size)."""
    actual, exporter = manifest.actual, request.exporter
    hold.starts_at = min(hold.starts_at, actual.start_utc)
    hold.ends_at = max(hold.ends_at, actual.end_utc)
    record = EvidenceExport(
        package_id=manifest.package_id,
        camera_id=request.camera.id,
        starts_at=actual.start_utc,
        ends_at=actual.end_utc,
        reason=manifest.reason,
        exported_by=exporter.name,
        exported_by_id=exporter.user_id,
        exported_at=manifest.exported_at.utc,
        path=archive,
        hold_id=hold.id,
        details={
            "folder": str(folder),
            "requested": {
                "start": manifest.requested.start_utc.isoformat(),
                "end": manifest.requested.end_utc.isoformat(),
            },
            "clip_bytes": manifest.clip.bytes,
            "clip_sha256": manifest.clip.sha256,
            "segments": len(manifest.segments),
            "gaps": len(manifest.gaps),
            "exported_by_display_name": exporter.display_name,
            "exported_by_role": exporter.role,
            "key_fingerprint": manifest.signing_key.fingerprint_sha256,
        },
    )
    session.add(record)
    return record


def _audit(session: Session, request: ExportRequest, record: EvidenceExport) -> None:
    """The audit-log row, in the export's transaction (with the EvidenceExport row)."""
    audit(
        session,
        action="evidence.export",
        actor=request.exporter.name,
        actor_id=request.exporter.user_id,
        target=f"evidence:{record.package_id}",
        details={
            "camera_id": request.camera.id,
            "camera": request.camera.code,
            "start": record.starts_at.isoformat(),
            "end": record.ends_at.isoformat(),
            "reason": record.reason,
            "manifest_sha256": record.manifest_sha256,
            "bytes": record.bytes,
            "hold_id": record.hold_id,
        },
    )
