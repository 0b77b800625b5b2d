"""Stream addresses carry camera passwords; only people who manage the registry see them."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

HIDDEN = "***"

# Query keys cameras put credentials in (Hikvision/Dahua CGI: ?user=admin&password=…).
SECRET_KEY = re.compile(r"pass|pwd|token|secret|auth|key|sig", re.IGNORECASE)


def without_password(url: str) -> str:
    """The URL with any password hidden as ***, in the user-info part and in query values
    whose key names a secret; user names stay, to tell accounts apart."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port is not None else ""
        netloc = f"{parts.username or ''}:{HIDDEN}@{host}{port}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(SECRET_KEY.search(key) for key, _ in pairs):
            query = urlencode(
                [(key, HIDDEN if SECRET_KEY.search(key) else value) for key, value in pairs],
                safe="*",
            )
    return urlunsplit(parts._replace(netloc=netloc, query=query))
