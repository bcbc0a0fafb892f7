"""Transcriptions admitted against the worker's memory cap before their audio is decoded.

The cap (`--memory-limit-mb`, memory_cap.py) ends the worker when RSS passes it; polled,
it notices only after the fact, and a fast-growing decode went 34 % past it. So a
transcription is admitted first, from its audio's duration: it needs about
`MB_PER_WINDOW_SECOND` for each second of its largest window (faster-whisper's features,
measured at 0.80-0.88 MB per second with tiny.en, plus the samples at 0.06) and a margin.
It is admitted when today's RSS, what the transcriptions already admitted reserved, and its
need fit under the cap; otherwise INSUFFICIENT_MEMORY (507) answers it, and the worker
lives. Counting both RSS and reservations counts running work twice: it errs on the safe
side. Without a cap everything is admitted.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from protocol.errors import ErrorCode, ServiceError
from worker.memory import process_rss_mb

MB_PER_WINDOW_SECOND = 1.0
# Decoder activations, PyAV's buffers, the reply. 24 MB let a file admitted with 20 MB to
# spare pass a 340 MB cap by 8 MB on a loaded CI machine.
MARGIN_MB = 48.0


def need_mb(window_seconds: float) -> float:
    """Memory one transcription whose largest window lasts `window_seconds` needs."""
    return window_seconds * MB_PER_WINDOW_SECOND + MARGIN_MB


class MemoryAdmission:
    def __init__(self, limit_mb: float, measure: Callable[[], float] = process_rss_mb) -> None:
        self.limit_mb = limit_mb
        self._measure = measure
        self._reserved: dict[int, float] = {}
        self._lock = threading.Lock()
        self._tokens = itertools.count()

    @property
    def enabled(self) -> bool:
        return self.limit_mb > 0

    @contextmanager
    def admitted(self, needed_mb: float) -> Iterator[None]:
        """Holds `needed_mb` while the block runs; INSUFFICIENT_MEMORY if it cannot fit."""
        if not self.enabled:
            yield
            return
        with self._lock:
            available = self.limit_mb - self._measure() - sum(self._reserved.values())
            if needed_mb > available:
                raise ServiceError(
                    ErrorCode.INSUFFICIENT_MEMORY,
                    f"This transcription needs about {needed_mb:.0f} MB of the worker's memory "
                    f"and {max(available, 0.0):.0f} MB are free under its limit of "
                    f"{self.limit_mb:.0f} MB (LX_WORKER_MEMORY_LIMIT_MB); try again when "
                    "other work has finished, or lower LX_ASR_WINDOW_SECONDS.",
                    {
                        "required_mb": round(needed_mb, 1),
                        "available_mb": round(max(available, 0.0), 1),
                        "limit_mb": self.limit_mb,
                    },
                )
            token = next(self._tokens)
            self._reserved[token] = needed_mb
        try:
            yield
        finally:
            with self._lock:
                del self._reserved[token]
