"""A webhook receiver on a loopback address for tests: records each POST, answers scripted
statuses."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    """Answers the scripted statuses in order, then 200."""

    answers: list[int] = field(default_factory=list)
    requests: list[tuple[Message, bytes]] = field(default_factory=list)
    """Headers (looked up regardless of case, as HTTP does) and body of each POST."""
    url: str = ""


@contextmanager
def webhook_receiver(host: str = "127.0.0.1") -> Iterator[Receiver]:
    """A receiver on ``host`` (an IPv4 or IPv6 address) and a free port."""
    received = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.requests.append((self.headers, body))
            status = received.answers.pop(0) if received.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    ipv6 = ":" in host
    server_class = _Ipv6Server if ipv6 else ThreadingHTTPServer
    server = server_class((host, 0), Handler)
    netloc = f"[{host}]" if ipv6 else host
    received.url = f"http://{netloc}:{server.server_address[1]}/safecity"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received
    finally:
        server.shutdown()
        server.server_close()


class _Ipv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6
