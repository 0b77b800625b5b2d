"""Camera passwords at rest: a stream URL is stored as what anyone may see plus a sealed copy.

``cameras.main_stream_url`` holds the URL with its passwords hidden (``rtsp://admin:***@host/…``,
see ``without_password``), and ``main_stream_sealed`` the whole URL encrypted (Fernet: AES-128
in CBC mode with an HMAC) with a key kept in a file beside the data, never in the database; the
same for the sub stream. A database dump or backup therefore holds no camera password a thief
could use, while the registry, the API and the audit log still show every address.

The whole URL is sealed rather than its password alone, so that a password kept in the query
string (``?user=admin&password=…``, Hikvision/Dahua CGI) is kept as exactly as one in the
user-info part, and the URL comes back byte for byte.

Everything that opens a stream gets the URL from ``stream_url``, the one function that decrypts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from safecity.city.models import Camera
from safecity.city.stream_urls import HIDDEN, SECRET_KEY, without_password


class StreamCredentialsError(Exception):
    """Camera credentials cannot be stored or read; the message says why and what to do."""


class CredentialKeyError(StreamCredentialsError):
    """The key file is missing where credentials were sealed with it, or cannot be used."""


class SealedUrlError(StreamCredentialsError):
    """One camera's sealed URL cannot be opened with the key, or no longer fits its address."""


class HiddenPasswordError(StreamCredentialsError, ValueError):
    """A URL whose password is the mask ``***`` for an address SafeCity does not hold."""


@dataclass(frozen=True)
class StoredStream:
    """A stream URL as the cameras table keeps it: ``shown`` in ``*_stream_url``, ``sealed``
    (the whole URL, encrypted; None when it carries no password) in ``*_stream_sealed``."""

    shown: str
    sealed: str | None = None


class CredentialKeyring:
    """The key file, read on first use and kept for the life of this object."""

    def __init__(self, path: Path) -> None:
        self.path = path.absolute()  # messages name the file wherever it was given from
        self._fernet: Fernet | None = None

    def for_reading(self) -> Fernet:
        """The key, never created: a new key could not open what an old one sealed."""
        if self._fernet is None:
            self._fernet = self._load() or self._missing()
        return self._fernet

    def for_sealing(self, session: Session) -> Fernet:
        """The key, created (0600, in a 0700 folder) when no camera has sealed credentials yet;
        with sealed credentials and no key file, CredentialKeyError."""
        if self._fernet is None:
            fernet = self._load()
            if fernet is None:
                fernet = self._missing() if any_sealed(session) else self._create()
            self._fernet = fernet
        return self._fernet

    def _missing(self) -> Fernet:
        raise CredentialKeyError(
            f"the stream credentials key {self.path} is missing, but camera passwords are "
            "stored encrypted with it: restore the key file from its backup (a new key cannot "
            "decrypt them), or set video.stream_credentials_key to where it is"
        )

    def _load(self) -> Fernet | None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CredentialKeyError(
                f"cannot read the stream credentials key {self.path}: {exc.strerror or exc}"
            ) from exc
        try:
            return Fernet(data.strip())
        except ValueError as exc:
            raise CredentialKeyError(
                f"{self.path} is not a stream credentials key (expected a Fernet key: 32 bytes, "
                "URL-safe base64)"
            ) from exc

    def _create(self) -> Fernet:
        """Two processes creating the key at once end up with the same one: the file appears
        atomically and the loser reads the winner's."""
        key = Fernet.generate_key()
        folder = self.path.parent
        try:
            if not folder.exists():
                folder.mkdir(parents=True)
                folder.chmod(0o700)  # mkdir's mode would be cut by the umask
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.new")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(descriptor, "wb") as file:
                    os.fchmod(file.fileno(), 0o600)
                    file.write(key + b"\n")
                    file.flush()
                    os.fsync(file.fileno())
                os.link(temporary, self.path)
            except FileExistsError:
                return self._load() or self._missing()
            finally:
                temporary.unlink(missing_ok=True)
        except OSError as exc:
            raise CredentialKeyError(
                f"cannot create the stream credentials key {self.path}: {exc.strerror or exc}"
            ) from exc
        return Fernet(key)


def any_sealed(session: Session) -> bool:
    """Whether some camera has credentials sealed with the key."""
    return (
        session.scalar(
            select(Camera.id)
            .where(
                or_(Camera.main_stream_sealed.is_not(None), Camera.sub_stream_sealed.is_not(None))
            )
            .limit(1)
        )
        is not None
    )


def _hides_a_password(url: str) -> bool:
    """Whether the URL has a password that is the mask itself, as the API and exports show it."""
    parts = urlsplit(url)
    return parts.password == HIDDEN or any(
        SECRET_KEY.search(key) and value == HIDDEN
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    )


def seal(
    url: str, keyring: CredentialKeyring, session: Session, current: StoredStream | None = None
) -> StoredStream:
    """How to store ``url`` (already checked with ``registry.checking.url_problem``) for a camera
    whose stream is ``current`` now.

    The URL exactly as shown (its password masked, as an export without credentials writes
    it) keeps the stored credentials: such a file imports back unchanged. A URL with a real
    password is sealed; one without any is stored as it is, so giving a URL without a
    password removes the stored one.
    """
    shown = without_password(url)
    if current is not None and url == current.shown == shown:
        return current
    if shown == url:
        if _hides_a_password(url):
            raise HiddenPasswordError(
                f"{url!r} has its password hidden as {HIDDEN}, and this camera's stored "
                "address is another: give the real password"
            )
        return StoredStream(url)
    if (
        current is not None
        and current.sealed is not None
        and current.shown == shown
        and stream_url(current, keyring) == url
    ):
        return current  # Fernet tokens differ each time: re-sealing would show as a change
    token = keyring.for_sealing(session).encrypt(url.encode())
    return StoredStream(shown, token.decode("ascii"))


def stream_url(stream: StoredStream, keyring: CredentialKeyring) -> str:
    """The whole URL, passwords included, to open the stream with: the one place that decrypts.

    A sealed URL that does not fit the shown address (someone changed one column outside
    SafeCity) is refused rather than used: which of the two is meant cannot be told.
    """
    if stream.sealed is None:
        return stream.shown
    try:
        url = keyring.for_reading().decrypt(stream.sealed.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise SealedUrlError(
            f"the credentials of {stream.shown!r} cannot be decrypted with the key "
            f"{keyring.path}: it is not the key they were sealed with (restore that one), or "
            "they were damaged (enter the URL again)"
        ) from exc
    if without_password(url) != stream.shown:
        raise SealedUrlError(
            f"the sealed credentials do not belong to the address {stream.shown!r} (was it "
            "changed outside SafeCity?): enter the URL again"
        )
    return url


def seal_stored_credentials(session: Session, keyring: CredentialKeyring) -> int:
    """Seal every stream URL still stored with its password in clear (written before revision
    0012, or straight into the database); returns how many URLs were sealed.

    The migration cannot do it, as the key is kept away from the database on purpose;
    ``safecity db upgrade`` runs this right after migrating.
    """
    sealed = 0
    rows = session.execute(
        select(
            Camera.id,
            Camera.main_stream_url,
            Camera.main_stream_sealed,
            Camera.sub_stream_url,
            Camera.sub_stream_sealed,
        )
    ).all()
    for camera_id, main, main_sealed, sub, sub_sealed in rows:
        values: dict[str, str] = {}
        for field, url, token in (("main", main, main_sealed), ("sub", sub, sub_sealed)):
            if url is not None and token is None and without_password(url) != url:
                stored = seal(url, keyring, session)
                assert stored.sealed is not None
                values[f"{field}_stream_url"] = stored.shown
                values[f"{field}_stream_sealed"] = stored.sealed
                sealed += 1
        if values:
            session.execute(update(Camera).where(Camera.id == camera_id).values(**values))
    return sealed
