"""Work done on a background thread every so many seconds: the flushes, checks and passes of
SafeCity's long-running services.

One named daemon thread per job (the name shows in logs and thread dumps), a stop that is
prompt (the wait between runs ends at once; a run under way finishes), and a run that fails
is logged with its traceback and tried again at the next turn instead of ending the thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable


class PeriodicWork:
    """Calls ``work`` every ``every`` seconds on a thread named ``name``, from ``start()``
    until ``stop()``.

    ``every`` is a number of seconds, or a function giving the wait before each next run (a
    random one, say). The first run comes after ``first`` seconds (``every`` when not given;
    0 runs it at once). A run that raises is logged on ``log`` as ``"<failed>; trying again
    in N s"``; the work itself says what went wrong in users' words through ``failed``.
    """

    def __init__(
        self,
        name: str,
        work: Callable[[], object],
        *,
        every: float | Callable[[], float],
        log: logging.Logger,
        failed: str,
        first: float | None = None,
    ) -> None:
        self.name = name
        self._work = work
        self._every = every
        self._log = log
        self._failed = failed
        self._first = first
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        """Whether ``stop()`` was called: a long run checks it to end early."""
        return self._stopping.is_set()

    @property
    def started(self) -> bool:
        """Whether it was started and not stopped since."""
        return self._thread is not None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} is already running")
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop, waiting up to ``timeout`` seconds (for ever when None) for a run under way.
        False when it is still running after that; the thread is a daemon, left to finish.
        Harmless when not started."""
        self._stopping.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _next_wait(self) -> float:
        return self._every() if callable(self._every) else self._every

    def _run(self) -> None:
        wait = self._next_wait() if self._first is None else self._first
        while not self._stopping.wait(wait):
            wait = self._next_wait()
            try:
                self._work()
            except Exception:
                self._log.exception("%s; trying again in %.1f s", self._failed, wait)
