"""The media folder: its layout, and the one guard against a media disk that is not mounted.

``<media>/recordings/<camera>/<YYYY-MM-DD>/<HHMMSS-mmm>.mp4`` holds the video the segment
index describes, ``<media>/attachments/<incident>/`` the files attached to incidents,
``<media>/snapshots/<camera>/<YYYY-MM-DD>/`` the analytics events' best views;
``.safecity-media`` marks the folder as SafeCity's from its first use on, and
``.recording.lock`` is held by the one process recording into it.

A disk that is not mounted leaves its mount point behind: an empty folder on the system disk.
Recording into it would hide the archive; retention and recovery, reading every indexed file
as gone, would forget it. :func:`unmounted` says what makes a media folder look like such a
mount point. That alone proves nothing (a new install looks the same), so each caller refuses
only while the index lists recordings, and says in its own words what it did not do.
"""

from __future__ import annotations

import enum
from pathlib import Path

RECORDINGS_FOLDER = "recordings"
ATTACHMENTS_FOLDER = "attachments"
SNAPSHOTS_FOLDER = "snapshots"
MEDIA_MARKER = ".safecity-media"
LOCK_FILE = ".recording.lock"


class Sign(enum.Enum):
    """What a caller takes as the sign that the media disk is there."""

    MARKER = "marker"
    """The marker file, written when the folder is first used: checked at every segment a
    recorder starts and when a node starts (before it writes anything)."""
    RECORDINGS = "recordings"
    """Something in the recordings folder: what retention and recovery, which delete by what
    the index lists, look at."""


def recordings_folder(media_root: Path) -> Path:
    return media_root / RECORDINGS_FOLDER


def attachments_folder(media_root: Path) -> Path:
    return media_root / ATTACHMENTS_FOLDER


def mark(media_root: Path) -> None:
    """Mark the folder as SafeCity's media folder (at its first use)."""
    (media_root / MEDIA_MARKER).write_text(
        "SafeCity media folder: recordings/ holds the video the index describes.\n"
    )


def unmounted(media_root: Path, sign: Sign) -> str | None:
    """What makes ``media_root`` look like a mount point without its disk, as a phrase that
    names the folder or file (``"recordings folder /srv/media/recordings is empty"``), or None
    when the ``sign`` is there. Raises OSError when the folder cannot be read."""
    if not media_root.is_dir():
        return f"media folder {media_root} does not exist"
    if sign is Sign.MARKER:
        marker = media_root / MEDIA_MARKER
        return None if marker.exists() else f"no {MEDIA_MARKER} in {media_root}"
    recordings = recordings_folder(media_root)
    try:
        empty = next(recordings.iterdir(), None) is None
    except (FileNotFoundError, NotADirectoryError):
        return f"recordings folder {recordings} does not exist"
    return f"recordings folder {recordings} is empty" if empty else None
