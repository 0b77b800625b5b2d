"""One place that wires a SafeCity process: the bus, the camera health recorder, the OCC's
background services (the first of which publishes the domain events of every committed alert
and incident change), the analytics, the video node (which hands the analytics each camera's
picture) and the web app, started in that order and stopped in the reverse order whatever happens, and the web
server's settings that go with them.

`safecity serve` and `safecity demo` both run through it, so a service added here runs in
both; the scale-out worker (issue 15) will take the same path without the web app.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from types import FrameType

import uvicorn
from fastapi import FastAPI

from safecity.analytics.node import AnalyticsNode
from safecity.api.app import create_app
from safecity.api.system import NodeHealth
from safecity.bus import InProcessBus
from safecity.ops.services import OpsServices
from safecity.settings import Settings
from safecity.store.engine import Database
from safecity.video.ingest.health import CameraHealthRecorder
from safecity.video.node import VideoNode


@dataclass(frozen=True)
class RunningProcess:
    bus: InProcessBus
    node: VideoNode
    app: FastAPI


@dataclass(frozen=True)
class Problems:
    """What keeps the process from doing its work, from each part that can say (``/api/health``)."""

    parts: list[NodeHealth]

    def health_problems(self) -> list[str]:
        return [problem for part in self.parts for problem in part.health_problems()]


@contextmanager
def running_process(settings: Settings, database: Database) -> Iterator[RunningProcess]:
    """The services started; stopped on leaving. A ``VideoNodeError`` from the node's start
    (a camera set that names no camera, a media folder that cannot be used) propagates after
    what had started is stopped again."""
    with ExitStack() as started:
        bus = InProcessBus()
        started.callback(bus.close)
        health = CameraHealthRecorder(bus, database)
        health.start()
        started.callback(health.stop)
        ops = OpsServices(settings, database, bus)
        ops.start()
        started.callback(ops.stop)
        analytics = AnalyticsNode(settings, database, bus)
        analytics.start()
        started.callback(analytics.stop)
        node = VideoNode(settings, database, bus, watchers=[analytics])
        node.start()
        started.callback(node.stop)
        app = create_app(
            settings, database, node, live=node, bus=bus, node_health=Problems([node, analytics])
        )
        yield RunningProcess(bus, node, app)


@contextmanager
def stopped_by_sigterm() -> Iterator[None]:
    """SIGTERM (systemd's stop, `kill`) ends the process as Ctrl-C does: a KeyboardInterrupt in
    the main thread, so that everything started is stopped in order (recorders close their
    segments) instead of the process dying where it stands."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class CannotListen(RuntimeError):
    """The address is taken or not ours; the message names it and why."""


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind and listen before the app starts: a taken port fails at once, with a clear message,
    and browsers that connect during start-up wait in the backlog instead of being refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        raise CannotListen(f"cannot listen on {host}:{port} ({exc.strerror})") from exc


def serve_forever(app: FastAPI, listener: socket.socket, *, graceful_seconds: int) -> None:
    """Serve until a signal. uvicorn shuts down gracefully (open streams get
    ``graceful_seconds``), then re-raises the signal (KeyboardInterrupt for SIGINT)."""
    config = uvicorn.Config(
        app,
        # uvicorn's loggers go through SafeCity's handler, format and level (safecity/logs.py).
        log_config=None,
        # Never believe X-Forwarded-For here (uvicorn would, from $FORWARDED_ALLOW_IPS or
        # the local host): the app does, from api.trusted_proxies only (create_app).
        proxy_headers=False,
        # Live feeds and video streams never end on their own: give them a while, then cut.
        timeout_graceful_shutdown=graceful_seconds,
        ws_per_message_deflate=False,  # live video does not compress; don't spend CPU on it
    )
    uvicorn.Server(config).run(sockets=[listener])
