"""A Server-Sent Events reader for tests: parses frames on a thread into a queue."""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class ServerEvent:
    event: str
    data: str
    id: str | None
    received_at: float
    """time.perf_counter() when the frame was complete."""

    def json(self) -> Any:
        return json.loads(self.data)


class EventStream:
    """Reads ``url`` as an event stream until closed. ``next()`` waits for the next event.

    Plain ``http.client`` so that ``close()`` can shut the socket down under a blocked read
    (an HTTP client library would wait for the next keepalive to notice)."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        cookies: dict[str, str] | None = None,
        last_event_id: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        headers = {"Accept": "text/event-stream"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.events: queue.Queue[ServerEvent | None] = queue.Queue()
        self._connection = http.client.HTTPConnection(parts.netloc, timeout=10)
        self._connection.request(
            "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers
        )
        self._response = self._connection.getresponse()
        self.status = self._response.status
        self._connection.sock.settimeout(None)
        self._closed = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        data: list[str] = []
        try:
            for raw in self._response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if data:  # as browsers do: a frame without data is not an event
                        self.events.put(
                            ServerEvent(
                                fields.get("event", "message"),
                                "\n".join(data),
                                fields.get("id"),
                                time.perf_counter(),
                            )
                        )
                    fields, data = {}, []
                elif line.startswith(":"):
                    continue
                else:
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if name == "data":
                        data.append(value)
                    else:
                        fields[name] = value
        except (OSError, ValueError, http.client.HTTPException):
            if not self._closed:
                raise
        finally:
            self.events.put(None)

    def next(self, timeout: float = 10) -> ServerEvent:
        item = self.events.get(timeout=timeout)
        if item is None:
            raise EOFError("the event stream ended")
        return item

    def next_of(self, event: str, timeout: float = 10) -> ServerEvent:
        """The next event named ``event``, skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.next(max(0.01, deadline - time.monotonic()))
            if found.event == event:
                return found

    def close(self) -> None:
        self._closed = True
        sock = self._connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        self._connection.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
