"""One settings tree for every SafeCity process.

Values come, strongest first, from ``SAFECITY_*`` environment variables (nested keys joined
with ``__``, e.g. ``SAFECITY_DATABASE__URL``), the YAML file, and the defaults below. The defaults are the embedded mode: an SQLite file and a media folder under
``data_dir``, and the in-process bus.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG_FILE = Path("safecity.yaml")
ENV_PREFIX = "SAFECITY_"


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
    evidence_key: Path | None = Field(
        default=None,
        title="Evidence signing key",
        description="Ed25519 private key (PEM) that signs evidence packages. Empty means "
        "data_dir/keys/evidence-ed25519.pem, created on first use.",
    )


class BusSettings(_Section):
    kind: Literal["memory"] = Field(
        default="memory",
        title="Event bus",
        description="'memory' keeps events inside this process (single-node mode).",
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


class OpsSettings(_Section):
    inbound_sources: dict[str, str] = Field(
        default_factory=dict,
        title="Inbound alert sources",
        description="Outside systems allowed to POST /api/alerts/inbound: source name (sent in "
        "X-SafeCity-Source) to the shared secret that signs its requests (HMAC-SHA256). "
        "Empty: the webhook refuses everything.",
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
