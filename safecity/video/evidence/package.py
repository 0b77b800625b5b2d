"""Signed evidence packages: a clip, a manifest that says what it is, and an Ed25519 signature.

A package must convince a court expert years from now, who has neither SafeCity nor its
database, only the package and the city's published public key. So everything the expert needs
is inside it and checkable with standard tools (``openssl``, ``sha256sum``)::

    <package_id>/              also delivered as <package_id>.zip holding this folder
      clip.mp4                 the video, copied from the recorded segments (no re-encoding)
      manifest.json            camera, range, source segments and their SHA-256, every file's
                               SHA-256, who exported it, why and when (sorted keys, UTF-8)
      manifest.sig             Ed25519 signature over the exact bytes of manifest.json
      public-key.pem           the key that signed it (its fingerprint is in the manifest)
      README.txt               how to check all this without SafeCity

Only the manifest is signed; every other file is bound to it by its SHA-256. Exporting first
commits a legal hold over the range, so that retention keeps the recordings while they are
copied, then writes the files and the audit row: either all of it exists afterwards or none of
it (a failure deletes the hold again). Packages are private: folders 0700, files 0600.

A package verifies as *valid* only against a trusted key (one the city published, or one in
this installation's keyring: :mod:`safecity.video.evidence.keys`); checked only against the key
it carries it is merely *self-consistent*, which anyone with a key of their own can forge
(:class:`Verdict`).

The export log stores a package in the evidence folder by its path relative to that folder, so
that a restore onto another data folder still finds it; one written elsewhere (``--out``) by
its absolute path.

Sections: manifest (pure), export (I/O), verification (pure checks over a folder or zip
reader).
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import os
import shutil
import uuid
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import IO, Literal, Protocol, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import delete
from sqlalchemy.orm import Session

from safecity import __version__
from safecity.audit.log import record as audit
from safecity.auth.models import User
from safecity.auth.roles import Role
from safecity.city.models import Camera
from safecity.settings import Settings
from safecity.video.evidence.keys import EvidenceError as EvidenceError
from safecity.video.evidence.keys import SigningKeyError as SigningKeyError
from safecity.video.evidence.keys import (
    key_fingerprint,
    load_public_key,
    public_key_pem,
    signing_key_for_export,
)
from safecity.video.models import EvidenceExport, HoldKind, LegalHold
from safecity.video.playback.clips import Clip, ClipError, check_range, export_clip

log = logging.getLogger(__name__)

FORMAT = "safecity-evidence/1"
CLIP_FILE = "clip.mp4"
MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "manifest.sig"
PUBLIC_KEY_FILE = "public-key.pem"
README_FILE = "README.txt"

EXPORTER_ROLES = frozenset({Role.ADMIN, Role.OPERATOR, Role.POLICE_DUTY_OFFICER})
"""Who may export evidence (each within their scope): the OCC and the police who take it to
court. Analysts, akimats and utility companies may not take video out of the system."""

DEFAULT_MAX_RANGE = timedelta(hours=24)
"""Longest range one package may cover: a day of video is already gigabytes to copy and hand
over; a longer request is almost always a mistake in the dates."""
MAX_REASON_CHARS = 2000
_MAX_SMALL_FILE = 64 * 1024 * 1024
"""Manifests, signatures and keys are read whole; a larger one is not a SafeCity package."""
_CHUNK = 1024 * 1024
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


# --- manifest --------------------------------------------------------------------------------


class _Part(BaseModel):
    # Unknown keys are ignored: the format string, not the key set, says what a reader needs.
    model_config = ConfigDict(extra="ignore", frozen=True)


class TimeRange(_Part):
    start_utc: datetime
    end_utc: datetime
    start_local: datetime
    end_local: datetime
    seconds: float


class Instant(_Part):
    utc: datetime
    local: datetime


class District(_Part):
    code: str
    name: str


class CameraFacts(_Part):
    code: str
    name: str
    address: str | None
    latitude: float
    longitude: float
    district: District


class SegmentEntry(_Part):
    path: str
    started_at: datetime
    ended_at: datetime
    bytes: int
    sha256: str


_FILE_NAME = r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$"
_SHA256 = r"^[0-9a-f]{64}$"


class FileEntry(_Part):
    # A plain name, never a path: the verifier opens it inside the package only.
    name: str = Field(pattern=_FILE_NAME)
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=_SHA256)


class ClipEntry(_Part):
    file: str = Field(pattern=_FILE_NAME)
    media_type: str
    bytes: int
    sha256: str = Field(pattern=_SHA256)


class Exported(_Part):
    name: str
    display_name: str
    role: str


class Software(_Part):
    name: str
    version: str


class SigningKey(_Part):
    algorithm: Literal["Ed25519"]
    fingerprint_sha256: str = Field(pattern=_SHA256)


class Manifest(_Part):
    """Everything a package says about itself. Signed as the exact bytes written."""

    format: Literal["safecity-evidence/1"]
    package_id: str
    city: str
    timezone: str
    camera: CameraFacts
    requested: TimeRange
    actual: TimeRange
    segments: list[SegmentEntry]
    gaps: list[TimeRange]
    clip: ClipEntry
    files: list[FileEntry]
    exported_by: Exported
    reason: str
    exported_at: Instant
    software: Software
    signing_key: SigningKey

    @model_validator(mode="after")
    def _clip_is_a_listed_file(self) -> Self:
        names = [entry.name for entry in self.files]
        if len(set(names)) != len(names):
            raise ValueError("files lists a name twice")
        listed = {entry.name: entry for entry in self.files}.get(self.clip.file)
        if listed is None or (listed.bytes, listed.sha256) != (self.clip.bytes, self.clip.sha256):
            raise ValueError("clip is not listed in files with the same size and SHA-256")
        return self


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


def time_range(start: datetime, end: datetime, zone: tzinfo) -> TimeRange:
    return TimeRange(
        start_utc=start.astimezone(UTC),
        end_utc=end.astimezone(UTC),
        start_local=start.astimezone(zone),
        end_local=end.astimezone(zone),
        seconds=(end - start).total_seconds(),
    )


def manifest_bytes(manifest: Manifest) -> bytes:
    """The signed form: sorted keys, UTF-8, two-space indent (readable in any editor)."""
    text = json.dumps(
        manifest.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, indent=2
    )
    return (text + "\n").encode("utf-8")


def readme_text(manifest: Manifest) -> str:
    """The package's README: what it is and how to check it with openssl, sha256sum or
    Python, for someone who has never heard of SafeCity."""
    camera, actual, clip = manifest.camera, manifest.actual, manifest.clip
    where = f"{camera.name}, {camera.address}" if camera.address else camera.name
    return f"""\
Evidence package {manifest.package_id}
{manifest.city}: video from camera {camera.code} ({where})
Recorded {actual.start_local.isoformat()} to {actual.end_local.isoformat()} ({manifest.timezone})
Exported {manifest.exported_at.local.isoformat()} by {manifest.exported_by.display_name} \
({manifest.exported_by.name}); the reason is in manifest.json.

FILES
  {clip.file:<15} the video, copied from the recordings without re-encoding (MP4, H.264/H.265)
  {MANIFEST_FILE:<15} what this package is: camera, time range, the recorded segments the clip
                  was cut from with their SHA-256, the SHA-256 of every file here, who
                  exported it, why and when
  {SIGNATURE_FILE:<15} Ed25519 signature over the exact bytes of {MANIFEST_FILE}
  {PUBLIC_KEY_FILE:<15} the public key that made the signature
  {README_FILE:<15} this text

HOW TO CHECK IT (no SafeCity needed; OpenSSL 3.0 or later, sha256sum)
1. Signature. Obtain the city's published evidence public key by a route you trust and use
   it for -inkey (public-key.pem in this package proves only that the package is
   self-consistent). The key that signed this package has the SHA-256 fingerprint
     {manifest.signing_key.fingerprint_sha256}
   Fingerprint of a key file:
     openssl pkey -pubin -in public-key.pem -outform DER | tail -c 32 | sha256sum
   Check the signature:
     openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in {MANIFEST_FILE} -sigfile {SIGNATURE_FILE}
   "Signature Verified Successfully" means {MANIFEST_FILE} is exactly what the key holder signed.
2. Files. Each file's SHA-256 must equal its entry under "files" in {MANIFEST_FILE}:
     sha256sum {clip.file} {README_FILE}
   {clip.file} must have SHA-256 {clip.sha256} ({clip.bytes} bytes).
3. Nothing else. The package holds exactly the five files above.

With Python and its "cryptography" package instead:
  python3 -c '
  import hashlib, json
  from cryptography.hazmat.primitives.serialization import load_pem_public_key
  manifest = open("{MANIFEST_FILE}", "rb").read()
  key = load_pem_public_key(open("{PUBLIC_KEY_FILE}", "rb").read())
  key.verify(open("{SIGNATURE_FILE}", "rb").read(), manifest)  # raises InvalidSignature
  for entry in json.loads(manifest)["files"]:
      digest = hashlib.sha256(open(entry["name"], "rb").read()).hexdigest()
      print(entry["name"], "matches" if digest == entry["sha256"] else "ALTERED")
  '
"""


# --- export ----------------------------------------------------------------------------------


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


def _digest_stream(stream: IO[bytes]) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


# --- verification ----------------------------------------------------------------------------


class FindingKind(enum.StrEnum):
    UNUSABLE = "unusable"
    """Not a package at all: missing path, neither folder nor zip, an unreadable zip."""
    MISSING_FILE = "missing_file"
    EXTRA_FILE = "extra_file"
    ALTERED_FILE = "altered_file"
    BAD_MANIFEST = "bad_manifest"
    BAD_SIGNATURE = "bad_signature"
    """manifest.json is not what was signed (edited, or the signature swapped)."""
    BAD_KEY = "bad_key"
    KEY_REPLACED = "key_replaced"
    """public-key.pem is not the key the manifest names."""
    DIFFERENT_KEY = "different_key"
    """Validly signed, but by a key other than the trusted one: made or re-signed elsewhere."""


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    subject: str
    """The file it is about (or the package path)."""
    message: str


class Verdict(enum.StrEnum):
    """What a check of a package concluded, from best to worst."""

    VALID = "valid"
    """Every file exactly as signed, and signed by the trusted key: the city made it."""
    SELF_CONSISTENT = "self_consistent"
    """Every file exactly as signed, but no trusted key was given, so the signature was only
    checked with the key the package carries. Proves nothing about who made it: anyone can
    alter a package, re-hash it and re-sign it with a key of their own."""
    ALTERED = "altered"
    """Something is wrong (each problem is listed): altered, added, removed, or signed by a
    key other than the trusted one."""
    UNUSABLE = "unusable"
    """Not a package at all, or unreadable: nothing could be checked."""


@dataclass
class VerificationReport:
    """What a check found. ``verdict`` says it in one word; ``valid`` only when nothing is
    wrong *and* the trusted key signed it; ``notes`` say how far the result can be trusted."""

    path: Path
    problems: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manifest: Manifest | None = None
    signed_by: str | None = None
    """Fingerprint of the key the signature verified with, if it did."""
    trusted_key: bool = False
    """The signature verified with the trusted key given by the caller."""

    @property
    def usable(self) -> bool:
        return not any(problem.kind is FindingKind.UNUSABLE for problem in self.problems)

    @property
    def intact(self) -> bool:
        """Nothing is wrong with the package as signed (by whichever key: see ``valid``)."""
        return not self.problems

    @property
    def valid(self) -> bool:
        """Intact and signed by the trusted key: the only result that proves anything."""
        return self.verdict is Verdict.VALID

    @property
    def verdict(self) -> Verdict:
        if not self.usable:
            return Verdict.UNUSABLE
        if self.problems:
            return Verdict.ALTERED
        return Verdict.VALID if self.trusted_key else Verdict.SELF_CONSISTENT

    def problem(self, kind: FindingKind, subject: str, message: str) -> None:
        self.problems.append(Finding(kind, subject, message))


class _Unusable(Exception):
    pass


_ZIP_DAMAGE = (zipfile.BadZipFile, zlib.error)
"""What reading a zip entry raises when its bytes were changed inside the zip."""


class _Package:
    """Read access to a package's files, in a folder or a zip, without extracting anything:
    names come from an untrusted source, so none is ever used as a path outside the package."""

    def names(self) -> list[str]:
        raise NotImplementedError

    def open(self, name: str) -> IO[bytes]:
        raise NotImplementedError

    def read_small(self, name: str) -> bytes:
        with self.open(name) as file:
            data = file.read(_MAX_SMALL_FILE + 1)
        if len(data) > _MAX_SMALL_FILE:
            raise _Unusable(f"{name} is over {_MAX_SMALL_FILE} bytes: not a SafeCity package")
        return data

    def digest(self, name: str) -> tuple[int, str]:
        with self.open(name) as file:
            return _digest_stream(file)


class _FolderPackage(_Package):
    def __init__(self, root: Path) -> None:
        self._root = root
        self._names = sorted(
            path.relative_to(root).as_posix() for path in root.rglob("*") if not path.is_dir()
        )

    def names(self) -> list[str]:
        return self._names

    def open(self, name: str) -> IO[bytes]:
        if name not in self._names:
            raise FileNotFoundError(name)
        return (self._root / name).open("rb")


class _ZipPackage(_Package):
    """A zip holding the package folder (as exported), or the package files at its top.

    The package is where the manifest (or its signature) is; entries elsewhere in the zip keep
    their full names, so that they show up as added files.
    """

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._archive = archive
        entries = [info.filename for info in archive.infolist() if not info.is_dir()]
        folders = {
            folder
            for folder, _, name in (entry.rpartition("/") for entry in entries)
            if name in (MANIFEST_FILE, SIGNATURE_FILE) and "/" not in folder
        }
        self._prefix = f"{folders.pop()}/" if len(folders) == 1 and "" not in folders else ""
        self._names = [name.removeprefix(self._prefix) for name in entries]

    def names(self) -> list[str]:
        return self._names

    def open(self, name: str) -> IO[bytes]:
        return self._archive.open(self._prefix + name)


@contextmanager
def _open_package(path: Path) -> Iterator[_Package]:
    if path.is_dir():
        yield _FolderPackage(path)
        return
    if not path.exists():
        raise _Unusable(f"{path} does not exist")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise _Unusable(f"{path} is neither a package folder nor a readable zip ({exc})") from exc
    with archive:
        yield _ZipPackage(archive)


def verify_package(path: Path, trusted_keys: Sequence[Ed25519PublicKey] = ()) -> VerificationReport:
    """Check a package (folder or zip): the signature, every file's SHA-256, the manifest's
    form, and that nothing was added or removed. Never raises for a bad package: every
    problem is in the report, naming the file it concerns.

    The signature must verify with one of ``trusted_keys`` (every key the city published:
    the current one and the retired ones). Without any, it is checked with the package's own
    key, which proves only that the package is self-consistent: the verdict is then at best
    ``SELF_CONSISTENT``, never ``VALID``.
    """
    report = VerificationReport(path=path)
    try:
        with _open_package(path) as package:
            _check_package(package, list(trusted_keys), report)
    except _Unusable as exc:
        report.problem(FindingKind.UNUSABLE, str(path), str(exc))
    except _ZIP_DAMAGE as exc:
        report.problem(FindingKind.ALTERED_FILE, str(path), f"the zip was altered ({exc})")
    except OSError as exc:
        report.problem(FindingKind.UNUSABLE, str(path), f"cannot read {path}: {exc}")
    return report


def _check_package(
    package: _Package, trusted: list[Ed25519PublicKey], report: VerificationReport
) -> None:
    names = package.names()
    present = set(names)
    if MANIFEST_FILE not in present and SIGNATURE_FILE not in present:
        raise _Unusable(f"no {MANIFEST_FILE} or {SIGNATURE_FILE}: not a SafeCity evidence package")
    for name, count in sorted(Counter(names).items()):
        if count > 1:
            report.problem(
                FindingKind.EXTRA_FILE, name, f"{name} is in the zip {count} times: one was added"
            )
    manifest_data = _read_required(
        package, present, MANIFEST_FILE, "nothing says what the package should hold", report
    )
    signature = _read_required(
        package, present, SIGNATURE_FILE, "nothing proves who made the manifest", report
    )
    package_key = _package_key(package, present, bool(trusted), report)
    if manifest_data is not None and signature is not None:
        _check_signature(manifest_data, signature, package_key, trusted, report)
    if manifest_data is None:
        return
    report.manifest = _parse_manifest(manifest_data, report)
    if report.manifest is not None:
        _check_key_is_the_named_one(report.manifest, package_key, report)
        _check_files(package, present, report.manifest, report)


def _read_required(
    package: _Package, present: set[str], name: str, consequence: str, report: VerificationReport
) -> bytes | None:
    if name not in present:
        report.problem(FindingKind.MISSING_FILE, name, f"{name} is missing: {consequence}")
        return None
    return package.read_small(name)


def _package_key(
    package: _Package, present: set[str], trusted_given: bool, report: VerificationReport
) -> Ed25519PublicKey | None:
    if PUBLIC_KEY_FILE not in present:
        consequence = (
            "the signature is checked with the trusted key only"
            if trusted_given
            else "give the city's public key to check the signature"
        )
        report.problem(
            FindingKind.MISSING_FILE,
            PUBLIC_KEY_FILE,
            f"{PUBLIC_KEY_FILE} is missing: {consequence}",
        )
        return None
    try:
        return load_public_key(package.read_small(PUBLIC_KEY_FILE))
    except ValueError as exc:
        report.problem(FindingKind.BAD_KEY, PUBLIC_KEY_FILE, f"{PUBLIC_KEY_FILE} is {exc}")
        return None


def _verifies(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def _check_signature(
    manifest_data: bytes,
    signature: bytes,
    package_key: Ed25519PublicKey | None,
    trusted: list[Ed25519PublicKey],
    report: VerificationReport,
) -> None:
    if trusted:
        _check_signature_trusted(manifest_data, signature, package_key, trusted, report)
        return
    if package_key is None:
        report.notes.append("the signature was not checked: there is no public key to check it")
        return
    if not _verifies(package_key, signature, manifest_data):
        report.problem(
            FindingKind.BAD_SIGNATURE,
            MANIFEST_FILE,
            f"{MANIFEST_FILE} does not match {SIGNATURE_FILE} under {PUBLIC_KEY_FILE}: the "
            "manifest was edited after signing, or the signature or the key was replaced",
        )
        return
    report.signed_by = key_fingerprint(package_key)
    report.notes.append(
        "no trusted public key was given, so the package is only self-consistent: it verifies "
        f"with the key it carries (fingerprint {report.signed_by}), and anyone can make such a "
        "package with a key of their own. Compare that fingerprint with the city's published "
        "one, or check again with the city's public key."
    )


def _check_signature_trusted(
    manifest_data: bytes,
    signature: bytes,
    package_key: Ed25519PublicKey | None,
    trusted: list[Ed25519PublicKey],
    report: VerificationReport,
) -> None:
    signer = next((key for key in trusted if _verifies(key, signature, manifest_data)), None)
    which = (
        f"the trusted key (fingerprint {key_fingerprint(trusted[0])})"
        if len(trusted) == 1
        else f"any of the {len(trusted)} trusted keys"
    )
    if signer is not None:
        report.signed_by, report.trusted_key = key_fingerprint(signer), True
        report.notes.append(f"signed by a trusted key (fingerprint {report.signed_by})")
    elif package_key is not None and _verifies(package_key, signature, manifest_data):
        report.signed_by = key_fingerprint(package_key)
        report.problem(
            FindingKind.DIFFERENT_KEY,
            SIGNATURE_FILE,
            f"signed by a different key: the manifest was signed with the key in "
            f"{PUBLIC_KEY_FILE} (fingerprint {report.signed_by}), not {which}; the package "
            "was made or re-signed elsewhere",
        )
    else:
        report.problem(
            FindingKind.BAD_SIGNATURE,
            MANIFEST_FILE,
            f"{MANIFEST_FILE} does not match {SIGNATURE_FILE} under {which}: the manifest was "
            "edited after signing, or the signature was replaced",
        )


def _parse_manifest(data: bytes, report: VerificationReport) -> Manifest | None:
    try:
        return Manifest.model_validate_json(data)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'top level'}: {error['msg']}"
            for error in exc.errors()[:5]
        )
        report.problem(
            FindingKind.BAD_MANIFEST,
            MANIFEST_FILE,
            f"{MANIFEST_FILE} is not a {FORMAT} manifest ({details}); its files cannot be checked",
        )
        return None


def _check_key_is_the_named_one(
    manifest: Manifest, package_key: Ed25519PublicKey | None, report: VerificationReport
) -> None:
    if package_key is None:
        return
    named, carried = manifest.signing_key.fingerprint_sha256, key_fingerprint(package_key)
    if named != carried:
        report.problem(
            FindingKind.KEY_REPLACED,
            PUBLIC_KEY_FILE,
            f"{PUBLIC_KEY_FILE} was replaced: its fingerprint {carried} is not the signing key "
            f"the manifest names ({named})",
        )


def _check_files(
    package: _Package, present: set[str], manifest: Manifest, report: VerificationReport
) -> None:
    listed = {entry.name: entry for entry in manifest.files}
    expected = {MANIFEST_FILE, SIGNATURE_FILE, PUBLIC_KEY_FILE, *listed}
    for name in sorted(present - expected):
        report.problem(
            FindingKind.EXTRA_FILE,
            name,
            f"{name} is not part of the package as signed: it was added",
        )
    for name, entry in sorted(listed.items()):
        if name not in present:
            report.problem(FindingKind.MISSING_FILE, name, f"{name} is missing")
            continue
        try:
            size, digest = package.digest(name)
        except _ZIP_DAMAGE as exc:
            report.problem(
                FindingKind.ALTERED_FILE, name, f"{name} was altered inside the zip ({exc})"
            )
            continue
        if (size, digest) != (entry.bytes, entry.sha256):
            report.problem(
                FindingKind.ALTERED_FILE,
                name,
                f"{name} was altered: it has {size} bytes with SHA-256 {digest}; the signed "
                f"manifest says {entry.bytes} bytes with SHA-256 {entry.sha256}",
            )
