"""Evidence packages: exported from real recordings, verified, and every kind of tampering named.

The recordings are real fragmented-MP4 segments (synthetic H.264 remuxed as the recorder writes
them) indexed in the database, and the clip is written by the real clip writer.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safecity.auth.models import User
from safecity.auth.roles import Role
from safecity.city.models import Camera
from safecity.settings import Settings
from safecity.store.engine import Database
from safecity.video.evidence.export import (
    DEFAULT_MAX_RANGE,
    ClipWriter,
    Exporter,
    ExportRefused,
    ExportRequest,
    ExportResult,
    evidence_folder,
    export_evidence,
)
from safecity.video.evidence.keys import (
    SigningKeyError,
    create_signing_key,
    key_fingerprint,
    load_signing_key,
    public_key_pem,
    trusted_keys,
)
from safecity.video.evidence.manifest import Manifest
from safecity.video.evidence.verify import FindingKind, Verdict, verify_package
from safecity.video.ingest.synthetic import VideoJob, VideoSpec, write_street_video
from safecity.video.models import EvidenceExport, HoldKind, LegalHold, RecordedSegment
from safecity.video.mp4.layout import read_layout
from safecity.video.playback.clips import Clip, export_clip, plan_clip
from tests import factories as f

SEGMENT_SECONDS = 2
SPEC = VideoSpec(width=320, height=180, fps=15, seconds=3 * SEGMENT_SECONDS, gop_seconds=1)
RECORDED_AT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof"}


# --- recordings, shared with the API and CLI tests -------------------------------------------


def write_fragmented_segments(source: Path, folder: Path, seconds: int) -> list[Path]:
    """Cut ``source`` into fragmented MP4 files as the recorder does: a new file at the first
    keyframe at or after every ``seconds``, each file's timeline starting at 0."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        assert stream.time_base is not None
        out: av.container.OutputContainer | None = None
        target = None
        first_dts = 0
        for packet in container.demux(stream):
            if packet.dts is None or packet.pts is None:
                continue
            due = packet.pts * stream.time_base >= seconds * len(paths)
            if packet.is_keyframe and (out is None or due):
                if out is not None:
                    out.close()
                paths.append(folder / f"{len(paths):03d}.mp4")
                out = av.open(str(paths[-1]), "w", format="mp4", options=dict(FRAGMENTED))
                target = out.add_stream_from_template(stream)
                first_dts = packet.dts
            assert out is not None and target is not None
            packet.pts, packet.dts = packet.pts - first_dts, packet.dts - first_dts
            packet.stream = target
            out.mux(packet)
        if out is not None:
            out.close()
    return paths


def make_segment_files(folder: Path) -> list[Path]:
    """Three 2-second recorder segments of real H.264."""
    source = write_street_video(VideoJob(folder / "source.mp4", "CAM-EVIDENCE", 7), SPEC)
    return write_fragmented_segments(source, folder / "cut", SEGMENT_SECONDS)


@pytest.fixture(scope="module")
def segment_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return make_segment_files(tmp_path_factory.mktemp("segments"))


def index_recordings(
    session: Session, camera: Camera, media_root: Path, files: list[Path], start: datetime
) -> list[RecordedSegment]:
    """Put the files under the media folder and index them back to back from ``start``."""
    rows = []
    for index, file in enumerate(files):
        started_at = start + timedelta(seconds=index * SEGMENT_SECONDS)
        relative = f"recordings/{camera.code}/{started_at:%Y-%m-%d}/{started_at:%H%M%S}-000.mp4"
        target = media_root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
        layout = read_layout(target)
        data = target.read_bytes()
        rows.append(
            RecordedSegment(
                camera_id=camera.id,
                started_at=started_at,
                ended_at=started_at + timedelta(seconds=layout.seconds),
                path=relative,
                bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                codec=layout.codec,
                time_scale=layout.timescale,
                init_bytes=layout.init_size,
                packets=sum(1 for _ in layout.fragments),
                keyframes=[
                    [fragment.decode_time * 1000 // layout.timescale, fragment.offset]
                    for fragment in layout.fragments
                ],
            )
        )
    session.add_all(rows)
    session.flush()
    return rows


def make_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", city_name="Astana", timezone="Asia/Almaty")


# --- fixtures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    camera_id: int
    user_id: int
    settings: Settings
    database: Database


@pytest.fixture
def recorded(database: Database, tmp_path: Path, segment_files: list[Path]) -> Recorded:
    settings = make_settings(tmp_path)
    with database.session() as session:
        district = f.add_district(session, "west", f.WEST)
        camera = f.add_camera(session, "W-STREET", district, address="Abay Ave 10")
        user = f.add_user(session, "duty1", Role.OPERATOR)
        index_recordings(session, camera, settings.media_path, segment_files, RECORDED_AT)
        return Recorded(camera.id, user.id, settings, database)


def export(
    recorded: Recorded,
    *,
    start: datetime = RECORDED_AT + timedelta(seconds=1.5),
    end: datetime = RECORDED_AT + timedelta(seconds=4.5),
    reason: str = "Case 2026-114: theft at the bus stop, court request 77",
    max_range: timedelta = DEFAULT_MAX_RANGE,
    write_clip: ClipWriter = export_clip,
) -> ExportResult:
    with recorded.database.session() as session:
        camera = session.get_one(Camera, recorded.camera_id)
        user = session.get_one(User, recorded.user_id)
        request = ExportRequest(camera, start, end, reason, Exporter.from_user(user))
        return export_evidence(
            session, request, settings=recorded.settings, max_range=max_range, write_clip=write_clip
        )


@pytest.fixture
def package(recorded: Recorded) -> ExportResult:
    return export(recorded)


@pytest.fixture
def city_key(recorded: Recorded, package: ExportResult) -> Ed25519PrivateKey:
    """The key the installation's first export made."""
    key = load_signing_key(recorded.settings.evidence_key_path)
    assert key is not None
    return key


def kinds(path: Path, trusted: Ed25519PrivateKey | None = None) -> list[tuple[FindingKind, str]]:
    report = verify_package(path, [trusted.public_key()] if trusted else [])
    return [(problem.kind, problem.subject) for problem in report.problems]


def rezip(archive: Path, change: dict[str, bytes | None]) -> None:
    """Rewrite the zip with some entries replaced (or, for None, left out)."""
    with zipfile.ZipFile(archive) as old:
        entries = {info.filename: old.read(info) for info in old.infolist()}
    with zipfile.ZipFile(archive, "w") as new:
        for name, data in entries.items():
            short = name.split("/", 1)[1]
            replaced = change.pop(short, data)
            if replaced is not None:
                new.writestr(name, replaced)
        prefix = next(iter(entries)).split("/", 1)[0]
        for short, added in change.items():
            assert added is not None
            new.writestr(f"{prefix}/{short}", added)


# --- export --------------------------------------------------------------------------------


def test_export_writes_a_folder_and_a_zip_that_verify(package: ExportResult) -> None:
    names = sorted(path.name for path in package.folder.iterdir())
    assert names == ["README.txt", "clip.mp4", "manifest.json", "manifest.sig", "public-key.pem"]
    with zipfile.ZipFile(package.archive) as archive:
        assert sorted(archive.namelist()) == [f"{package.folder.name}/{name}" for name in names]
    assert not [p for p in package.folder.parent.iterdir() if p.name.startswith(".")]
    for form in (package.folder, package.archive):
        report = verify_package(form)
        assert report.intact and report.usable, report.problems
        assert report.verdict is Verdict.SELF_CONSISTENT and not report.valid
        assert report.signed_by == package.manifest.signing_key.fingerprint_sha256
        assert not report.trusted_key
        assert "only self-consistent" in report.notes[0]


def test_the_package_is_private(package: ExportResult) -> None:
    assert stat.S_IMODE(package.folder.stat().st_mode) == 0o700
    for file in package.folder.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
    assert stat.S_IMODE(package.archive.stat().st_mode) == 0o600
    assert stat.S_IMODE(package.folder.parent.stat().st_mode) == 0o700


def test_the_clip_is_the_recording_widened_to_keyframes(package: ExportResult) -> None:
    manifest = package.manifest
    assert manifest.requested.start_utc == RECORDED_AT + timedelta(seconds=1.5)
    assert manifest.actual.start_utc == RECORDED_AT + timedelta(seconds=1)
    assert manifest.actual.end_utc >= manifest.requested.end_utc
    assert [s.path.rsplit("/", 1)[1] for s in manifest.segments] == [
        "100000-000.mp4",
        "100002-000.mp4",
        "100004-000.mp4",
    ]
    with av.open(str(package.folder / "clip.mp4")) as container:
        frames = sum(1 for _ in container.decode(video=0))
    seconds = (manifest.actual.end_utc - manifest.actual.start_utc).total_seconds()
    assert frames == round(seconds * SPEC.fps)


def test_the_manifest_says_who_what_when_and_why(package: ExportResult) -> None:
    data = (package.folder / "manifest.json").read_bytes()
    parsed = json.loads(data)
    assert (
        data == (json.dumps(parsed, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode()
    )
    manifest = Manifest.model_validate_json(data)
    assert manifest.format == "safecity-evidence/1" and manifest.package_id == package.folder.name
    assert manifest.city == "Astana" and manifest.timezone == "Asia/Almaty"
    assert manifest.camera.code == "W-STREET" and manifest.camera.address == "Abay Ave 10"
    assert manifest.camera.district.code == "west"
    assert manifest.actual.start_local.isoformat() == "2026-03-01T15:00:01+05:00"
    assert manifest.exported_by.name == "duty1" and manifest.exported_by.role == "operator"
    assert manifest.reason.startswith("Case 2026-114")
    assert manifest.gaps == []
    clip = package.folder / "clip.mp4"
    assert manifest.clip.sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
    assert manifest.clip.bytes == clip.stat().st_size
    assert {entry.name for entry in manifest.files} == {"clip.mp4", "README.txt"}
    assert manifest.signing_key.fingerprint_sha256 in (package.folder / "README.txt").read_text()


def test_export_pins_the_recording_and_is_audited(
    recorded: Recorded, package: ExportResult
) -> None:
    with recorded.database.session() as session:
        hold = session.scalars(select(LegalHold)).one()
        row = session.scalars(select(EvidenceExport)).one()
    manifest = package.manifest
    assert hold.kind is HoldKind.EVIDENCE and hold.reference == manifest.package_id
    assert (hold.starts_at, hold.ends_at) == (
        min(manifest.requested.start_utc, manifest.actual.start_utc),
        max(manifest.requested.end_utc, manifest.actual.end_utc),
    )
    assert hold.created_by_id == recorded.user_id and hold.released_at is None
    assert row.hold_id == hold.id and row.camera_id == recorded.camera_id
    assert row.exported_by == "duty1" and row.exported_by_id == recorded.user_id
    assert row.path == package.archive.name  # relative to the evidence folder
    assert row.bytes == package.archive.stat().st_size
    manifest_data = (package.folder / "manifest.json").read_bytes()
    assert row.manifest_sha256 == hashlib.sha256(manifest_data).hexdigest()
    assert row.details["segments"] == 3 and row.details["folder"] == str(package.folder)


def test_a_gap_in_the_recording_is_listed(
    database: Database, tmp_path: Path, segment_files: list[Path]
) -> None:
    settings = make_settings(tmp_path)
    with database.session() as session:
        camera = f.add_camera(session, "E-1", f.add_district(session, "east", f.EAST))
        index_recordings(session, camera, settings.media_path, segment_files[:1], RECORDED_AT)
        later = RECORDED_AT + timedelta(seconds=10)
        index_recordings(session, camera, settings.media_path, segment_files[1:2], later)
        request = ExportRequest(
            camera, RECORDED_AT, later + timedelta(seconds=1), "gap check", Exporter.cli("ops")
        )
        result = export_evidence(session, request, settings=settings)
    [gap] = result.manifest.gaps
    assert gap.start_utc == RECORDED_AT + timedelta(seconds=SEGMENT_SECONDS)
    assert gap.end_utc == later
    assert result.record.exported_by == "cli:ops" and result.record.exported_by_id is None


@pytest.mark.parametrize(
    ("start", "end", "reason", "message"),
    [
        (RECORDED_AT, RECORDED_AT + timedelta(seconds=4), "  \n", "a reason is required"),
        (RECORDED_AT + timedelta(seconds=4), RECORDED_AT, "court", "must come after its start"),
        (RECORDED_AT, RECORDED_AT + timedelta(hours=25), "court", "at most"),
        (RECORDED_AT - timedelta(hours=2), RECORDED_AT - timedelta(hours=1), "x", "no recording"),
    ],
)
def test_refused_requests_leave_nothing(
    recorded: Recorded, start: datetime, end: datetime, reason: str, message: str
) -> None:
    with pytest.raises(ExportRefused, match=message):
        export(recorded, start=start, end=end, reason=reason)
    assert_nothing_left(recorded)


def test_the_longest_range_is_configurable(recorded: Recorded) -> None:
    with pytest.raises(ExportRefused, match="at most"):
        export(recorded, max_range=timedelta(seconds=2))


def test_an_altered_recording_is_refused_and_named(recorded: Recorded) -> None:
    with recorded.database.session() as session:
        segment = session.scalars(select(RecordedSegment).order_by(RecordedSegment.id)).first()
        assert segment is not None
    path = recorded.settings.media_path / segment.path
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ExportRefused, match=f"segment {segment.path} .* altered"):
        export(recorded)
    assert_nothing_left(recorded)


def test_a_failure_while_writing_the_clip_leaves_nothing(recorded: Recorded) -> None:
    def breaks_half_way(
        session: Session,
        media_root: Path,
        camera: Camera,
        start: datetime,
        end: datetime,
        out: Path,
        *,
        longest: timedelta,
    ) -> Clip:
        out.write_bytes(b"half a clip")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        export(recorded, write_clip=breaks_half_way)
    assert_nothing_left(recorded)


def test_a_failed_commit_removes_the_package(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(self: Session) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(Session, "commit", fails)
    with pytest.raises(RuntimeError, match="went away"):
        export(recorded)
    monkeypatch.undo()
    assert_nothing_left(recorded)


def test_a_failed_final_commit_removes_the_package_and_its_hold(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hold is committed first; the commit of the package's audit row fails: the files
    go and the hold is deleted again."""
    commit = Session.commit
    calls = 0

    def second_fails(self: Session) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("database went away")
        commit(self)

    monkeypatch.setattr(Session, "commit", second_fails)
    with pytest.raises(RuntimeError, match="went away"):
        export(recorded)
    monkeypatch.undo()
    assert calls >= 3  # the hold, the package (failed), deleting the hold
    assert_nothing_left(recorded)


def test_the_hold_is_committed_before_the_clip_is_written(recorded: Recorded) -> None:
    """Retention sees only committed holds (it reads them in its own transaction for every
    batch): the hold must be visible from another session while the recordings are read."""
    seen: list[tuple[datetime, datetime]] = []

    def checks_the_hold(
        session: Session,
        media_root: Path,
        camera: Camera,
        start: datetime,
        end: datetime,
        out: Path,
        *,
        longest: timedelta,
    ) -> Clip:
        with recorded.database.session() as other:
            holds = other.scalars(
                select(LegalHold).where(
                    LegalHold.camera_id == camera.id, LegalHold.released_at.is_(None)
                )
            ).all()
            seen.extend((hold.starts_at, hold.ends_at) for hold in holds)
        return export_clip(session, media_root, camera, start, end, out, longest=longest)

    result = export(recorded, write_clip=checks_the_hold)
    assert seen == [(result.manifest.requested.start_utc, result.manifest.requested.end_utc)]


def middle_segment(recorded: Recorded) -> RecordedSegment:
    with recorded.database.session() as session:
        segments = session.scalars(select(RecordedSegment).order_by(RecordedSegment.id)).all()
    return segments[1]


def test_a_segment_file_deleted_before_export_is_refused_and_named(recorded: Recorded) -> None:
    segment = middle_segment(recorded)
    (recorded.settings.media_path / segment.path).unlink()
    with pytest.raises(ExportRefused, match=f"segment {segment.path} is missing"):
        export(recorded)
    assert_nothing_left(recorded)


def test_a_segment_file_deleted_while_exporting_is_refused_and_named(recorded: Recorded) -> None:
    """Checked and planned, then deleted (by a retention batch that read the holds before the
    export's was committed) before its bytes are copied: the OS error names the file."""
    segment = middle_segment(recorded)

    def deleted_underneath(
        session: Session,
        media_root: Path,
        camera: Camera,
        start: datetime,
        end: datetime,
        out: Path,
        *,
        longest: timedelta,
    ) -> Clip:
        plan = plan_clip(session, media_root, camera, start, end, longest=longest)
        (media_root / segment.path).unlink()
        plan.join.write(out)
        raise AssertionError("the write should have failed")

    with pytest.raises(ExportRefused, match=f"segment {segment.path} is missing") as caught:
        export(recorded, write_clip=deleted_underneath)
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    assert_nothing_left(recorded)


def test_an_unreadable_segment_is_refused_and_named(recorded: Recorded) -> None:
    segment = middle_segment(recorded)

    def unreadable(
        session: Session,
        media_root: Path,
        camera: Camera,
        start: datetime,
        end: datetime,
        out: Path,
        *,
        longest: timedelta,
    ) -> Clip:
        raise PermissionError(13, "Permission denied", str(media_root / segment.path))

    with pytest.raises(ExportRefused, match=f"segment {segment.path} cannot be read"):
        export(recorded, write_clip=unreadable)
    assert_nothing_left(recorded)


def assert_nothing_left(recorded: Recorded) -> None:
    folder = evidence_folder(recorded.settings)
    assert not folder.exists() or list(folder.iterdir()) == []
    with recorded.database.session() as session:
        assert session.scalar(select(func.count()).select_from(EvidenceExport)) == 0
        assert session.scalar(select(func.count()).select_from(LegalHold)) == 0


# --- signing key ---------------------------------------------------------------------------


def test_the_key_is_created_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "evidence-ed25519.pem"
    key = create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = load_signing_key(path)
    assert again is not None
    assert key_fingerprint(again.public_key()) == key_fingerprint(key.public_key())
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_key_file_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_text("not a key")
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM private key"):
        load_signing_key(path)


def test_the_installation_key_is_read_never_created(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert trusted_keys(settings) == []
    assert not settings.evidence_key_path.exists()
    key = create_signing_key(settings.evidence_key_path)
    found = [trusted.fingerprint for trusted in trusted_keys(settings)]
    assert found == [key_fingerprint(key.public_key())]
    settings.evidence_key_path.write_text("not a key")
    with pytest.raises(SigningKeyError, match="not an unencrypted PEM private key"):
        trusted_keys(settings)


# --- verification: what was altered --------------------------------------------------------


def flip_byte(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_clip_changed_by_one_byte_is_named(
    package: ExportResult, city_key: Ed25519PrivateKey
) -> None:
    flip_byte(package.folder / "clip.mp4", 5000)
    assert kinds(package.folder) == [(FindingKind.ALTERED_FILE, "clip.mp4")]
    assert kinds(package.folder, city_key) == [(FindingKind.ALTERED_FILE, "clip.mp4")]
    assert verify_package(package.folder, [city_key.public_key()]).verdict is Verdict.ALTERED


def test_a_clip_changed_inside_the_zip_is_named(package: ExportResult) -> None:
    data = bytearray((package.folder / "clip.mp4").read_bytes())
    data[5000] ^= 0x01
    rezip(package.archive, {"clip.mp4": bytes(data)})
    report = verify_package(package.archive)
    assert [(p.kind, p.subject) for p in report.problems] == [
        (FindingKind.ALTERED_FILE, "clip.mp4")
    ]
    assert "SHA-256" in report.problems[0].message


def test_bytes_flipped_in_the_zip_itself_are_caught(package: ExportResult) -> None:
    with zipfile.ZipFile(package.archive) as archive:
        info = archive.getinfo(f"{package.folder.name}/clip.mp4")
    flip_byte(package.archive, info.header_offset + 100 + 5000)
    assert kinds(package.archive) == [(FindingKind.ALTERED_FILE, "clip.mp4")]


def test_an_edited_manifest_fails_its_signature(
    package: ExportResult, city_key: Ed25519PrivateKey
) -> None:
    path = package.folder / "manifest.json"
    path.write_bytes(path.read_bytes().replace(b"theft at the bus stop", b"nothing happened"))
    expected = [(FindingKind.BAD_SIGNATURE, "manifest.json")]
    assert kinds(package.folder) == expected
    assert kinds(package.folder, city_key) == expected


def test_missing_and_added_files_are_named(package: ExportResult) -> None:
    (package.folder / "manifest.sig").unlink()
    (package.folder / "README.txt").unlink()
    (package.folder / "notes.txt").write_text("added later")
    assert set(kinds(package.folder)) == {
        (FindingKind.MISSING_FILE, "README.txt"),
        (FindingKind.MISSING_FILE, "manifest.sig"),
        (FindingKind.EXTRA_FILE, "notes.txt"),
    }


def test_missing_and_added_files_in_the_zip_are_named(package: ExportResult) -> None:
    rezip(package.archive, {"clip.mp4": None, "notes.txt": b"added later"})
    assert set(kinds(package.archive)) == {
        (FindingKind.MISSING_FILE, "clip.mp4"),
        (FindingKind.EXTRA_FILE, "notes.txt"),
    }


def test_a_file_added_beside_the_folder_in_the_zip_is_named(package: ExportResult) -> None:
    with zipfile.ZipFile(package.archive, "a") as archive:
        archive.writestr("clip.mp4", b"another video")
    assert set(kinds(package.archive)) == {(FindingKind.EXTRA_FILE, "clip.mp4")}


def test_a_replaced_public_key_is_named(package: ExportResult) -> None:
    other = Ed25519PrivateKey.generate()
    (package.folder / "public-key.pem").write_bytes(public_key_pem(other.public_key()))
    assert set(kinds(package.folder)) == {
        (FindingKind.BAD_SIGNATURE, "manifest.json"),
        (FindingKind.KEY_REPLACED, "public-key.pem"),
    }


def forge(folder: Path) -> Ed25519PrivateKey:
    """What a forger does: change the clip, put its new hash in the manifest, change the
    reason, and sign it all with a key of their own (carried in the package)."""
    forger = Ed25519PrivateKey.generate()
    clip = folder / "clip.mp4"
    data = bytearray(clip.read_bytes())
    data[5000] ^= 0x01
    clip.write_bytes(bytes(data))
    path = folder / "manifest.json"
    manifest = json.loads(path.read_bytes())
    digest = hashlib.sha256(data).hexdigest()
    manifest["clip"]["sha256"] = digest
    for entry in manifest["files"]:
        if entry["name"] == "clip.mp4":
            entry["sha256"] = digest
    manifest["reason"] = "nothing happened"
    manifest["signing_key"]["fingerprint_sha256"] = key_fingerprint(forger.public_key())
    forged = (json.dumps(manifest, sort_keys=True, indent=2) + "\n").encode()
    path.write_bytes(forged)
    (folder / "manifest.sig").write_bytes(forger.sign(forged))
    (folder / "public-key.pem").write_bytes(public_key_pem(forger.public_key()))
    return forger


def test_a_package_re_signed_with_another_key_is_caught_only_with_the_trusted_key(
    package: ExportResult, city_key: Ed25519PrivateKey
) -> None:
    forger = forge(package.folder)

    alone = verify_package(package.folder)
    assert alone.intact and "only self-consistent" in alone.notes[0]
    assert alone.verdict is Verdict.SELF_CONSISTENT and not alone.valid
    assert alone.signed_by == key_fingerprint(forger.public_key())
    trusted = verify_package(package.folder, [city_key.public_key()])
    assert trusted.verdict is Verdict.ALTERED and not trusted.valid
    assert [(p.kind, p.subject) for p in trusted.problems] == [
        (FindingKind.DIFFERENT_KEY, "manifest.sig")
    ]
    assert "signed by a different key" in trusted.problems[0].message


def test_the_trusted_key_confirms_a_genuine_package(
    package: ExportResult, city_key: Ed25519PrivateKey
) -> None:
    report = verify_package(package.archive, [city_key.public_key()])
    assert report.valid and report.trusted_key and report.verdict is Verdict.VALID
    assert report.notes == [
        f"signed by a trusted key (fingerprint {key_fingerprint(city_key.public_key())})"
    ]


def test_a_manifest_that_is_not_json_is_named(package: ExportResult) -> None:
    (package.folder / "manifest.json").write_text("{ not json")
    assert set(kinds(package.folder)) == {
        (FindingKind.BAD_MANIFEST, "manifest.json"),
        (FindingKind.BAD_SIGNATURE, "manifest.json"),
    }


def test_a_manifest_naming_a_file_outside_the_package_is_refused(package: ExportResult) -> None:
    path = package.folder / "manifest.json"
    manifest = json.loads(path.read_bytes())
    manifest["files"][0]["name"] = "../../etc/passwd"
    path.write_text(json.dumps(manifest))
    assert set(kinds(package.folder)) == {
        (FindingKind.BAD_MANIFEST, "manifest.json"),
        (FindingKind.BAD_SIGNATURE, "manifest.json"),
    }


@pytest.fixture
def not_a_package(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "holiday-photos"
    folder.mkdir()
    (folder / "beach.jpg").write_bytes(b"\xff\xd8")
    yield folder


def test_unusable_input_is_reported_not_raised(tmp_path: Path, not_a_package: Path) -> None:
    text_file = tmp_path / "letter.txt"
    text_file.write_text("hello")
    for path, words in [
        (tmp_path / "nowhere", "does not exist"),
        (text_file, "neither a package folder nor a readable zip"),
        (not_a_package, "not a SafeCity evidence package"),
    ]:
        report = verify_package(path)
        assert not report.usable and not report.valid
        assert report.verdict is Verdict.UNUSABLE
        assert words in report.problems[0].message


# --- without SafeCity ----------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_verifies_the_package_as_the_readme_says(
    package: ExportResult, city_key: Ed25519PrivateKey
) -> None:
    def run(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, shell=True, cwd=package.folder, capture_output=True, text=True, check=False
        )

    verify = (
        "openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin "
        "-in manifest.json -sigfile manifest.sig"
    )
    readme = (package.folder / "README.txt").read_text()
    assert verify in readme
    result = run(verify)
    assert result.returncode == 0 and "Signature Verified Successfully" in result.stdout
    fingerprint = run(
        "openssl pkey -pubin -in public-key.pem -outform DER | tail -c 32 | sha256sum"
    )
    assert fingerprint.stdout.split()[0] == key_fingerprint(city_key.public_key())
    sums = run("sha256sum clip.mp4 README.txt").stdout.split()
    listed = {entry.name: entry.sha256 for entry in package.manifest.files}
    assert dict(zip(sums[1::2], sums[0::2], strict=True)) == listed
    flip_byte(package.folder / "manifest.json", 10)
    assert run(verify).returncode != 0
