"""Stream addresses carry camera passwords; only people who manage the registry see them."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

HIDDEN = "***"


def without_password(url: str) -> str:
    """The URL with any password replaced by ***; the user name stays, to tell accounts apart."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    netloc = f"{parts.username or ''}:{HIDDEN}@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))
