"""Verifying an evidence package (a folder or its zip): pure checks, findings in plain words.

A package verifies as *valid* only against a trusted key (one the city published, or one in
this installation's keyring: :mod:`safecity.video.evidence.keys`); checked only against the key
it carries it is merely *self-consistent*, which anyone with a key of their own can forge
(:class:`Verdict`).
"""

from __future__ import annotations

import enum
import hashlib
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from safecity.video.evidence.keys import key_fingerprint, load_public_key
from safecity.video.evidence.manifest import (
    FORMAT,
    MANIFEST_FILE,
    PUBLIC_KEY_FILE,
    SIGNATURE_FILE,
    Manifest,
)

_MAX_SMALL_FILE = 64 * 1024 * 1024
"""Manifests, signatures and keys are read whole; a larger one is not a SafeCity package."""
_CHUNK = 1024 * 1024


def _digest_stream(stream: IO[bytes]) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


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
