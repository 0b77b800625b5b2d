"""Copying a span of one open file onto the end of another, in the kernel when it can."""

from __future__ import annotations

import errno
import os

from safecity.video.mp4.boxes import Fmp4Error

_COPY_CHUNK = 64 << 20
"""Most bytes asked of one copy system call (a ~1 MB fragment takes one call)."""


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


_NO_KERNEL_COPY = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EBADF}
)
"""Errors with which ``copy_file_range``/``sendfile`` say "not here": fall back, don't fail."""


def copy_range(source: int, out: int, offset: int, count: int, where: str) -> None:
    """Append ``count`` bytes of ``source`` from ``offset`` to ``out``, in the kernel if it can."""
    while count > 0:
        done = _copy_some(source, out, offset, min(count, _COPY_CHUNK))
        if done == 0:
            raise ended_early(where, offset + count)
        offset, count = offset + done, count - done


def ended_early(where: str, end: int) -> Fmp4Error:
    return Fmp4Error(where, f"ends before byte {end} (changed since read_layout?)")


def _copy_some(source: int, out: int, offset: int, count: int) -> int:
    """``copy_file_range`` (no user-space copy; a reflink on some file systems), else
    ``sendfile``, else ``pread`` + ``write``."""
    if hasattr(os, "copy_file_range"):
        try:
            return os.copy_file_range(source, out, count, offset)
        except OSError as error:
            if error.errno not in _NO_KERNEL_COPY:
                raise
    try:
        return os.sendfile(out, source, offset, count)
    except OSError as error:
        if error.errno not in _NO_KERNEL_COPY:
            raise
    data = os.pread(source, min(count, 8 << 20), offset)
    write_all(out, data)
    return len(data)
