"""One budget for the audio every request holds in the gateway's memory at once.

An upload is read into memory (it goes to the worker in one frame), and stays there until
its answer is sent. Eight concurrent 95 MB uploads took the gateway to 1.2 GB, and each
new one would add as much. So every request that reads audio holds its bytes against
LX_UPLOAD_BUDGET_MB while it is read and answered, copies included (the body's chunks and
their joined copy, a multipart body and its file, while both are alive): a request whose
bytes would pass the budget is refused at once (its declared length) or as soon as its
body passes it, with 503 QUEUE_FULL and `Retry-After` (the budget frees as other requests
are answered). The budget is at least twice LX_MAX_UPLOAD_MB (settings check it), so any
one upload can pass alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from gateway.http.io import size_text
from protocol.errors import ErrorCode, ServiceError

# Seconds a refused client is told to wait: about what a short upload takes to answer.
RETRY_AFTER_S = 2


class UploadHold:
    """The bytes one request holds (see UploadBudget.hold)."""

    def __init__(self, budget: UploadBudget) -> None:
        self._budget = budget
        self.held = 0

    def expect(self, size: int) -> None:
        """Refuse now if `size` more bytes would pass the budget (a declared length)."""
        self._budget.check(size)

    def add(self, size: int) -> None:
        self.set(self.held + size)

    def set(self, size: int) -> None:
        """Hold `size` bytes in all from now on (more or fewer than before)."""
        self._budget.take(size - self.held)
        self.held = size


class UploadBudget:
    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self.held_bytes = 0

    @contextmanager
    def hold(self) -> Iterator[UploadHold]:
        """A hold for one request's bytes, given back when the block ends."""
        hold = UploadHold(self)
        try:
            yield hold
        finally:
            self.held_bytes -= hold.held

    def check(self, more: int) -> None:
        if more > 0 and self.held_bytes + more > self.limit_bytes:
            raise ServiceError(
                ErrorCode.QUEUE_FULL,
                "Uploads in progress fill the gateway's budget of "
                f"{size_text(self.limit_bytes)} (LX_UPLOAD_BUDGET_MB); retry shortly.",
                {
                    "budget_bytes": self.limit_bytes,
                    "held_bytes": self.held_bytes,
                    "retry_after_s": RETRY_AFTER_S,
                },
            )

    def take(self, more: int) -> None:
        self.check(more)
        self.held_bytes += more
