"""How a worker's end is described, and what it means for the requests it held.

Local workers end with an exit code or a signal; the supervisor may also know why it
ended them itself (a hang, an operator restart). Remote workers end by saying goodbye
or by falling silent.
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from typing import Any

from protocol.api.lifecycle import ExitReason, WorkerExit
from protocol.errors import ErrorCode, ServiceError
from protocol.wire.exit_codes import EXIT_MEMORY_LIMIT

EXIT_REASONS: tuple[ExitReason, ...] = ("crash", "oom", "hang", "restart", "shutdown")


def worker_exit(
    reason: ExitReason, message: str, code: int | None = None, signal_name: str | None = None
) -> WorkerExit:
    return WorkerExit(
        reason=reason,
        message=message,
        at=datetime.now(UTC).isoformat(),
        code=code,
        signal=signal_name,
    )


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def exit_of_process(
    returncode: int, ended_by_us: ExitReason | None, memory_limit_mb: int | None
) -> WorkerExit:
    """A local worker's exit, from its return code and what we did to it, if anything."""
    code = returncode if returncode >= 0 else None
    signal_name = _signal_name(-returncode) if returncode < 0 else None
    how = f"killed by signal {signal_name}" if signal_name else f"exited with code {code}"
    if ended_by_us == "hang":
        return worker_exit("hang", f"stopped heartbeating and was {how}", code, signal_name)
    if ended_by_us is not None:
        return worker_exit(ended_by_us, f"{how} ({ended_by_us} requested)", code, signal_name)
    if code == EXIT_MEMORY_LIMIT:
        limit = f" of {memory_limit_mb} MB" if memory_limit_mb else ""
        return worker_exit("oom", f"passed its memory limit{limit} and {how}", code)
    return worker_exit("crash", how, code, signal_name)


def failure_for(worker_id: str, exit: WorkerExit | None) -> ServiceError:
    """The error a request in flight on a worker that just ended gets."""
    cause = exit.message if exit is not None else "went away"
    details: dict[str, Any] = {"worker_id": worker_id, "cause": cause}
    if exit is not None:
        details |= {"reason": exit.reason, "exit_code": exit.code, "signal": exit.signal}
    if exit is not None and exit.reason == "oom":
        # The work in flight is what pushed the worker past its memory.
        return ServiceError(
            ErrorCode.INSUFFICIENT_MEMORY,
            f"Worker {worker_id} ran out of memory with this request in flight: {cause}.",
            details,
        )
    return ServiceError(
        ErrorCode.WORKER_UNAVAILABLE,
        f"Worker {worker_id} went away before answering: {cause}.",
        details,
    )
