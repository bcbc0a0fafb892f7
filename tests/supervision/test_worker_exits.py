"""A worker's end is classified (crash, oom, hang, restart) and maps to the right error."""

from __future__ import annotations

import signal

from gateway.workers.exits import exit_of_process, failure_for
from protocol.errors import ErrorCode
from protocol.wire.exit_codes import EXIT_MEMORY_LIMIT


def test_a_signal_is_a_crash_with_the_signal_named() -> None:
    exit = exit_of_process(-signal.SIGKILL, None, None)
    assert (exit.reason, exit.code, exit.signal) == ("crash", None, "SIGKILL")
    assert "SIGKILL" in exit.message


def test_the_memory_limit_exit_code_is_oom() -> None:
    exit = exit_of_process(EXIT_MEMORY_LIMIT, None, 512)
    assert (exit.reason, exit.code, exit.signal) == ("oom", EXIT_MEMORY_LIMIT, None)
    assert "512 MB" in exit.message


def test_what_we_ended_ourselves_keeps_our_reason() -> None:
    assert exit_of_process(-signal.SIGKILL, "hang", None).reason == "hang"
    assert exit_of_process(0, "restart", None).reason == "restart"
    assert exit_of_process(1, None, None).reason == "crash"


def test_requests_on_an_oom_worker_get_insufficient_memory_others_worker_unavailable() -> None:
    oom = failure_for("cpu", exit_of_process(EXIT_MEMORY_LIMIT, None, 100))
    assert oom.code is ErrorCode.INSUFFICIENT_MEMORY
    assert oom.details["reason"] == "oom"
    crash = failure_for("cpu", exit_of_process(-signal.SIGKILL, None, None))
    assert crash.code is ErrorCode.WORKER_UNAVAILABLE
    assert crash.details["signal"] == "SIGKILL" and "SIGKILL" in crash.details["cause"]
