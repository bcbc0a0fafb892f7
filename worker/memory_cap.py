"""A hard cap on the worker's resident memory, checked from a thread of its own.

When a load or an inference pushes RSS past the cap, the worker says goodbye (reason
`oom`) and ends at once with EXIT_MEMORY_LIMIT: the gateway reports INSUFFICIENT_MEMORY
for what was in flight and restarts this worker alone, before the kernel's OOM killer picks
a victim, possibly another worker. The gateway's admission check refuses most such loads
earlier; this is the backstop. RLIMIT_AS is not used: address space (thread stacks,
allocator arenas, GPU mappings) runs far above RSS and would fail at random places.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from protocol.wire.exit_codes import EXIT_MEMORY_LIMIT
from worker.memory import process_rss_mb

log = logging.getLogger(__name__)

# Time for the goodbye to leave through the I/O thread before the process ends.
_GOODBYE_GRACE_S = 0.25


class MemoryCap:
    def __init__(
        self,
        limit_mb: float,
        on_exceeded: Callable[[str], None],
        interval_s: float = 0.05,
        measure: Callable[[], float] = process_rss_mb,
    ) -> None:
        self.limit_mb = limit_mb
        self._on_exceeded = on_exceeded
        self._interval_s = interval_s
        self._measure = measure

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._watch, name="memory-cap", daemon=True)
        thread.start()
        return thread

    def exceeded(self) -> str | None:
        """A description of the excess, or None while within the cap."""
        rss = self._measure()
        if rss <= self.limit_mb:
            return None
        return f"resident memory {rss:.0f} MB passed the limit of {self.limit_mb:.0f} MB"

    def _watch(self) -> None:
        while True:
            why = self.exceeded()
            if why is not None:
                self._end(why)
            time.sleep(self._interval_s)

    def _end(self, why: str) -> None:
        log.error("%s; the worker exits (code %d)", why, EXIT_MEMORY_LIMIT)
        try:
            self._on_exceeded(why)
            time.sleep(_GOODBYE_GRACE_S)
        finally:
            # Not sys.exit: model threads may be deep in native code and would never join.
            os._exit(EXIT_MEMORY_LIMIT)
