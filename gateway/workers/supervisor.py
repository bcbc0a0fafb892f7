"""Starts one local worker process per device, watches it, restarts it when it ends.

The exit is seen the moment it happens (the child's wait completes), so work in flight
on a dead worker fails at once instead of waiting out a timeout. Restarts back off
exponentially with jitter; a crash loop marks the worker `failed` until an operator
restarts it or its cool-down (LX_WORKER_FAILED_RETRY_MS, doubling each time up to
LX_WORKER_FAILED_RETRY_MAX_MS) has passed. `cpu:N` in LX_WORKER_DEVICES is one more CPU
worker, id `cpu-N`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from dataclasses import dataclass, field

from gateway.hardware.devices import worker_id_for
from gateway.settings import Settings
from gateway.workers.exits import exit_of_process, worker_exit
from gateway.workers.link import WorkerLink
from gateway.workers.pool import WorkerPool
from gateway.workers.restart_policy import RestartPolicy
from protocol.api.lifecycle import ExitReason, WorkerExit
from protocol.errors import ServiceError
from protocol.wire.messages import Shutdown
from protocol.wire.tuning import tuning_to_json

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Child:
    worker_id: str
    device: str
    policy: RestartPolicy
    process: asyncio.subprocess.Process | None = None
    # Why we are ending it ourselves (a hang, an operator restart), if we are.
    ending: ExitReason | None = None
    # Set by an operator restart of a failed worker.
    revive: asyncio.Event = field(default_factory=asyncio.Event)


def device_of(spec: str) -> str:
    """`cpu:N` is an extra CPU worker: its device is still the CPU."""
    return "cpu" if spec.startswith("cpu") else spec


class Supervisor:
    def __init__(
        self,
        settings: Settings,
        link: WorkerLink,
        pool: WorkerPool,
        rng: random.Random | None = None,
    ) -> None:
        self._settings = settings
        self._link = link
        self._pool = pool
        self._rng = rng or random.Random()
        self._children: dict[str, _Child] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def start(self, devices: tuple[str, ...]) -> None:
        settings = self._settings
        for spec in devices:
            policy = RestartPolicy(
                settings.restart_backoff_initial_s,
                settings.restart_backoff_max_s,
                settings.crash_loop_limit,
                settings.crash_loop_window_s,
                rng=self._rng,
                cooldown_s=settings.failed_retry_s,
                cooldown_max_s=settings.failed_retry_max_s,
            )
            child = _Child(worker_id_for(spec), device_of(spec), policy)
            self._children[child.worker_id] = child
            # Known as starting at once: a load asked for before the process is spawned
            # (LX_PRELOAD_MODELS) waits for its hello instead of finding no worker.
            self._pool.expect(child.worker_id, child.device, None)
            self._tasks.append(asyncio.create_task(self._watch(child), name=child.worker_id))

    def is_local(self, worker_id: str) -> bool:
        return worker_id in self._children

    def pid_of(self, worker_id: str) -> int | None:
        child = self._children.get(worker_id)
        return None if child is None or child.process is None else child.process.pid

    def kill(self, worker_id: str, reason: ExitReason) -> None:
        """SIGKILL now (works on a stopped process too); the watch loop restarts it."""
        child = self._children[worker_id]
        if child.process is not None and child.process.returncode is None:
            child.ending = reason
            child.process.kill()

    async def restart(self, worker_id: str, grace_s: float = 5.0) -> None:
        """Ask the worker to stop, kill it if it does not within `grace_s`; it comes back
        at once (an operator restart is no crash: no backoff, no crash-loop count)."""
        child = self._children[worker_id]
        if self._pool.require(worker_id).state == "failed":
            child.policy.reset()
            child.revive.set()
            return
        process = child.process
        if process is None or process.returncode is not None:
            return
        child.ending = "restart"
        with contextlib.suppress(ServiceError):
            await self._link.send(worker_id, Shutdown(reason="restart requested"))
        try:
            await asyncio.wait_for(process.wait(), grace_s)
        except TimeoutError:
            process.kill()

    async def _spawn(self, child: _Child) -> asyncio.subprocess.Process:
        settings = self._settings
        command = [
            settings.worker_python,
            "-m",
            "worker",
            "--device",
            child.device,
            "--id",
            child.worker_id,
            "--connect",
            self._link.endpoint,
            "--parent-pid",
            str(os.getpid()),
            "--heartbeat-interval",
            str(settings.heartbeat_interval_s),
            "--tuning",
            tuning_to_json(settings.worker_tuning),
        ]
        if settings.worker_memory_limit_mb:
            command += ["--memory-limit-mb", str(settings.worker_memory_limit_mb)]
        process = await asyncio.create_subprocess_exec(*command)
        child.process = process
        self._pool.expect(child.worker_id, child.device, process.pid)
        log.info("started worker %s (pid %s)", child.worker_id, process.pid)
        return process

    async def _run_once(self, child: _Child) -> WorkerExit:
        try:
            process = await self._spawn(child)
        except OSError as exc:
            log.error("could not start worker %s: %s", child.worker_id, exc)
            return worker_exit("crash", f"could not be started: {exc}")
        returncode = await process.wait()
        ending, child.ending = child.ending, None
        return exit_of_process(returncode, ending, self._settings.worker_memory_limit_mb)

    async def _watch(self, child: _Child) -> None:
        clock = asyncio.get_running_loop().time
        while not self._stopping:
            started = clock()
            exit = await self._run_once(child)
            if self._stopping:
                return
            # Listeners fail what was in flight on it and plan to restore its models.
            self._pool.mark_lost(child.worker_id, exit)
            delay: float | None = 0.0
            if exit.reason != "restart":
                delay = child.policy.next_delay(clock(), clock() - started)
            if delay is None:
                self._pool.mark_failed(child.worker_id)
                await self._cool_down(child)
                delay = 0.0
            self._pool.mark_restarting(child.worker_id)
            await asyncio.sleep(delay)

    async def _cool_down(self, child: _Child) -> None:
        """Until an operator restarts it, or its cool-down (growing) has passed."""
        cooldown = child.policy.cooldown()
        if cooldown is not None:
            log.warning("worker %s failed; trying it again in %.0f s", child.worker_id, cooldown)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(child.revive.wait(), cooldown)
        child.revive.clear()

    async def stop(self, grace_s: float = 3.0) -> None:
        self._stopping = True
        running = [
            c.process
            for c in self._children.values()
            if c.process is not None and c.process.returncode is None
        ]
        for child in self._children.values():
            with contextlib.suppress(Exception):
                await self._link.send(child.worker_id, Shutdown(reason="gateway stopping"))
        await asyncio.gather(*(_end(process, grace_s) for process in running))
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _end(process: asyncio.subprocess.Process, grace_s: float) -> None:
    try:
        await asyncio.wait_for(process.wait(), grace_s)
    except TimeoutError:
        process.kill()
        await process.wait()
