"""One JSON object per log line, with the request id of the context (protocol/log_lines.py)."""

from __future__ import annotations

import json
import logging
import threading

from protocol.log_lines import (
    REQUEST_ID,
    JsonFormatter,
    RequestIdFilter,
    log_format_from_env,
    request_logging,
)


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.getLogger("gateway.test").makeRecord(
        "gateway.test", logging.WARNING, __file__, 1, message, ("x",), None, extra=extra
    )
    RequestIdFilter().filter(record)
    return record


def test_a_line_is_one_json_object_with_the_fields_and_extras() -> None:
    with request_logging("req-1"):
        record = _record("loaded %s", status=200, duration_ms=1.5)
    line = JsonFormatter("gateway").format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["message"] == "loaded x"
    assert parsed["level"] == "WARNING"
    assert parsed["logger"] == "gateway.test"
    assert parsed["process"] == "gateway"
    assert parsed["request_id"] == "req-1"
    assert (parsed["status"], parsed["duration_ms"]) == (200, 1.5)
    assert parsed["time"].endswith("+00:00")


def test_outside_a_request_there_is_no_request_id() -> None:
    parsed = json.loads(JsonFormatter("worker").format(_record("idle %s")))
    assert "request_id" not in parsed
    assert REQUEST_ID.get() is None


def test_exceptions_are_kept_in_the_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("w").makeRecord(
            "w", logging.ERROR, __file__, 1, "failed", (), exc_info=__import__("sys").exc_info()
        )
    parsed = json.loads(JsonFormatter("worker").format(record))
    assert "ValueError: boom" in parsed["exception"]


def test_request_logging_is_per_thread_and_restored() -> None:
    seen: list[str | None] = []
    with request_logging("outer"):
        thread = threading.Thread(target=lambda: seen.append(REQUEST_ID.get()))
        thread.start()
        thread.join()
        with request_logging(""):  # "" means none
            assert REQUEST_ID.get() is None
        assert REQUEST_ID.get() == "outer"
    assert REQUEST_ID.get() is None
    assert seen == [None]  # a thread starts without the request's context


def test_the_worker_reads_the_format_leniently() -> None:
    assert log_format_from_env({"LX_LOG_FORMAT": "JSON"}) == "json"
    assert log_format_from_env({}) == "text"
