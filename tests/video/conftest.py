"""Fixtures for tests on real RTSP streams: a local GStreamer RTSP server (tests/support/rtsp.py).

The server needs the system interpreter with python3-gi and GStreamer's RTSP server (Debian
packages that scripts/test installs). Without them these tests are skipped with the reason,
except under CI=true, where a missing server fails the run instead of hiding it.

`rtsp_server` is one server for the whole run, serving DEFAULT_MOUNTS (LIVE, CLOCK, SECURE):
read from it freely, but never stop, restart or pause it. Tests that do use
`private_rtsp_server`, or `make_rtsp_server` for mounts of their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from tests.support.rtsp import (
    DEFAULT_MOUNTS,
    Mount,
    RtspServer,
    RtspServerFactory,
    gst_rtsp_unavailable,
)

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def _gst_rtsp_server_available() -> None:
    """Checked once per run; a skip (a failure under CI=true) when the server cannot run."""
    reason = gst_rtsp_unavailable()
    if reason:
        if IN_CI:
            pytest.fail(f"CI=true requires the GStreamer RTSP server. {reason}")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_rtsp_server(
    _gst_rtsp_server_available: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RtspServer]:
    # An idle mount costs nothing: its encoder runs only while somebody reads it.
    log_path = tmp_path_factory.mktemp("rtsp") / "rtsp-server.log"
    with RtspServer(DEFAULT_MOUNTS, log_path=log_path) as server:
        yield server


@pytest.fixture
def rtsp_server(shared_rtsp_server: RtspServer) -> Iterator[RtspServer]:
    """The run's shared server, serving DEFAULT_MOUNTS. Read only: see the module docstring.

    A test that stops or pauses it anyway errors here, and the server is brought back, so
    the mistake shows up in that test rather than as timeouts in whichever test runs next.
    """
    server = shared_rtsp_server
    yield server
    if server.running and not server.paused:
        return
    if server.paused:
        server.resume()
    else:
        server.restart()
    pytest.fail("a test stopped or paused the shared rtsp_server: use private_rtsp_server")


@pytest.fixture
def make_rtsp_server(
    _gst_rtsp_server_available: None, tmp_path: Path
) -> Iterator[RtspServerFactory]:
    """Starts servers of the test's own (any mounts), all stopped when the test ends."""
    servers: list[RtspServer] = []

    def make(mounts: Iterable[Mount] = DEFAULT_MOUNTS, *, port: int = 0) -> RtspServer:
        server = RtspServer(
            mounts, port=port, log_path=tmp_path / f"rtsp-server-{len(servers)}.log"
        )
        servers.append(server)
        server.start()
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def private_rtsp_server(make_rtsp_server: RtspServerFactory) -> RtspServer:
    """A server of the test's own, serving DEFAULT_MOUNTS: free to stop, restart, pause."""
    return make_rtsp_server()
