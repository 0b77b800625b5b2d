"""The evidence keyring: which keys signed evidence here, which one signs now, and rotation.

A package must verify for as long as a court may ask, so a key that once signed is trusted
forever, while the key that signs may change: on a schedule, or because it leaked or was lost.
The keyring keeps, for every key that ever signed here, its public key and its dates::

    data_dir/keys/evidence-ed25519.pem        the signing key (private, 0600; video.evidence_key)
    data_dir/keys/evidence-keyring/           (video.evidence_keyring; folder 0700)
      <fingerprint>.pem                       the key's public key, ready to publish
      <fingerprint>.json                      its fingerprint, when it began and stopped signing

One file per key and no shared index, so that two processes adding keys never lose one.
Rotation retires the signing key: its private half is overwritten by the new key (it can never
sign again, so it cannot leak later), its public half stays in the keyring and stays trusted.

A key is made only where none ever existed: ``safecity evidence key init``, or the first
export of an installation whose keyring is empty and which has no package on record. Where the
keyring or the packages show that a key existed, a missing signing key is an error
(:class:`SigningKeyMissing`), never silently a new key: after a restore without the keys
folder, new packages would be signed by a key nobody published, and every check of an old
package against "this installation's key" would say ALTERED.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from safecity.audit.log import record as audit
from safecity.settings import Settings
from safecity.video.models import EvidenceExport

KEYRING_FORMAT = "safecity-evidence-key/1"
_PRIVATE_FOLDER, _PRIVATE_FILE = 0o700, 0o600


class EvidenceError(Exception):
    """Evidence cannot be exported or its keys used; the message says why, in words for the
    person asking."""


class SigningKeyError(EvidenceError):
    """The signing key or the keyring cannot be read, created or used."""


class SigningKeyMissing(SigningKeyError):
    """The signing key is gone although the keyring or the packages show that one existed."""


# --- one key (pure, and its file) -------------------------------------------------------------


def create_signing_key(path: Path) -> Ed25519PrivateKey:
    """A new signing key at ``path`` (0600, in a 0700 folder); the caller records it.

    Two processes creating it at once end up with the same key: the file appears atomically
    and the loser loads the winner's.
    """
    key = Ed25519PrivateKey.generate()
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True)
            path.parent.chmod(_PRIVATE_FOLDER)  # mkdir's mode would be cut by the umask
        temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_FILE)
        try:
            with os.fdopen(descriptor, "wb") as file:
                os.fchmod(file.fileno(), _PRIVATE_FILE)
                file.write(private_key_pem(key))
                file.flush()
                os.fsync(file.fileno())
            os.link(temporary, path)  # fails if another process made the key meanwhile
        except FileExistsError:
            return _parse_private_key(path.read_bytes(), path)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as exc:
        raise SigningKeyError(
            f"cannot create the evidence signing key {path}: {exc.strerror or exc}"
        ) from exc
    return key


def load_signing_key(path: Path) -> Ed25519PrivateKey | None:
    """The signing key at ``path`` if there is one (never creates it); SigningKeyError when
    the file exists but cannot be read or is not an Ed25519 private key."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SigningKeyError(
            f"cannot read the evidence signing key {path}: {exc.strerror or exc}"
        ) from exc
    return _parse_private_key(data, path)


def _parse_private_key(data: bytes, path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SigningKeyError(f"{path} is not an unencrypted PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    """The public key as a PEM file (SubjectPublicKeyInfo), as ``openssl pkey -pubin`` reads."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(data: bytes) -> Ed25519PublicKey:
    """Read a PEM public key; ValueError when it is not an Ed25519 one."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValueError("not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"a {type(key).__name__}, not an Ed25519 public key")
    return key


def key_fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw 32-byte public key, hex: short enough to read out over the phone,
    and computable with openssl (``pkey -pubin -outform DER | tail -c 32 | sha256sum``)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


# --- the keyring ------------------------------------------------------------------------------


class KeyringEntry(BaseModel):
    """One key's record (``<fingerprint>.json``); its public key is ``<fingerprint>.pem``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    format: str = KEYRING_FORMAT
    algorithm: str = "Ed25519"
    fingerprint_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    created_at: datetime
    """When it began signing (for a key made before the keyring: when its file was written)."""
    retired_at: datetime | None = None
    """When it stopped signing; None while it signs."""
    retired_because: str | None = None
    """"rotated", or "lost" when its private key had been lost."""


@dataclass(frozen=True)
class KeyringKey:
    entry: KeyringEntry
    public_key: Ed25519PublicKey
    pem_path: Path


@dataclass(frozen=True)
class TrustedKey:
    """A public key verification trusts, and where it came from, in words."""

    public_key: Ed25519PublicKey
    fingerprint: str
    source: str


def keyring(settings: Settings) -> list[KeyringKey]:
    """Every key in the keyring, oldest first; SigningKeyError naming a file that is not a
    keyring file (a key the city trusts must not be skipped in silence)."""
    folder = settings.evidence_keyring_path
    if not folder.is_dir():
        return []
    keys = [_read_entry(path) for path in sorted(folder.glob("*.json"))]
    return sorted(keys, key=lambda key: (key.entry.created_at, key.entry.fingerprint_sha256))


def _read_entry(path: Path) -> KeyringKey:
    try:
        entry = KeyringEntry.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise SigningKeyError(f"cannot read the keyring file {path}: {exc.strerror}") from exc
    except ValidationError as exc:
        raise SigningKeyError(f"{path} is not a keyring entry: {exc.errors()[0]['msg']}") from exc
    pem_path = path.with_suffix(".pem")
    try:
        public_key = load_public_key(pem_path.read_bytes())
    except OSError as exc:
        raise SigningKeyError(
            f"cannot read the keyring's public key {pem_path}: {exc.strerror}"
        ) from exc
    except ValueError as exc:
        raise SigningKeyError(f"{pem_path} is {exc}") from exc
    if key_fingerprint(public_key) != entry.fingerprint_sha256 or path.stem != (
        entry.fingerprint_sha256
    ):
        raise SigningKeyError(
            f"{pem_path} does not hold the key its entry {path.name} names: the keyring was "
            "edited by hand"
        )
    return KeyringKey(entry, public_key, pem_path)


def trusted_keys(settings: Settings) -> list[TrustedKey]:
    """What ``safecity evidence verify`` trusts by default: every key in the keyring, the
    published keys named in the settings, and the signing key itself (a key made before the
    keyring existed may not be in it yet). Never creates anything."""
    found: dict[str, TrustedKey] = {}
    for key in keyring(settings):
        fingerprint = key.entry.fingerprint_sha256
        state = "retired" if key.entry.retired_at else "current"
        found[fingerprint] = TrustedKey(key.public_key, fingerprint, f"keyring ({state})")
    for path in settings.video.evidence_published_keys:
        try:
            public_key = load_public_key(path.read_bytes())
        except OSError as exc:
            raise SigningKeyError(
                f"cannot read the published key {path} (video.evidence_published_keys): "
                f"{exc.strerror}"
            ) from exc
        except ValueError as exc:
            raise SigningKeyError(
                f"the published key {path} (video.evidence_published_keys) is {exc}"
            ) from exc
        fingerprint = key_fingerprint(public_key)
        found.setdefault(fingerprint, TrustedKey(public_key, fingerprint, f"published: {path}"))
    signing = load_signing_key(settings.evidence_key_path)
    if signing is not None:
        public_key = signing.public_key()
        fingerprint = key_fingerprint(public_key)
        found.setdefault(fingerprint, TrustedKey(public_key, fingerprint, "the signing key"))
    return list(found.values())


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The key that signs now, recorded in the keyring (a key made before the keyring existed
    is added on first use); SigningKeyMissing when there is none, saying how to go on."""
    key = load_signing_key(settings.evidence_key_path)
    if key is None:
        raise SigningKeyMissing(_missing_message(settings, keyring(settings)))
    _ensure_recorded(settings, key)
    return key


def _missing_message(settings: Settings, keys: list[KeyringKey]) -> str:
    path = settings.evidence_key_path
    if not keys:
        return (
            f"there is no evidence signing key at {path}: make the first one with "
            "`safecity evidence key init`"
        )
    newest = keys[-1].entry
    return (
        f"the evidence signing key {path} is missing, but the keyring "
        f"{settings.evidence_keyring_path} shows that key {newest.fingerprint_sha256} signed "
        "here: restore the keys folder from the backup; only if the key is truly lost, "
        "`safecity evidence key rotate --lost` starts a new one (the lost key stays trusted)"
    )


def packages_on_record(session: Session) -> int:
    """How many packages this installation signed, by its export log."""
    return session.scalar(select(func.count()).select_from(EvidenceExport)) or 0


def may_make_first_key(settings: Settings, session: Session) -> str | None:
    """None when this installation never had a key (empty keyring, no package on record, no
    signing key); otherwise why a first key must not be made."""
    if load_signing_key(settings.evidence_key_path) is not None:
        return f"there already is an evidence signing key at {settings.evidence_key_path}"
    keys = keyring(settings)
    if keys:
        return _missing_message(settings, keys)
    count = packages_on_record(session)
    if count:
        return (
            f"the evidence signing key {settings.evidence_key_path} is missing, but {count} "
            "evidence package(s) were signed on this installation: restore the keys folder "
            "from the backup; only if the key is truly lost, `safecity evidence key rotate "
            "--lost` starts a new one"
        )
    return None


def make_first_key(settings: Settings) -> KeyringEntry:
    """Create the installation's first signing key and record it. Callers check
    :func:`may_make_first_key` first and audit the change."""
    key = create_signing_key(settings.evidence_key_path)
    return _ensure_recorded(settings, key)


def rotate(settings: Settings, *, lost: bool) -> tuple[KeyringEntry | None, KeyringEntry]:
    """Retire the signing key and start a new one: (the retired key's entry, the new one's).

    ``lost`` says the signing key is gone for good: the newest key in the keyring is retired
    as lost (its public key stays trusted). Without it a missing key is refused, and with it a
    present key is refused: each would be a mistake that loses or hides a key.
    """
    path = settings.evidence_key_path
    old = load_signing_key(path)
    old_entry: KeyringEntry | None
    if lost:
        if old is not None:
            raise SigningKeyError(
                f"the signing key {path} is there: rotate without --lost (it is not lost)"
            )
        current = [key for key in keyring(settings) if key.entry.retired_at is None]
        old_entry = current[-1].entry if current else None
    else:
        if old is None:
            raise SigningKeyMissing(_missing_message(settings, keyring(settings)))
        old_entry = _ensure_recorded(settings, old)
    new = Ed25519PrivateKey.generate()
    new_entry = _record(settings, new.public_key(), datetime.now(UTC).replace(microsecond=0))
    _replace_private_key(path, new)
    retired = None
    if old_entry is not None:
        retired = old_entry.model_copy(
            update={
                "retired_at": new_entry.created_at,
                "retired_because": "lost" if lost else "rotated",
            }
        )
        _write_entry(settings.evidence_keyring_path, retired)
    return retired, new_entry


def public_key_of(settings: Settings, fingerprint: str) -> Ed25519PublicKey | None:
    """The keyring's key with this fingerprint (or its unique prefix of 8+ characters)."""
    if len(fingerprint) < 8:
        return None
    matches = [
        key
        for key in keyring(settings)
        if key.entry.fingerprint_sha256.startswith(fingerprint.lower())
    ]
    return matches[0].public_key if len(matches) == 1 else None


def _ensure_recorded(settings: Settings, key: Ed25519PrivateKey) -> KeyringEntry:
    public_key = key.public_key()
    fingerprint = key_fingerprint(public_key)
    entry_path = settings.evidence_keyring_path / f"{fingerprint}.json"
    if entry_path.is_file():
        return _read_entry(entry_path).entry
    try:
        written = settings.evidence_key_path.stat().st_mtime
    except OSError:
        written = datetime.now(UTC).timestamp()
    return _record(settings, public_key, datetime.fromtimestamp(int(written), UTC))


def _record(settings: Settings, public_key: Ed25519PublicKey, created_at: datetime) -> KeyringEntry:
    folder = settings.evidence_keyring_path
    entry = KeyringEntry(fingerprint_sha256=key_fingerprint(public_key), created_at=created_at)
    _make_folder(folder)
    _write_atomically(folder / f"{entry.fingerprint_sha256}.pem", public_key_pem(public_key))
    _write_entry(folder, entry)
    return entry


def _write_entry(folder: Path, entry: KeyringEntry) -> None:
    text = json.dumps(entry.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"
    _write_atomically(folder / f"{entry.fingerprint_sha256}.json", text.encode())


def _make_folder(folder: Path) -> None:
    try:
        if not folder.is_dir():
            folder.mkdir(parents=True, mode=_PRIVATE_FOLDER)
            folder.chmod(_PRIVATE_FOLDER)  # mkdir's mode is cut by the umask
    except OSError as exc:
        raise SigningKeyError(
            f"cannot create the evidence keyring {folder}: {exc.strerror or exc}"
        ) from exc


def _replace_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    _make_folder(path.parent)
    _write_atomically(path, private_key_pem(key))


def _write_atomically(path: Path, data: bytes) -> None:
    """Write beside, flush to disk, then rename over: readers see the old file or the new."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _PRIVATE_FILE)
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), _PRIVATE_FILE)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise SigningKeyError(f"cannot write {path}: {exc.strerror or exc}") from exc


# --- in use -------------------------------------------------------------------------------------


def signing_key_for_export(
    session: Session, settings: Settings, *, actor: str, actor_id: int | None
) -> Ed25519PrivateKey:
    """The key to sign an export with. On an installation that never had one (empty keyring,
    no package on record) the first key is made now and audited in ``session``, to be
    committed with the export's legal hold; anywhere else a missing key is refused."""
    if load_signing_key(settings.evidence_key_path) is None:
        refusal = may_make_first_key(settings, session)
        if refusal is not None:
            raise SigningKeyMissing(refusal)
        entry = make_first_key(settings)
        audit(
            session,
            action="evidence.key_created",
            actor=actor,
            actor_id=actor_id,
            target=key_target(entry),
            details=key_details(entry, "the installation's first export"),
        )
    return signing_key(settings)


def key_target(entry: KeyringEntry) -> str:
    return f"evidence-key:{entry.fingerprint_sha256}"


def key_details(entry: KeyringEntry, why: str) -> dict[str, str | None]:
    """What the audit log keeps about a key change."""
    return {
        "fingerprint_sha256": entry.fingerprint_sha256,
        "created_at": entry.created_at.isoformat(),
        "retired_at": entry.retired_at.isoformat() if entry.retired_at else None,
        "why": why,
    }
