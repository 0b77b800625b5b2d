"""Who may read what SafeCity writes: its own user and its group, never the other users of the
machine. Recordings, incident attachments, evidence and the database are a city's surveillance
archive; the group is kept so that an operator can let a backup group read it.

Files come out 0640 and folders 0750 through the process umask, which the `safecity` command
sets before any command runs (``restrict_umask``): one rule for every file any part of SafeCity
or its libraries (FFmpeg, SQLite) creates. Where SafeCity is used as a library, say the tests
making the app in their own process, the umask is the caller's; so the folders SafeCity makes
are made 0750 themselves (``make_folders``), the SQLite file 0640 (``safecity.store.engine``),
and whatever is written inside is out of others' reach whatever the umask. The evidence key is
0600 in a 0700 folder, and evidence packages 0600 and 0700 (``safecity.video.evidence.export``).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_UMASK = 0o027
"""No bits for others, no writing for the group: files 0640, folders 0750."""
FOLDER_MODE = 0o750
FILE_MODE = 0o640
_OTHERS = 0o007


def restrict_umask() -> None:
    """From now on this process creates nothing others may use; a stricter umask that the
    operator chose (077, say) is kept."""
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)


def make_folders(path: Path) -> None:
    """``mkdir -p``, each new folder 0750 (less what the umask takes; ``Path.mkdir`` would
    make the parents 0777 less the umask). Folders that exist are left as they are: they may
    be the operator's, such as the working folder."""
    if path.is_dir():
        return
    if path.parent != path:
        make_folders(path.parent)
    try:
        path.mkdir(mode=FOLDER_MODE)
    except FileExistsError:
        if not path.is_dir():
            raise


def tighten(*paths: Path) -> None:
    """Take away the others' bits of each path that exists (the group's stay), saying so: a
    data folder made before SafeCity kept its files private, or opened by hand. Not into the
    folders: once a folder is closed, nothing in it can be reached, and an archive holds
    millions of files."""
    for path in paths:
        try:
            current = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            continue
        if not current & _OTHERS:
            continue
        private = current & ~_OTHERS
        try:
            path.chmod(private)
        except OSError as exc:
            log.warning(
                "cannot tighten %s (%04o: other users of this machine may read it): %s",
                path,
                current,
                exc.strerror,
            )
            continue
        log.warning(
            "tightened %s from %04o to %04o: other users of this machine could read it",
            path,
            current,
            private,
        )


def create_private_file(path: Path) -> None:
    """Create ``path`` empty as 0640 (less what the umask takes) in folders made by
    ``make_folders``; if it exists, ``tighten`` it."""
    make_folders(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        tighten(path)


def write_replacing(path: Path, content: bytes, *, private: bool = False) -> None:
    """Write through a temporary file, so that a reader never sees half a file and a failed
    write leaves the old one; ``private``: for the owner alone (0600), whatever the umask."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        mode = 0o600 if private else 0o666
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        if private:
            os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(content)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
