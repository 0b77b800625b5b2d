"""A local RTSP server for tests, driven from the venv.

The server itself is tests/support/rtsp_server.py, run as a subprocess of the system
interpreter (/usr/bin/python3): GStreamer's RTSP server is reachable only through the Debian
package python3-gi, which the venv cannot import. This module starts and stops that process,
waits for it to listen, and turns its failures into errors that carry its log.

Killing the process is the test double for a camera or network that dies mid-stream: every
reader's connection closes at once. Stopping it with SIGSTOP is the double for a stream that
stalls: connections stay open, nothing arrives. `restart()` brings the same mounts back on
the same port, as a camera coming back after a reboot.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Literal, Protocol
from urllib.parse import quote

SYSTEM_PYTHON = Path("/usr/bin/python3")
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")

# Exit statuses of rtsp_server.py (kept in step with the constants there).
EXIT_CANNOT_LISTEN = 3
EXIT_MISSING_GSTREAMER = 4

# What `--check` needs, in Debian package names, for the skip/fail message.
DEBIAN_PACKAGES = (
    "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp gstreamer1.0-plugins-base "
    "gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-x"
)
LOG_TAIL_LINES = 40


@dataclass(frozen=True)
class Mount:
    """One stream the server serves: a live x264-encoded test pattern.

    bitrate is in kbit/s; gop is the keyframe interval in frames, exact (no scene-cut
    keyframes); overlay burns in the stream's running time ("time") or the wall clock
    ("clock"); user and password, given together, make the mount answer 401 to anyone else.
    launch, for the odd test that needs it, replaces the whole GStreamer launch line (it must
    end in an RTP payloader named pay0). Keep streams small: the test machines have 2 cores
    and each mount being read costs one x264 encoder.
    """

    path: str
    width: int = 320
    height: int = 180
    fps: int = 15
    gop: int = 15
    bitrate: int = 300
    pattern: str = "ball"
    overlay: Literal["time", "clock"] | None = None
    user: str | None = None
    password: str | None = None
    launch: str | None = None

    def to_json(self) -> str:
        """The mount as rtsp_server.py takes it on its command line."""
        return json.dumps({key: value for key, value in asdict(self).items() if value is not None})


# The mounts of the shared `rtsp_server` fixture. One-second GOPs keep keyframe tests short.
LIVE = Mount("/live", width=320, height=180, fps=15, gop=15, bitrate=300)
CLOCK = Mount("/clock", width=640, height=360, fps=25, gop=25, bitrate=800, overlay="clock")
SECURE = Mount("/secure", width=320, height=180, fps=15, gop=15, user="viewer", password="s3cret")
DEFAULT_MOUNTS = (LIVE, CLOCK, SECURE)


class RtspServerError(RuntimeError):
    """The server did not start (or stop) as asked; the message carries the end of its log."""


def gst_rtsp_unavailable(python: Path = SYSTEM_PYTHON) -> str | None:
    """Why the server cannot run here, or None when it can.

    Runs the server script's own `--check`, so the answer covers exactly what it needs:
    python3-gi, the GstRtspServer typelib and the GStreamer elements of its launch lines.
    """
    try:
        result = subprocess.run(
            [str(python), "-I", str(SERVER_SCRIPT), "--check"],
            capture_output=True,
            text=True,
            timeout=60,  # a first GStreamer run on a fresh machine builds its plugin registry
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run {python}: {exc}; install the Debian packages {DEBIAN_PACKAGES}"
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        return (
            f"GStreamer RTSP server unavailable under {python}: "
            f"{detail[-1] if detail else f'exit status {result.returncode}'}; "
            f"install the Debian packages {DEBIAN_PACKAGES}"
        )
    return None


class RtspServer:
    """A running (or stopped) rtsp_server.py process serving `mounts` on `host`:`port`.

    port=0 lets the kernel pick a free port at the first start; `port` then tells which, and
    every restart reuses it so URLs handed out stay valid. The server's stderr (GStreamer
    warnings included) is appended to `log_path` across restarts.
    """

    def __init__(
        self,
        mounts: Iterable[Mount] = DEFAULT_MOUNTS,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_path: Path | None = None,
        ready_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        python: Path = SYSTEM_PYTHON,
        gst_debug: str | None = None,
    ) -> None:
        self.mounts: dict[str, Mount] = {mount.path: mount for mount in mounts}
        self.host = host
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.python = python
        # 2 = errors and warnings: enough to see why a mount answers 503 at DESCRIBE.
        self.gst_debug = gst_debug or os.environ.get("GST_DEBUG") or "2"
        self._port = port
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._paused = False

    # -- state ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The TCP port: the one asked for, or the one the kernel picked at the first start."""
        return self._port

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """True while the process lives (paused included)."""
        return self._process is not None and self._process.poll() is None

    @property
    def paused(self) -> bool:
        return self._paused

    def url(self, mount: Mount | str, user: str | None = None, password: str | None = None) -> str:
        """The rtsp:// URL of a mount (a Mount or its path), with credentials when given."""
        path = mount.path if isinstance(mount, Mount) else mount
        if not path.startswith("/"):
            path = f"/{path}"
        if not self._port:
            raise RtspServerError("the server has no port yet: start() it first")
        userinfo = ""
        if user is not None:
            userinfo = quote(user, safe="")
            if password is not None:
                userinfo += ":" + quote(password, safe="")
            userinfo += "@"
        return f"rtsp://{userinfo}{self.host}:{self._port}{path}"

    def log(self) -> str:
        """Everything the server wrote on stderr so far."""
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used (Linux /proc), for budgets."""
        if self.pid is None:
            raise RtspServerError("the server is not running")
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the server and return once it listens; RtspServerError if it does not.

        A restart on a fixed port retries while the old process's port is still held.
        """
        if self.running:
            raise RtspServerError(f"already running (pid {self.pid})")
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="rtsp-server-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.ready_timeout
        while True:
            status = self._spawn_and_wait(deadline)
            if status is None:
                return
            if status == EXIT_CANNOT_LISTEN and self._port and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            raise RtspServerError(
                f"the RTSP server exited with status {status} before it was ready "
                f"(port {self._port}){self._log_tail()}"
            )

    def stop(self, *, graceful: bool = False) -> None:
        """Stop the server; a no-op when it is not running.

        By default it is killed (SIGKILL): every stream is cut mid-way, as when a camera loses
        power. graceful=True sends SIGTERM and lets it exit (killing it after stop_timeout).
        """
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                if graceful:
                    process.terminate()
                    if self._paused:  # a stopped process only acts on SIGTERM once continued
                        os.kill(process.pid, signal.SIGCONT)
                    try:
                        process.wait(timeout=self.stop_timeout)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
                else:
                    process.kill()
                    process.wait()
            if process.stdout is not None:
                process.stdout.close()
        self._paused = False
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self, *, graceful: bool = False) -> None:
        """Stop (kill, unless graceful) and start again with the same mounts and port."""
        self.stop(graceful=graceful)
        self.start()

    def pause(self) -> None:
        """Freeze the server (SIGSTOP): connections stay open but no byte moves, a stall."""
        process = self._require_running()
        os.kill(process.pid, signal.SIGSTOP)
        self._paused = True
        self._await_state(process.pid, stopped=True)

    def resume(self) -> None:
        """Unfreeze a paused server (SIGCONT); it carries on with the same sessions."""
        process = self._require_running()
        os.kill(process.pid, signal.SIGCONT)
        self._paused = False
        self._await_state(process.pid, stopped=False)

    def __enter__(self) -> RtspServer:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop(graceful=True)

    def __repr__(self) -> str:
        state = "paused" if self._paused else "running" if self.running else "stopped"
        return f"<RtspServer {self.host}:{self._port} {sorted(self.mounts)} {state}>"

    # -- internals -----------------------------------------------------------------------

    def _command(self) -> list[str]:
        command = [str(self.python), "-I", str(SERVER_SCRIPT)]
        command += ["--address", self.host, "--port", str(self._port)]
        for mount in self.mounts.values():
            command += ["--mount", mount.to_json()]
        return command

    def _spawn_and_wait(self, deadline: float) -> int | None:
        """Spawn one server process; None once it is READY, else its exit status."""
        assert self.log_path is not None
        log = self.log_path.open("ab")
        log.write(f"--- rtsp_server starting on {self.host}:{self._port}\n".encode())
        log.flush()
        env = dict(os.environ, GST_DEBUG=self.gst_debug, GST_DEBUG_NO_COLOR="1")
        process = subprocess.Popen(
            self._command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            # Its own session: a Ctrl-C meant for pytest does not race the fixture's teardown.
            start_new_session=True,
        )
        self._process, self._log, self._paused = process, log, False
        try:
            port = self._await_ready(process, deadline)
        except BaseException:
            self.stop()
            raise
        if port is None:
            status = process.wait()
            self.stop()
            return status
        self._port = port
        return None

    def _await_ready(self, process: subprocess.Popen[bytes], deadline: float) -> int | None:
        """The port from the READY line, or None when the process exits first."""
        assert process.stdout is not None
        fd = process.stdout.fileno()
        pending = b""
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise RtspServerError(
                        f"the RTSP server was not ready within {self.ready_timeout:.0f} s"
                        f"{self._log_tail()}"
                    )
                if not selector.select(timeout=min(remaining, 0.5)):
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:
                    return None
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if line.startswith(b"READY port="):
                        return int(line.removeprefix(b"READY port=").strip())

    def _require_running(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            raise RtspServerError("the server is not running")
        return self._process

    def _await_state(self, pid: int, *, stopped: bool) -> None:
        """Wait until the kernel shows the process (not) stopped, so a test's next step
        does not race the signal."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{pid}/stat").read_text()
                if (stat[stat.rindex(")") + 2] in "tT") == stopped:
                    return
            time.sleep(0.01)
        raise RtspServerError(f"pid {pid} did not {'stop' if stopped else 'continue'} in 5 s")

    def _log_tail(self) -> str:
        lines = self.log().splitlines()[-LOG_TAIL_LINES:]
        if not lines:
            return f"; its log {self.log_path} is empty"
        return f"; the end of its log {self.log_path}:\n" + "\n".join(lines)


class RtspServerFactory(Protocol):
    """The `make_rtsp_server` fixture: starts a server of the test's own, stopped at its end."""

    def __call__(
        self, mounts: Iterable[Mount] = DEFAULT_MOUNTS, *, port: int = 0
    ) -> RtspServer: ...
