"""Copying files into and out of a backup: hashed as they go, private (folders 0700, files
0600), hidden files and symbolic links left out."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

_CHUNK = 1024 * 1024
PRIVATE_FOLDER, PRIVATE_FILE = 0o700, 0o600

Progress = Callable[[str, int], None]
"""Told what is being done (a file's path in the backup) and how many bytes were done."""


def walk(root: Path) -> Iterator[Path]:
    """Files under ``root``, sorted, hidden ones and symbolic links left out."""
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if not name.startswith(".") and not path.is_symlink():
                yield path


def copy_stream(
    reader: IO[bytes], writer: IO[bytes] | None, step: Callable[[int], None]
) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := reader.read(_CHUNK):
        digest.update(chunk)
        if writer is not None:
            writer.write(chunk)
        size += len(chunk)
        step(len(chunk))
    return size, digest.hexdigest()


def make_private(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
    folder.chmod(PRIVATE_FOLDER)  # mkdir's mode is cut by the umask


def make_private_parents(target: Path, root: Path) -> None:
    missing = []
    folder = target.parent
    while not folder.exists() and folder != root:
        missing.append(folder)
        folder = folder.parent
    for each in reversed(missing):
        make_private(each)


def create_private(path: Path) -> IO[bytes]:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        os.fchmod(descriptor, PRIVATE_FILE)
    except BaseException:
        os.close(descriptor)
        raise
    return os.fdopen(descriptor, "wb")


def write_private(path: Path, data: bytes) -> None:
    with create_private(path) as file:
        file.write(data)


def progress_step(progress: Progress, path: str) -> Callable[[int], None]:
    return lambda done: progress(path, done)
