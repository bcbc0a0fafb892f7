"""What the gateway knows of each worker: state, hello, heartbeats, and who to tell."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from gateway.event_hub import EventHub
from protocol.api import WorkerSummary
from protocol.errors import ErrorCode, ServiceError
from protocol.events import EventName, WorkerChanged, envelope
from protocol.ipc import Heartbeat, Hello, MemoryInfo, WorkerMessage

log = logging.getLogger(__name__)


class WorkerListener(Protocol):
    def worker_ready(self, worker: WorkerState) -> None: ...

    def worker_lost(self, worker: WorkerState, cause: str) -> None: ...


@dataclass(eq=False)
class WorkerState:
    worker_id: str
    device: str
    state: str = "starting"
    pid: int | None = None
    host: str | None = None
    compute_types: list[str] = field(default_factory=list)
    memory: MemoryInfo | None = None
    last_heartbeat: float | None = None
    restart_count: int = 0
    last_exit: str | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def summary(self, now: float) -> WorkerSummary:
        age = None if self.last_heartbeat is None else round((now - self.last_heartbeat) * 1000)
        return WorkerSummary(
            worker_id=self.worker_id,
            device=self.device,
            state=self.state,
            pid=self.pid,
            host=self.host,
            restart_count=self.restart_count,
            last_exit=self.last_exit,
            heartbeat_age_ms=age,
        )


class WorkerPool:
    def __init__(
        self,
        events: EventHub,
        ready_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._events = events
        self._ready_timeout_s = ready_timeout_s
        self._clock = clock
        self._workers: dict[str, WorkerState] = {}
        self._listeners: list[WorkerListener] = []

    def add_listener(self, listener: WorkerListener) -> None:
        self._listeners.append(listener)

    def workers(self) -> list[WorkerState]:
        return list(self._workers.values())

    def get(self, worker_id: str) -> WorkerState | None:
        return self._workers.get(worker_id)

    def summaries(self) -> list[WorkerSummary]:
        now = self._clock()
        return [w.summary(now) for w in self._workers.values()]

    def expect(self, worker_id: str, device: str, pid: int | None) -> WorkerState:
        """A local worker is being started: known before its hello arrives."""
        worker = self._workers.setdefault(worker_id, WorkerState(worker_id, device))
        worker.state = "starting"
        worker.pid = pid
        return worker

    def handle(self, worker_id: str, message: WorkerMessage) -> None:
        if isinstance(message, Hello):
            self._on_hello(worker_id, message)
        elif isinstance(message, Heartbeat):
            worker = self._workers.get(worker_id)
            if worker is None or worker.state not in ("ready", "busy"):
                log.debug("heartbeat from %s before its hello", worker_id)
                return
            worker.last_heartbeat = self._clock()
            worker.memory = message.memory
            worker.state = "busy" if message.in_flight else "ready"

    def _on_hello(self, worker_id: str, hello: Hello) -> None:
        worker = self._workers.setdefault(worker_id, WorkerState(worker_id, hello.device))
        worker.device = hello.device
        worker.pid = hello.pid
        worker.host = hello.host
        worker.compute_types = list(hello.compute_types)
        worker.memory = hello.memory
        worker.last_heartbeat = self._clock()
        worker.state = "ready"
        worker.ready.set()
        log.info("worker %s ready (device %s, pid %s)", worker_id, hello.device, hello.pid)
        self._publish("worker.ready", worker)
        for listener in self._listeners:
            listener.worker_ready(worker)

    def mark_lost(self, worker_id: str, cause: str, state: str = "lost") -> None:
        worker = self._workers.get(worker_id)
        if worker is None:
            return
        worker.state = state
        worker.last_exit = cause
        worker.ready.clear()
        worker.last_heartbeat = None
        log.warning("worker %s lost: %s", worker_id, cause)
        self._publish("worker.lost", worker, cause)
        for listener in self._listeners:
            listener.worker_lost(worker, cause)

    def mark_restarting(self, worker_id: str) -> None:
        worker = self._workers.get(worker_id)
        if worker is not None:
            worker.state = "restarting"
            worker.restart_count += 1
            self._publish("worker.restarting", worker)

    async def worker_for(self, device: str) -> WorkerState:
        """The worker that serves `device` (cpu, cuda, cuda:N, auto), once it is ready."""
        candidates = self._candidates(device)
        if not candidates:
            raise ServiceError(
                ErrorCode.UNSUPPORTED_DEVICE,
                f"No worker serves device {device!r} on this service.",
                {"device": device, "devices": sorted({w.device for w in self._workers.values()})},
            )
        for worker in candidates:
            if worker.ready.is_set():
                return worker
        waits = [asyncio.create_task(w.ready.wait()) for w in candidates]
        try:
            await asyncio.wait(waits, timeout=self._ready_timeout_s, return_when="FIRST_COMPLETED")
        finally:
            for task in waits:
                task.cancel()
        for worker in candidates:
            if worker.ready.is_set():
                return worker
        raise ServiceError(
            ErrorCode.WORKER_UNAVAILABLE,
            f"No worker for device {device!r} became ready in {self._ready_timeout_s:.0f} s.",
            {"device": device, "workers": [w.worker_id for w in candidates]},
        )

    def _candidates(self, device: str) -> list[WorkerState]:
        workers = [w for w in self._workers.values() if w.state != "failed"]
        gpus = [w for w in workers if w.device.startswith("cuda")]
        if device == "auto":
            return gpus + [w for w in workers if w.device == "cpu"]
        if device == "cuda":
            return gpus
        return [w for w in workers if w.device == device]

    def _publish(self, name: EventName, worker: WorkerState, reason: str = "") -> None:
        data = WorkerChanged(
            worker_id=worker.worker_id,
            device=worker.device,
            state=worker.state,
            pid=worker.pid,
            reason=reason,
        )
        self._events.publish(envelope(name, data))
