"""The two ways a notice reaches a police unit: an MQTT publish and a signed webhook POST.

Each ``deliver`` returns when the receiver has the notice (PUBACK, or a 2xx answer) and raises
``DeliveryFailed`` otherwise, saying whether trying again may help. Each has one overall
deadline, ``timeout`` seconds (the name lookup excepted): a receiver that answers slowly, or
drips its answer a byte at a time, is cut off at it. Error texts are plain words for the
admin's list of stuck deliveries: they never carry a secret or a password.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
import urllib.parse
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from safecity import __version__
from safecity.ops.alerts.inbound import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from safecity.settings import MqttNotificationSettings

DELIVERY_HEADER = "X-SafeCity-Delivery"


class DeliveryFailed(Exception):
    """One attempt did not deliver. ``retry``: a later attempt may succeed."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def judge_status(status: int) -> DeliveryFailed | None:
    """None when an HTTP answer means delivered (2xx); otherwise the failure it means.

    A 4xx says the receiver will never take this request (except 408 and 429, which say "not
    now"); anything else (3xx, 5xx) may pass later.
    """
    if 200 <= status < 300:
        return None
    words = http.client.responses.get(status, "")
    message = f"the receiver answered {status} {words}".rstrip()
    if 400 <= status < 500 and status not in (408, 429):
        return DeliveryFailed(message, retry=False)
    return DeliveryFailed(message, retry=True)


class _Cutoff:
    """The overall deadline of one request. At the deadline it shuts the connection's socket
    down, which ends at once a read or write blocked on it, however the receiver drips its
    bytes; a per-read socket timeout alone would let it hold the request for ever."""

    def __init__(self, seconds: float) -> None:
        self._deadline = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._handle: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def connect(
        self,
        address: tuple[str, int],
        timeout: float | None = None,
        source_address: tuple[str, int] | None = None,
    ) -> socket.socket:
        """``socket.create_connection`` within what is left of the deadline; the socket is
        watched from then on (a duplicate of its descriptor, which stays valid when TLS wraps
        the socket)."""
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("past the deadline")
        sock = socket.create_connection(address, left, source_address)
        with self._lock:
            if self.expired:
                sock.close()
                raise TimeoutError("past the deadline")
            self._handle = sock.dup()
        return sock

    def close(self) -> None:
        self._timer.cancel()
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._handle is not None:
                with contextlib.suppress(OSError):  # closed meanwhile
                    self._handle.shutdown(socket.SHUT_RDWR)


class WebhookChannel:
    """POSTs a signed notice with ``http.client``: connecting, sending and reading the status
    line and headers of the answer all within ``timeout`` seconds. Redirects are answered as
    they are (3xx: try again later), never followed: the signed notice goes only to the
    configured address."""

    def __init__(self, *, timeout: float) -> None:
        self._timeout = timeout
        self._tls = ssl.create_default_context()

    def deliver(self, url: str, secret: str, body: bytes, delivery_id: int) -> None:
        parts = urllib.parse.urlsplit(url)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"SafeCity/{__version__}",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            DELIVERY_HEADER: str(delivery_id),
        }
        path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        cutoff = _Cutoff(self._timeout)
        try:
            connection = self._connection(parts, cutoff)
            try:
                connection.request("POST", path, body=body, headers=headers)
                status = connection.getresponse().status
            finally:
                connection.close()
        except (OSError, ValueError, http.client.HTTPException) as exc:
            if cutoff.expired or isinstance(exc, TimeoutError):
                raise DeliveryFailed(f"no answer within {self._timeout:g} s", retry=True) from exc
            raise self._unreachable(exc) from exc
        finally:
            cutoff.close()
        failure = judge_status(status)
        if failure is not None:
            raise failure

    def _connection(
        self, parts: urllib.parse.SplitResult, cutoff: _Cutoff
    ) -> http.client.HTTPConnection:
        # The settings check the URL's form. Always a port: given None, http.client would
        # split a bare IPv6 host ("::1") at its last colon.
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        connection = (
            http.client.HTTPSConnection(host, port, timeout=self._timeout, context=self._tls)
            if parts.scheme == "https"
            else http.client.HTTPConnection(host, port, timeout=self._timeout)
        )
        # http.client opens its socket through this attribute (Python 3.4 and later).
        connection._create_connection = cutoff.connect  # type: ignore[attr-defined]
        return connection

    def _unreachable(self, reason: object) -> DeliveryFailed:
        if isinstance(reason, OSError) and reason.strerror:
            return DeliveryFailed(f"cannot reach the receiver: {reason.strerror}", retry=True)
        return DeliveryFailed(f"cannot reach the receiver: {reason}", retry=True)


class MqttChannel:
    """Publishes with QoS 1 over one connection, kept open between notices and made anew
    after any failure (paho's own reconnect loop would hide the broker's refusal reason).
    Connecting (when needed) and the PUBACK share one deadline of ``timeout`` seconds."""

    def __init__(self, settings: MqttNotificationSettings, *, timeout: float) -> None:
        if not settings.host:
            raise ValueError("MQTT notifications need a broker host")
        self._settings = settings
        self._host = settings.host
        self._timeout = timeout
        self._client: mqtt.Client | None = None
        self._lock = threading.Lock()

    @property
    def where(self) -> str:
        return f"{self._host}:{self._settings.port}"

    def deliver(self, topic: str, body: bytes) -> None:
        with self._lock:
            deadline = time.monotonic() + self._timeout
            client = self._connected(deadline)
            info = client.publish(topic, body, qos=1)
            try:
                info.wait_for_publish(max(deadline - time.monotonic(), 0.001))
            except (RuntimeError, ValueError) as exc:
                self._drop()
                raise DeliveryFailed(
                    f"lost the broker at {self.where} while publishing", retry=True
                ) from exc
            if not info.is_published():
                self._drop()
                raise DeliveryFailed(
                    f"the broker at {self.where} did not acknowledge within {self._timeout:g} s",
                    retry=True,
                )

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _connected(self, deadline: float) -> mqtt.Client:
        if self._client is not None and self._client.is_connected():
            return self._client
        self._drop()
        settings = self._settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            protocol=MQTTProtocolVersion.MQTTv311,
            reconnect_on_failure=False,
        )
        client.connect_timeout = max(deadline - time.monotonic(), 0.001)
        if settings.username:
            password = settings.password.get_secret_value() if settings.password else None
            client.username_pw_set(settings.username, password)
        if settings.tls:
            client.tls_set()
        answered = threading.Event()
        refusal: list[str] = []

        def on_connect(
            _client: mqtt.Client, _data: object, _flags: object, reason: Any, _props: object
        ) -> None:
            if reason.is_failure:
                refusal.append(str(reason))
            answered.set()

        client.on_connect = on_connect
        try:
            client.connect(self._host, settings.port, keepalive=30)
        except (OSError, ValueError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise DeliveryFailed(
                f"cannot reach the broker at {self.where}: {detail}", retry=True
            ) from exc
        client.loop_start()
        if not answered.wait(max(deadline - time.monotonic(), 0.001)) or refusal:
            client.disconnect()
            client.loop_stop()
            why = f"refused the connection ({refusal[0]})" if refusal else "did not answer"
            raise DeliveryFailed(f"the broker at {self.where} {why}", retry=True)
        self._client = client
        return client

    def _drop(self) -> None:
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None


def notice_body(payload: dict[str, Any], delivery_id: int) -> bytes:
    """The bytes sent (and signed): the stored payload plus its delivery id, so that an MQTT
    subscriber can drop repeats too."""
    return json.dumps(
        {**payload, "delivery": delivery_id}, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
