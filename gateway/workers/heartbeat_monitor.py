"""Finds workers that fell silent: no heartbeat within the timeout, or no hello after start.

Heartbeats come from a worker's I/O thread, never from its model threads, so a long load
or inference keeps them coming; only a stuck or stopped process (or a lost host) stops them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from gateway.workers.pool import WorkerPool, WorkerState

SilentCallback = Callable[[WorkerState, str], None]


class HeartbeatMonitor:
    def __init__(
        self,
        pool: WorkerPool,
        timeout_s: float,
        start_timeout_s: float,
        on_silent: SilentCallback,
    ) -> None:
        self._pool = pool
        self._timeout_s = timeout_s
        self._start_timeout_s = start_timeout_s
        self._on_silent = on_silent
        # Check several times per timeout, so a hang is seen at most ~20 % late.
        self.period_s = max(0.02, min(timeout_s / 5, 1.0))

    def silent(self) -> list[tuple[WorkerState, str]]:
        now = self._pool.clock()
        found: list[tuple[WorkerState, str]] = []
        for worker in self._pool.workers():
            if worker.state in ("ready", "busy", "draining") and worker.last_heartbeat is not None:
                quiet_s = now - worker.last_heartbeat
                if quiet_s > self._timeout_s:
                    found.append(
                        (
                            worker,
                            f"sent no heartbeat for {quiet_s * 1000:.0f} ms "
                            f"(limit {self._timeout_s * 1000:.0f} ms)",
                        )
                    )
            elif (
                worker.state == "starting"
                and worker.local
                and now - worker.state_since > self._start_timeout_s
            ):
                found.append((worker, f"sent no hello within {self._start_timeout_s:.0f} s"))
        return found

    async def run(self) -> None:
        while True:
            before = self._pool.clock()
            await asyncio.sleep(self.period_s)
            if self._pool.clock() - before > 2 * self.period_s:
                # The gateway's own loop stalled: heartbeats may be waiting unread.
                continue
            for worker, why in self.silent():
                self._on_silent(worker, why)
