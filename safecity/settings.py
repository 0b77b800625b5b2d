"""One settings tree for every SafeCity process.

Values come, strongest first, from ``SAFECITY_*`` environment variables (nested keys joined
with ``__``, e.g. ``SAFECITY_DATABASE__URL``), the YAML file, and the defaults below. The
defaults are the embedded mode: an SQLite file and a media folder under ``data_dir``, and the
in-process bus.

One module though it is long: it is one idea, the tree an operator writes in ``safecity.yaml``,
read top to bottom in the order of that file; each section is a short model with its limits.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG_FILE = Path("safecity.yaml")
ENV_PREFIX = "SAFECITY_"
LARGEST_ATTACHMENT_MB = 4096
"""The most ``ops.attachments_max_mb`` may be set to."""


class ConfigError(Exception):
    """A configuration that cannot start SafeCity; the message names the file and the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseSettings(_Section):
    url: str | None = Field(
        default=None,
        title="Database URL",
        description="SQLAlchemy URL. Empty means an SQLite file in data_dir; "
        "production uses postgresql+psycopg://user@host/db.",
    )
    echo: bool = Field(default=False, description="Log every SQL statement (debugging only).")


class MediaSettings(_Section):
    path: Path | None = Field(
        default=None,
        title="Media folder",
        description="Where recordings and snapshots are written. Empty means data_dir/media.",
    )


class VideoSettings(_Section):
    cameras: Literal["active", "none"] | list[str] = Field(
        default="active",
        title="Cameras to ingest",
        description="'active': every camera whose status is active; 'none': no ingest in this "
        "process (API only); or a list of camera ids.",
    )
    record: bool = Field(default=True, description="Record what is ingested (video registration).")
    segment_seconds: float = Field(
        default=10.0,
        ge=1.0,
        le=300.0,
        description="Target length of a recorded segment; each is cut at the next keyframe.",
    )
    rtsp_transport: Literal["tcp", "udp"] = Field(
        default="tcp", description="RTSP transport when a stream URL does not choose one."
    )
    connect_timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Give up a connection attempt after this long."
    )
    stall_seconds: float = Field(
        default=5.0,
        gt=0,
        le=120,
        description="A connected stream that sends nothing for this long is stalled; reconnect.",
    )
    backoff_initial_seconds: float = Field(
        default=1.0, gt=0, le=60, description="First wait before reconnecting a lost camera."
    )
    backoff_max_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="Longest wait between reconnect attempts (doubling, with jitter).",
    )
    retention_days: float = Field(
        default=30.0,
        gt=0,
        title="Retention (days)",
        description="Keep recordings this long unless the camera or its site says otherwise.",
    )
    min_free_percent: float = Field(
        default=5.0,
        ge=0,
        lt=100,
        title="Free-disk floor (%)",
        description="Below this share of free space on the media disk, the oldest recordings "
        "(city-wide, never held ones) are deleted until it is met.",
    )
    retention_check_seconds: float = Field(
        default=60.0, gt=0, description="How often retention runs."
    )
    retention_clock_jump_hours: float = Field(
        default=6.0,
        gt=0,
        le=24 * 365,
        title="Clock jump that stops retention (hours)",
        description="Retention deletes nothing while the clock reads more than this past the "
        "last time it trusted (the newest recording when it started, then its last pass): a "
        "clock set wrongly ahead would otherwise make every recording look expired. See "
        "docs/running.md.",
    )
    evidence_key: Path | None = Field(
        default=None,
        title="Evidence signing key",
        description="Ed25519 private key (PEM) that signs evidence packages now. Empty means "
        "data_dir/keys/evidence-ed25519.pem, made by `safecity evidence key init` or the "
        "installation's first export.",
    )
    evidence_keyring: Path | None = Field(
        default=None,
        title="Evidence keyring",
        description="Folder holding the public key, fingerprint and dates of every key that "
        "ever signed evidence here (the current one and the retired ones); verification "
        "trusts them all. Empty means data_dir/keys/evidence-keyring.",
    )
    evidence_published_keys: list[Path] = Field(
        default_factory=list,
        title="Further trusted evidence keys",
        description="Public keys (PEM files) the city published elsewhere, e.g. those of an "
        "earlier installation: verification trusts them besides the keyring's.",
    )
    stream_credentials_key: Path | None = Field(
        default=None,
        title="Stream credentials key",
        description="Key file (Fernet) that encrypts the passwords in cameras' stream "
        "URLs. Empty means data_dir/keys/stream-credentials.key, created when the "
        "first password is stored. Back it up apart from the database.",
    )


ObjectName = Literal["person", "bicycle", "car", "motorcycle", "bus", "truck", "bag"]


class ObjectThresholds(_Section):
    min_score: float = Field(
        ge=0, le=1, title="Minimum score", description="Weaker detections of the class are dropped."
    )
    min_area: int = Field(
        default=0,
        ge=0,
        title="Minimum area (pixels)",
        description="Smaller boxes (width × height at the detect size) are dropped.",
    )


class DetectorSettings(_Section):
    """The object detector. The default is the COCO model SafeCity fetches and checks
    (`safecity models fetch`); a city may bring its own YOLO-style ONNX model."""

    kind: Literal["ssd_mobilenet_v2", "onnx", "none"] = Field(
        default="ssd_mobilenet_v2",
        description="ssd_mobilenet_v2 (LiteRT, fetched by `safecity models fetch`), onnx (a "
        "model of your own, see `model`), or none: motion and tamper only.",
    )
    model: Path | None = Field(
        default=None,
        description="The model file: required for onnx; for ssd_mobilenet_v2 it replaces the "
        "fetched one.",
    )
    input_size: int = Field(
        default=640, ge=32, le=2048, description="onnx: the square input the model takes."
    )
    labels: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="onnx: the model's class names in output order (COCO's names are mapped "
        "to SafeCity's: person, car, …; others are dropped).",
    )
    threads: int = Field(default=1, ge=1, le=64, description="CPU threads the detector uses.")
    max_batch: int = Field(
        default=4, ge=1, le=64, description="Regions detected in one call, where the model allows."
    )

    @model_validator(mode="after")
    def _onnx_needs_a_model(self) -> DetectorSettings:
        if self.kind == "onnx" and self.model is None:
            raise ValueError("an onnx detector needs its model file (analytics.detector.model)")
        return self


class AnalyticsSettings(_Section):
    """Video analytics on the cameras' pictures (docs/analytics.md)."""

    cameras: Literal["all", "none"] | list[str] = Field(
        default="all",
        description="Which of the node's cameras are analysed: all, none, or a list of codes.",
    )
    detect_fps: float = Field(
        default=5.0, gt=0, le=30, title="Detect rate (fps)", description="Frames analysed a second."
    )
    detect_width: int = Field(
        default=640,
        ge=160,
        le=1920,
        title="Detect width (pixels)",
        description="Wider pictures are scaled to this width; use the camera's sub-stream.",
    )
    max_lag_seconds: float = Field(
        default=2.0,
        gt=0,
        le=60,
        description="Frames further behind than this are skipped (and counted), not analysed.",
    )
    detector: DetectorSettings = Field(default_factory=DetectorSettings)
    objects: dict[ObjectName, ObjectThresholds] = Field(
        default_factory=dict,
        description="Per-class minimum score and size, over the built-in defaults.",
    )
    clip_before_seconds: float = Field(
        default=5.0, ge=0, le=600, description="An event's clip starts this long before it."
    )
    clip_after_seconds: float = Field(
        default=10.0, ge=0, le=600, description="An event's clip ends this long after it."
    )
    snapshot_days: float = Field(
        default=30.0,
        gt=0,
        le=3650,
        description="Events' snapshots are deleted after this many days (the events stay).",
    )
    events_days: float = Field(
        default=365.0,
        gt=0,
        le=36500,
        description="Events are deleted after this many days (counts are kept).",
    )
    rules_refresh_seconds: float = Field(
        default=10.0, gt=0, le=3600, description="How soon edited rules reach the cameras."
    )
    models_dir: Path | None = Field(
        default=None,
        description="Where fetched models are cached. Empty: $SAFECITY_CACHE, else "
        "$XDG_CACHE_HOME/safecity, else ~/.cache/safecity.",
    )


class LoggingSettings(_Section):
    """What every SafeCity process writes to standard error (docs/running.md)."""

    level: Literal["debug", "info", "warning", "error"] = Field(
        default="info",
        title="Log level",
        description="The least severe messages written, for SafeCity and the web server alike.",
    )
    format: Literal["text", "json"] = Field(
        default="text",
        title="Log format",
        description="'text': one line per message, 'TIME LEVEL SOURCE: message'; 'json': one "
        "JSON object per line (time, level, logger, message, exception), for a log collector.",
    )


class BusSettings(_Section):
    kind: Literal["memory"] = Field(
        default="memory",
        title="Event bus",
        description="'memory' keeps events inside this process (single-node mode).",
    )


class LoginThrottleSettings(_Section):
    """How failed sign-ins slow password guessing (safecity/auth/throttle.py). Three counts,
    each locking only what it counts, so that a guesser cannot lock the real user out. An IPv6
    client address counts as its whole /64."""

    user_address_failures: int = Field(
        default=5,
        ge=1,
        le=1000,
        title="Failures per user and address",
        description="This many failed sign-ins for one username from one client address lock "
        "that username at that address only; elsewhere the user still signs in.",
    )
    user_address_window_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        description="The window the failures per user and address are counted in; a lock "
        "lifts when the oldest of them is this old.",
    )
    address_failures: int = Field(
        default=30,
        ge=1,
        le=10000,
        title="Failures per address",
        description="This many failed sign-ins from one client address, whatever the usernames, "
        "lock that address. Higher than per user: an OCC behind one NAT mistypes for many.",
    )
    address_window_seconds: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        description="The window the failures per address are counted in.",
    )
    user_failures: int = Field(
        default=50,
        ge=1,
        le=100000,
        title="Failures per user",
        description="This many failed sign-ins for one username, from any addresses, lock it "
        "everywhere except at its known addresses: slows a guess spread over many addresses.",
    )
    user_window_seconds: float = Field(
        default=900.0,
        gt=0,
        le=86400,
        description="The window the failures per user are counted in.",
    )
    known_address_days: float = Field(
        default=30.0,
        gt=0,
        le=365,
        title="Known address (days)",
        description="An address a user signed in from this recently is known for that user: "
        "the per-user lock does not apply there (remembered in memory, until a restart).",
    )


class ApiSettings(_Section):
    host: str = Field(default="127.0.0.1", description="Address the API and console listen on.")
    port: int = Field(default=8080, ge=1, le=65535, description="TCP port of the API and console.")
    session_hours: float = Field(
        default=12.0, gt=0, le=24 * 30, description="How long a login stays valid (one shift)."
    )
    secure_cookies: bool = Field(
        default=False, description="Mark the session cookie Secure; turn on behind HTTPS."
    )
    trusted_origins: list[str] = Field(
        default_factory=list,
        title="Trusted origins",
        description="Other origins (scheme://host[:port]) whose pages may send changes with a "
        "signed-in browser, e.g. a console served from another host. Empty: only this "
        "server's own pages (cross-site request forgery defence, docs/security.md).",
    )
    max_request_kib: int = Field(
        default=1024,
        ge=16,
        le=64 * 1024,
        title="Largest request body (KiB)",
        description="A request body beyond this is refused (413) before it is read whole. "
        "Incident attachments have their own limit (ops.attachments_max_mb).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        title="Trusted proxies",
        description="Reverse proxies (IP addresses or CIDR networks) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed. Only a request whose peer is one of them is taken to "
        "come from the forwarded client; from anyone else the headers are ignored, and the peer "
        "is the address that sign-in limits and the audit log use. Empty: trust none.",
    )
    login: LoginThrottleSettings = Field(
        default_factory=LoginThrottleSettings,
        title="Sign-in throttling",
        description="Failed sign-ins per user and address, per address and per user, and how "
        "long an address a user signed in from stays known.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, values: list[str]) -> list[str]:
        # uvicorn compares an entry that is not an IP address or network as a plain string, so
        # a typo (or a network with host bits set, 10.0.0.1/8) would silently trust nobody, and
        # "*" everybody: refuse them here instead.
        for value in values:
            try:
                ipaddress.ip_network(value)
            except ValueError as exc:
                raise ValueError(
                    f"{exc}; expected an IP address or a network like 10.0.0.0/8"
                ) from exc
        return values

    docs: Literal["off", "signed_in", "public"] = Field(
        default="signed_in",
        title="API documentation",
        description="Who may open /docs (Swagger UI, served by this server) and /openapi.json. "
        "'signed_in': anyone signed in, whatever their role (the default: the schema maps every "
        "endpoint and parameter, a head start for whoever probes the server, while the people "
        "and integrators who use the API have accounts; what each may do is still checked by "
        "role); 'public': anybody who reaches the server; 'off': nobody (404).",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        title="Metrics token",
        description="Lets a scraper read /metrics with 'Authorization: Bearer <token>' "
        "(compared in constant time): Prometheus cannot sign in, and a token gives it the "
        "metrics and nothing else. At least 16 characters, e.g. `openssl rand -hex 32`. "
        "Empty: /metrics answers only a signed-in administrator, since request rates, routes "
        "and queue sizes are operational detail, not for every account.",
    )
    metrics_public: bool = Field(
        default=False,
        title="Metrics without sign-in",
        description="Let anybody who reaches the server read /metrics; only where the API port "
        "is reachable from trusted networks alone. Not together with metrics_token.",
    )

    @field_validator("docs", mode="before")
    @classmethod
    def _unquoted_off(cls, value: object) -> object:
        # YAML reads an unquoted `docs: off` as false; that is what it means.
        return "off" if value is False else value

    @model_validator(mode="after")
    def _one_way_to_metrics(self) -> ApiSettings:
        if self.metrics_public and self.metrics_token is not None:
            raise ValueError(
                "metrics_public lets anybody read /metrics, so metrics_token would protect "
                "nothing: set one of them"
            )
        return self


class SlaThresholds(_Section):
    """Seconds a stage may take, per incident/alert priority (1 most urgent … 4 least)."""

    p1: float = Field(gt=0, title="Priority 1 (seconds)")
    p2: float = Field(gt=0, title="Priority 2 (seconds)")
    p3: float = Field(gt=0, title="Priority 3 (seconds)")
    p4: float = Field(gt=0, title="Priority 4 (seconds)")


class SlaSettings(_Section):
    """When a waiting alert or incident is escalated to the shift supervisor (docs/ops.md)."""

    acknowledge: SlaThresholds = Field(
        default_factory=lambda: SlaThresholds(p1=60, p2=120, p3=300, p4=900),
        description="A new alert not acknowledged this long after it was raised.",
    )
    dispatch: SlaThresholds = Field(
        default_factory=lambda: SlaThresholds(p1=120, p2=300, p3=900, p4=1800),
        description="A new incident not dispatched this long after it was opened.",
    )
    accept: SlaThresholds = Field(
        default_factory=lambda: SlaThresholds(p1=120, p2=300, p3=600, p4=1800),
        description="A dispatched incident not accepted by the unit this long after dispatch.",
    )
    arrive: SlaThresholds = Field(
        default_factory=lambda: SlaThresholds(p1=600, p2=900, p3=1800, p4=3600),
        description="An accepted incident with nobody on scene this long after acceptance.",
    )
    check_seconds: float = Field(
        default=5.0, gt=0, le=300, description="How often overdue alerts and incidents are sought."
    )


class MqttNotificationSettings(_Section):
    host: str | None = Field(
        default=None,
        title="MQTT broker host",
        description="Broker that carries dispatch notifications (one topic per police unit). "
        "Empty: no MQTT notifications.",
    )
    port: int = Field(default=1883, ge=1, le=65535, description="Broker TCP port (8883 for TLS).")
    username: str | None = Field(default=None, description="Broker user name, if it asks one.")
    password: SecretStr | None = Field(default=None, description="Broker password.")
    tls: bool = Field(
        default=False, description="Connect with TLS, checking the broker against the system CAs."
    )
    topic_prefix: str = Field(
        default="safecity",
        min_length=1,
        description="Notices go to <prefix>/units/<unit code>/incidents (QoS 1).",
    )


class UnitWebhook(_Section):
    url: str = Field(
        pattern=r"^https?://[^\s/]+", description="Receiver that takes signed JSON POSTs."
    )
    secret: SecretStr = Field(
        min_length=16,
        description="Shared secret; signs each POST like the inbound webhook (HMAC-SHA256).",
    )


class NotificationSettings(_Section):
    """How police units are told about incidents dispatched to them (docs/ops.md)."""

    mqtt: MqttNotificationSettings = Field(
        default_factory=MqttNotificationSettings,
        title="MQTT",
        description="Broker to publish each unit's notices to; off unless a host is given.",
    )
    webhooks: dict[str, list[UnitWebhook]] = Field(
        default_factory=dict,
        title="Unit webhooks",
        description="Police unit code to the receivers each of its notices is POSTed to.",
    )
    timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Give up one delivery attempt after this long: a hard deadline for the "
        "whole attempt (connecting, sending, the answer), however slowly the receiver answers.",
    )
    retry_initial_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="First wait before trying a failed delivery again."
    )
    retry_max_seconds: float = Field(
        default=600.0,
        gt=0,
        le=86400,
        description="Longest wait between attempts (doubling, with jitter).",
    )
    give_up_hours: float = Field(
        default=24.0,
        gt=0,
        description="A notice not delivered this long after it was written fails for good.",
    )
    poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often the outbox is checked for due notices."
    )
    claim_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A notice taken by a worker that dies is tried again after this long. "
        "Renewed right before each attempt, so it must exceed one attempt: at least 3 × "
        "timeout_seconds.",
    )
    workers: int = Field(
        default=4,
        ge=1,
        le=32,
        description="Receivers delivered to at once per process (one thread each; a receiver's "
        "own notices go one after another), so a slow or dead one holds up only itself.",
    )

    @model_validator(mode="after")
    def _waits_in_order(self) -> NotificationSettings:
        if self.retry_initial_seconds > self.retry_max_seconds:
            raise ValueError("retry_initial_seconds must not exceed retry_max_seconds")
        if self.claim_seconds < 3 * self.timeout_seconds:
            raise ValueError(
                "claim_seconds must be at least 3 × timeout_seconds, or a claim could run out "
                "while its notice is being sent (and another worker send it again)"
            )
        return self


class OpsSettings(_Section):
    sla: SlaSettings = Field(
        default_factory=SlaSettings,
        title="SLA escalation",
        description="Time limits per stage and priority; a breach escalates to the supervisor.",
    )
    inbound_sources: dict[str, SecretStr] = Field(
        default_factory=dict,
        title="Inbound alert sources",
        description="Outside systems allowed to POST /api/alerts/inbound: source name (sent in "
        "X-SafeCity-Source) to the shared secret that signs its requests (HMAC-SHA256). "
        "Empty: the webhook refuses everything.",
    )
    attachments_max_mb: int = Field(
        default=25,
        ge=1,
        le=LARGEST_ATTACHMENT_MB,
        title="Largest incident attachment (MiB)",
        description="An upload beyond this is refused (413) before more of it is stored.",
    )
    analytics_sources: dict[str, SecretStr] = Field(
        default_factory=dict,
        title="Analytics event sources",
        description="Outside analytics boxes allowed to POST /api/analytics/events: name to "
        "shared secret, signed like the inbound webhook. Empty: the endpoint refuses everything.",
    )
    source_requests_per_minute: int = Field(
        default=600,
        ge=1,
        title="Requests per minute per source",
        description="Each inbound webhook or analytics source may send this many requests a "
        "minute (bursts up to the same number); more are answered 429 with Retry-After.",
    )
    group_radius_m: float = Field(
        default=150.0,
        gt=0,
        title="Alert grouping radius (metres)",
        description="Open alerts of the same kind this close together are grouped as one area.",
    )
    group_window_seconds: float = Field(
        default=120.0,
        gt=0,
        title="Alert grouping window (seconds)",
        description="Alerts are grouped only with alerts last seen this recently.",
    )
    camera_down_grace_seconds: float = Field(
        default=30.0,
        gt=0,
        title="Camera outage grace (seconds)",
        description="A camera that was online and keeps failing this long raises an alert; "
        "so does an online camera whose video cannot be written for this long.",
    )
    camera_down_at_start_grace_seconds: float = Field(
        default=120.0,
        gt=0,
        title="Camera down at start grace (seconds)",
        description="A camera not seen online since the node started and failing this long "
        "raises an alert (longer: cameras take a while to come up after a restart).",
    )
    notifications: NotificationSettings = Field(
        default_factory=NotificationSettings,
        title="Dispatch notifications",
        description="MQTT and signed webhooks that tell police units about their incidents.",
    )


class Settings(BaseSettings):
    """The whole configuration. Every field has a description: ``safecity config schema``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    data_dir: Path = Field(
        default=Path("safecity-data"),
        title="Data folder",
        description="Folder for the embedded database and the default media folder.",
    )
    city_name: str = Field(default="Safe City", description="Shown in the console header.")
    timezone: str = Field(
        default="UTC",
        title="City time zone",
        description="IANA name, e.g. Asia/Almaty. Days, quarters and shifts are counted in it.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name like Asia/Almaty"
            ) from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    video: VideoSettings = Field(default_factory=VideoSettings)
    bus: BusSettings = Field(default_factory=BusSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    ops: OpsSettings = Field(default_factory=OpsSettings)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'safecity.db').as_posix()}"

    @property
    def media_path(self) -> Path:
        return self.media.path or self.data_dir / "media"

    @property
    def evidence_key_path(self) -> Path:
        return self.video.evidence_key or self.data_dir / "keys" / "evidence-ed25519.pem"

    @property
    def evidence_keyring_path(self) -> Path:
        return self.video.evidence_keyring or self.data_dir / "keys" / "evidence-keyring"

    @property
    def stream_credentials_key_path(self) -> Path:
        return (
            self.video.stream_credentials_key or self.data_dir / "keys" / "stream-credentials.key"
        )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings passes the YAML file's values as init kwargs, so that their errors can
        # be reported against the file; environment variables still win over them.
        return (env_settings, init_settings)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}:{where}: not valid YAML: {problem}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: expected a mapping of settings at the top, got {type(data).__name__}"
        )
    return data


def _describe(error: dict[str, Any]) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"{key}: unknown key"
    got = error.get("input")
    shown = "" if isinstance(got, dict) else f" (got {got!r})"
    message: str = error["msg"]
    return f"{key}: {message[:1].lower()}{message[1:]}{shown}"


def load_settings(path: Path | None = None) -> Settings:
    """Build the settings from ``path`` (or ./safecity.yaml if it exists) and the environment.

    Raises ConfigError naming the file, each offending key and what was expected.
    """
    source = (
        path
        if path is not None
        else (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None)
    )
    values: dict[str, Any] = _read_yaml(source) if source is not None else {}
    try:
        return Settings(**values)
    except ValidationError as exc:
        origin = str(source) if source is not None else "settings"
        lines = "\n".join(f"  {_describe(dict(err))}" for err in exc.errors())
        from_env = sorted(name for name in os.environ if name.startswith(ENV_PREFIX))
        hint = f"\n  (also read from the environment: {', '.join(from_env)})" if from_env else ""
        raise ConfigError(f"{origin}: invalid configuration\n{lines}{hint}") from exc
