"""The two ways a notice reaches a police unit: an MQTT publish and a signed webhook POST.

Each ``deliver`` returns when the receiver has the notice (PUBACK, or a 2xx answer) and raises
``DeliveryFailed`` otherwise, saying whether trying again may help. Each has one overall
deadline, ``timeout`` seconds (the name lookup excepted): a receiver that answers slowly, or
drips its answer a byte at a time, is cut off at it. Error texts are plain words for the
admin's list of stuck deliveries: they never carry a secret or a password.
"""

from __future__ import annotations

import asyncio
import errno
import http.client
import json
import os
import socket
import ssl
import threading
import time
from typing import Any

import httpx2
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


class WebhookChannel:
    """POSTs a signed notice with httpx2. Connecting, sending and reading the status line and
    headers of the answer share one deadline of ``timeout`` seconds: its cancellation ends a
    read or write blocked on the socket at once, however the receiver drips its bytes (a
    limit on each read alone would let it hold the request for ever). The name lookup runs to
    its end regardless. Redirects are answered as they are (3xx: try again later), never
    followed: the signed notice goes only to the configured address. No proxy from the
    environment is used."""

    def __init__(self, *, timeout: float) -> None:
        self._timeout = timeout
        self._tls = ssl.create_default_context()

    def deliver(self, url: str, secret: str, body: bytes, delivery_id: int) -> None:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"SafeCity/{__version__}",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            DELIVERY_HEADER: str(delivery_id),
        }
        try:
            status = asyncio.run(
                self._post(httpx2.Request("POST", url, headers=headers, content=body))
            )
        except TimeoutError as exc:
            raise DeliveryFailed(f"no answer within {self._timeout:g} s", retry=True) from exc
        except (httpx2.HTTPError, httpx2.InvalidURL, OSError, ValueError) as exc:
            raise DeliveryFailed(f"cannot reach the receiver: {_reason(exc)}", retry=True) from exc
        failure = judge_status(status)
        if failure is not None:
            raise failure

    async def _post(self, request: httpx2.Request) -> int:
        """The answer's status. The request is sent as built: only ``Host`` and
        ``Content-Length`` are added, none of the client's default headers."""
        async with asyncio.timeout(self._timeout):
            async with httpx2.AsyncClient(
                verify=self._tls, trust_env=False, timeout=None
            ) as client:
                response = await client.send(request, stream=True)
                await response.aclose()  # the body is not read
                return response.status_code


def _reason(exc: BaseException) -> str:
    """Why a receiver could not be reached, in the system's words: from the socket error under
    the client's own, where there is one (asyncio words a refused connection "Connect call
    failed (address)"; the system says "Connection refused")."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError):
            code = cause.errno
            plain = not isinstance(cause, (ssl.SSLError, socket.gaierror))
            if plain and code is not None and code in errno.errorcode:
                return os.strerror(code)
            if cause.strerror:
                return cause.strerror
        cause = cause.__cause__ or cause.__context__
    return str(exc) or type(exc).__name__


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
