"""What a SafeCity process writes to its log, set up in one place for every command.

Every line carries the time (UTC, milliseconds), the level and the source (the logger's name,
``safecity.video.recording.recorder``), as text or as one JSON object per line (``logging.format``), at
the level ``logging.level`` chooses. uvicorn's loggers are sent through the same handler, so
the web server's lines look like everyone else's and follow the same level.

The handler writes to whatever ``sys.stderr`` is when a line is written, not the one there was
at set-up: a process that swaps its standard error (a test runner, a daemon wrapper) must not
find the log writing into a closed stream.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from safecity.settings import LoggingSettings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CHATTY_LOGGERS = ("alembic",)
"""Loggers that say at INFO what nobody needs to read: Alembic names its database dialect every
time a command checks the schema. Shown only at ``debug``."""
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
"""uvicorn's loggers: it gives them their own handlers unless told not to (``log_config=None``);
these are stripped of any and passed to the root logger instead."""


def _utc(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class TextFormatter(logging.Formatter):
    """``2026-12-07T04:35:03.123Z WARNING safecity.video.ingest.worker: camera AST-1 lost: …``"""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, and
    ``exception`` (the traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _utc(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class StandardErrorHandler(logging.Handler):
    """Writes each line to the current ``sys.stderr``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


def configure_logging(settings: LoggingSettings) -> None:
    """Send every log line (SafeCity's, uvicorn's, the libraries') through one handler on the
    root logger, formatted and filtered as ``settings`` say. Calling it again replaces the
    handler it installed before, and nothing else (a test's capturing handler stays)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, StandardErrorHandler):
            root.removeHandler(handler)
    handler = StandardErrorHandler()
    handler.setFormatter(JsonFormatter() if settings.format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(settings.level.upper())
    for name in CHATTY_LOGGERS:
        chatty = logging.DEBUG if settings.level == "debug" else logging.WARNING
        logging.getLogger(name).setLevel(chatty)
    for name in SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.setLevel(logging.NOTSET)
        server_logger.propagate = True
