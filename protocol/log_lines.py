"""One shape of log line for the gateway and its workers: text for people, or JSON
(`LX_LOG_FORMAT=json`) for log collectors, one object per line.

A JSON line holds `time` (UTC, ISO 8601 with milliseconds), `level`, `logger`, `message`,
`process` (`gateway`, `worker`), `pid`, `request_id` while a request is being handled,
`exception` when there is one, and every extra field the call passed (`extra={...}`).

`REQUEST_ID` is the id of the HTTP request being handled (`X-Request-ID`): the gateway sets
it per request and sends it along on the wire, the worker sets it while it works on that
request, so the lines of both processes for one request carry the same id. Nothing here
writes anything: `configure_logging` only installs a handler on stderr.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has: anything else on a record is an extra field of the call.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName", "request_id"}
)


@contextmanager
def request_logging(request_id: str | None) -> Iterator[None]:
    """Log lines within carry `request_id` ("" or None: none)."""
    token = REQUEST_ID.set(request_id or None)
    try:
        yield
    finally:
        REQUEST_ID.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the request id of the current context on each record (None outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str) -> None:
        super().__init__()
        self._process = process

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": self._process,
            "pid": record.process,
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(
    process: str, level: str, log_format: LogFormat, *, pid_in_text: bool = False
) -> None:
    """Root logging to stderr at `level`, as text (`<time> <process>[pid] LEVEL logger:
    message`) or JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(JsonFormatter(process))
    else:
        label = f"{process}[{os.getpid()}]" if pid_in_text else process
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s {label} %(levelname)s %(name)s: %(message)s")
        )
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


def log_format_from_env(environ: Mapping[str, str] | None = None) -> LogFormat:
    """`LX_LOG_FORMAT` as a worker reads it (the gateway validates it among its settings)."""
    value = (os.environ if environ is None else environ).get("LX_LOG_FORMAT", "").strip().lower()
    return "json" if value == "json" else "text"
