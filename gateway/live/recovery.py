"""When a live stream's worker fails: whether to re-open the stream elsewhere, and after
how long.

A worker that died or was killed for hanging (the supervisor's heartbeat timeout) fails
the stream's request with WORKER_UNAVAILABLE (or INSUFFICIENT_MEMORY when it was killed
for its memory): the stream is re-opened from the audio the gateway holds. Audio that
crashes every worker it reaches would loop for ever: after `max_attempts` failures in a
row with no final in between, the stream gives up. Any other error is the request's own
(a bad option, a model that cannot serve it) and ends the stream at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.errors import ErrorCode, ServiceError

_WORKER_LOST = frozenset({ErrorCode.WORKER_UNAVAILABLE, ErrorCode.INSUFFICIENT_MEMORY})


@dataclass
class RecoveryPolicy:
    max_attempts: int = 4
    first_delay_s: float = 0.25
    max_delay_s: float = 4.0
    failures: int = 0  # in a row, since the last final

    def retry_after(self, error: ServiceError | TimeoutError) -> float | None:
        """Seconds to wait before re-opening the stream, or None: give up."""
        if isinstance(error, ServiceError) and error.code not in _WORKER_LOST:
            return None
        if (
            isinstance(error, ServiceError)
            and error.code == ErrorCode.INSUFFICIENT_MEMORY
            and "worker_id" not in error.details
        ):
            return None  # refused for its size, not a worker that went away
        self.failures += 1
        if self.failures > self.max_attempts:
            return None
        delay: float = self.first_delay_s * float(2 ** (self.failures - 1))
        return min(self.max_delay_s, delay)

    def progressed(self) -> None:
        """A final came: the stream moves, the count starts again."""
        self.failures = 0
