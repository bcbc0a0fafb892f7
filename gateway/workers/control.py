"""Operator controls and liveness decisions over all workers, local and remote.

- A silent worker is declared `hung`; a local one is killed and restarted by the
  supervisor, a remote one is `lost` (its own supervisor restarts it; when it reconnects
  it is re-admitted with its models).
- `drain`: no new work for the worker; `worker.drained` once nothing is in flight.
- `restart`: drain (up to LX_WORKER_DRAIN_TIMEOUT_MS unless forced), then restart; its
  models are loaded again when it is back. A remote worker is asked to exit.
- `begin_shutdown`: after LX_SHUTDOWN_TIMEOUT_MS, fail what is still in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from gateway.settings import Settings
from gateway.workers.exits import worker_exit
from gateway.workers.heartbeat_monitor import HeartbeatMonitor
from gateway.workers.link import WorkerLink
from gateway.workers.pool import WorkerPool, WorkerState
from gateway.workers.supervisor import Supervisor
from protocol.errors import ErrorCode, ServiceError
from protocol.wire.messages import Shutdown

log = logging.getLogger(__name__)


class WorkerControl:
    def __init__(
        self, settings: Settings, link: WorkerLink, pool: WorkerPool, supervisor: Supervisor
    ) -> None:
        self._settings = settings
        self._link = link
        self._pool = pool
        self._supervisor = supervisor
        self._monitor = HeartbeatMonitor(
            pool, settings.heartbeat_timeout_s, settings.worker_ready_timeout_s, self.on_silent
        )
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._spawn(self._monitor.run(), "heartbeat-monitor")

    async def stop(self) -> None:
        tasks = [*self._background, *self._tasks.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ------------------------------------------------------------ liveness

    def on_silent(self, worker: WorkerState, why: str) -> None:
        exit = worker_exit("hang", why)
        self._pool.mark_hung(worker.worker_id, exit)
        if self._supervisor.is_local(worker.worker_id):
            # Its exit, seen by the supervisor, fails its requests and restarts it.
            self._supervisor.kill(worker.worker_id, "hang")
        else:
            self._pool.mark_lost(worker.worker_id, exit)

    # ------------------------------------------------------------ operator actions

    def drain(self, worker_id: str) -> WorkerState:
        worker = self._pool.require(worker_id)
        if worker.state not in ("ready", "busy", "draining"):
            raise _not_running(worker)
        if worker.state != "draining":
            self._pool.mark_draining(worker_id)
            self._spawn(self._announce_drained(worker_id), f"drain {worker_id}")
        return worker

    def restart(self, worker_id: str, force: bool) -> WorkerState:
        worker = self._pool.require(worker_id)
        local = self._supervisor.is_local(worker_id)
        if not local and worker.state not in ("ready", "busy", "draining"):
            raise _not_running(worker)
        running = self._tasks.get(worker_id)
        if running is not None and not running.done():
            if not force:
                return worker  # already on its way
            running.cancel()
        if not force:
            self._pool.mark_draining(worker_id)
        task = asyncio.create_task(
            self._restart(worker_id, force, local), name=f"restart {worker_id}"
        )
        self._tasks[worker_id] = task
        return worker

    async def _restart(self, worker_id: str, force: bool, local: bool) -> None:
        if not force:
            drained = await self._wait_drained(worker_id, self._settings.drain_timeout_s)
            if not drained:
                log.warning("worker %s still busy after the drain timeout; restarting", worker_id)
        log.info("restarting worker %s%s", worker_id, " (forced)" if force else "")
        if local:
            await self._supervisor.restart(worker_id, grace_s=0.0 if force else 5.0)
            return
        with contextlib.suppress(ServiceError):
            await self._link.send(worker_id, Shutdown(reason="restart requested by an operator"))

    async def _announce_drained(self, worker_id: str) -> None:
        await self._wait_drained(worker_id, None)
        worker = self._pool.get(worker_id)
        if worker is not None and worker.state == "draining":
            self._pool.announce("worker.drained", worker)

    async def _wait_drained(self, worker_id: str, timeout_s: float | None) -> bool:
        try:
            await asyncio.wait_for(self._link.wait_idle(worker_id), timeout_s)
        except TimeoutError:
            return False
        return True

    # ------------------------------------------------------------ gateway shutdown

    def begin_shutdown(self) -> None:
        """A stop signal came: in-flight work has LX_SHUTDOWN_TIMEOUT_MS to finish."""
        timeout_s = self._settings.shutdown_timeout_s
        log.info("stopping: in-flight requests have %.1f s to finish", timeout_s)
        asyncio.get_running_loop().call_later(timeout_s, self._fail_leftovers)

    def _fail_leftovers(self) -> None:
        failed = self._link.fail_pending(
            None, "the gateway is shutting down (LX_SHUTDOWN_TIMEOUT_MS passed)"
        )
        if failed:
            log.warning("failed %d request(s) still in flight at shutdown", failed)

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(coroutine, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _not_running(worker: WorkerState) -> ServiceError:
    return ServiceError(
        ErrorCode.WORKER_UNAVAILABLE,
        f"Worker {worker.worker_id} is {worker.state}: it has no work to drain.",
        {"worker_id": worker.worker_id, "state": worker.state},
    )
