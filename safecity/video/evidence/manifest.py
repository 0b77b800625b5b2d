"""What an evidence package holds and says about itself: its files, its manifest, its README.

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

Only the manifest is signed; every other file is bound to it by its SHA-256. Pure: writing a
package is ``safecity.video.evidence.export``, checking one ``safecity.video.evidence.verify``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, tzinfo
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

FORMAT = "safecity-evidence/1"
CLIP_FILE = "clip.mp4"
MANIFEST_FILE = "manifest.json"
SIGNATURE_FILE = "manifest.sig"
PUBLIC_KEY_FILE = "public-key.pem"
README_FILE = "README.txt"


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
