"""Starts one local worker process per device, watches it, restarts it when it exits.

The exit is seen the moment it happens (the child's wait completes), so work in flight
on a dead worker fails at once instead of waiting out a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal

from gateway.devices import worker_id_for
from gateway.settings import Settings
from gateway.worker_link import WorkerLink
from gateway.worker_pool import WorkerPool
from protocol.ipc import Shutdown

log = logging.getLogger(__name__)

_STABLE_AFTER_S = 30.0  # a worker that lived this long resets its backoff


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return f"killed by signal {name}"
    return f"exited with code {returncode}"


class Supervisor:
    def __init__(self, settings: Settings, link: WorkerLink, pool: WorkerPool) -> None:
        self._settings = settings
        self._link = link
        self._pool = pool
        self._processes: dict[str, asyncio.subprocess.Process] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def start(self, devices: tuple[str, ...]) -> None:
        for device in devices:
            worker_id = worker_id_for(device)
            self._tasks.append(
                asyncio.create_task(self._keep_running(worker_id, device), name=worker_id)
            )

    def pid_of(self, worker_id: str) -> int | None:
        process = self._processes.get(worker_id)
        return None if process is None else process.pid

    async def _spawn(self, worker_id: str, device: str) -> asyncio.subprocess.Process:
        command = [
            self._settings.worker_python,
            "-m",
            "worker",
            "--device",
            device,
            "--id",
            worker_id,
            "--connect",
            self._link.endpoint,
            "--parent-pid",
            str(os.getpid()),
            "--cpu-threads",
            str(self._settings.worker_cpu_threads),
            "--heartbeat-interval",
            str(self._settings.heartbeat_interval_s),
        ]
        process = await asyncio.create_subprocess_exec(*command)
        self._processes[worker_id] = process
        self._pool.expect(worker_id, device, process.pid)
        log.info("started worker %s (pid %s)", worker_id, process.pid)
        return process

    async def _keep_running(self, worker_id: str, device: str) -> None:
        backoff = self._settings.restart_backoff_initial_s
        while not self._stopping:
            started = asyncio.get_running_loop().time()
            process = await self._spawn(worker_id, device)
            returncode = await process.wait()
            if self._stopping:
                return
            cause = describe_exit(returncode)
            self._link.fail_pending(worker_id, cause)
            self._pool.mark_lost(worker_id, cause)
            if asyncio.get_running_loop().time() - started > _STABLE_AFTER_S:
                backoff = self._settings.restart_backoff_initial_s
            self._pool.mark_restarting(worker_id)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._settings.restart_backoff_max_s)

    async def stop(self, grace_s: float = 3.0) -> None:
        self._stopping = True
        for worker_id in self._processes:
            with contextlib.suppress(Exception):
                await self._link.send(worker_id, Shutdown(reason="gateway stopping"))
        for process in self._processes.values():
            try:
                await asyncio.wait_for(process.wait(), grace_s)
            except TimeoutError:
                process.kill()
                await process.wait()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
