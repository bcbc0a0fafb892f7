"""What the gateway knows of each worker: state, hello, heartbeats, models, and who to tell.

States: `starting` until its hello, then `ready` / `busy` (from heartbeats); `draining`
takes no new work; `hung` fell silent; `lost` ended; `restarting` waits out its backoff;
`failed` crash-looped and is not restarted. Each change, except the ready/busy flicker
that follows load, is published as a `worker.<state>` event.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from gateway.event_hub import EventHub
from gateway.workers.exits import EXIT_REASONS, worker_exit
from protocol.api.events import EventName, WorkerChanged, envelope
from protocol.api.lifecycle import (
    ExitReason,
    WorkerExit,
    WorkerMemory,
    WorkerStateName,
    WorkerSummary,
)
from protocol.errors import ErrorCode, ServiceError
from protocol.wire.messages import (
    Goodbye,
    Heartbeat,
    Hello,
    LaneDepth,
    LoadedModel,
    LoadResult,
    MemoryInfo,
    UnloadResult,
    WorkerMessage,
)

log = logging.getLogger(__name__)

_LIVE: tuple[WorkerStateName, ...] = ("ready", "busy", "draining")


class WorkerListener(Protocol):
    def worker_ready(self, worker: WorkerState) -> None: ...

    def worker_lost(self, worker: WorkerState, cause: str) -> None: ...


@dataclass(eq=False)
class WorkerState:
    worker_id: str
    device: str
    state: WorkerStateName = "starting"
    # Started and watched by our supervisor; other workers connected by themselves.
    local: bool = False
    pid: int | None = None
    host: str | None = None
    compute_types: list[str] = field(default_factory=list)
    memory: MemoryInfo | None = None
    memory_at: float | None = None  # when `memory` was measured (pool clock, about)
    last_heartbeat: float | None = None
    in_flight: int = 0
    restart_count: int = 0
    last_exit: WorkerExit | None = None
    up_since: float | None = None
    state_since: float = 0.0
    models: set[str] = field(default_factory=set)
    # What its latest hello said it holds: a reconnecting worker keeps its models.
    reported: list[LoadedModel] = field(default_factory=list)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    # Its drain has finished (nothing in flight); cleared by any change of state.
    drained: bool = False
    # Its lanes' waiting requests, as its latest heartbeat reported them (for the metrics).
    queues: list[LaneDepth] = field(default_factory=list)

    def summary(self, now: float, in_flight: int) -> WorkerSummary:
        age = None if self.last_heartbeat is None else round((now - self.last_heartbeat) * 1000)
        uptime = None if self.up_since is None else round(now - self.up_since, 3)
        return WorkerSummary(
            worker_id=self.worker_id,
            device=self.device,
            state=self.state,
            pid=self.pid,
            host=self.host,
            restart_count=self.restart_count,
            last_exit=self.last_exit,
            heartbeat_age_ms=age,
            remote=not self.local,
            uptime_s=uptime,
            in_flight=in_flight,
            models=sorted(self.models),
            memory=None if self.memory is None else _api_memory(self.memory),
            drained=self.drained,
        )


def _api_memory(memory: MemoryInfo) -> WorkerMemory:
    return WorkerMemory(
        total_mb=memory.total_mb,
        available_mb=memory.available_mb,
        process_rss_mb=memory.process_rss_mb,
        device_used_mb=memory.device_used_mb,
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
        self.clock = clock
        self._workers: dict[str, WorkerState] = {}
        self._listeners: list[WorkerListener] = []

    def add_listener(self, listener: WorkerListener) -> None:
        self._listeners.append(listener)

    def workers(self) -> list[WorkerState]:
        return list(self._workers.values())

    def get(self, worker_id: str) -> WorkerState | None:
        return self._workers.get(worker_id)

    def require(self, worker_id: str) -> WorkerState:
        worker = self._workers.get(worker_id)
        if worker is None:
            raise ServiceError(
                ErrorCode.WORKER_NOT_FOUND,
                f"No worker {worker_id!r} is known to this gateway.",
                {"worker_id": worker_id, "workers": sorted(self._workers)},
            )
        return worker

    def summaries(self, in_flight: Callable[[str], int] | None = None) -> list[WorkerSummary]:
        now = self.clock()
        count = in_flight or (lambda worker_id: 0)
        return [w.summary(now, count(w.worker_id)) for w in self._workers.values()]

    def refusal(self, worker_id: str) -> ServiceError | None:
        """Why a worker takes no new request now (it is draining), or None."""
        worker = self._workers.get(worker_id)
        if worker is None or worker.state != "draining":
            return None
        return ServiceError(
            ErrorCode.WORKER_UNAVAILABLE,
            f"Worker {worker_id} is draining and takes no new work; try again shortly.",
            {"worker_id": worker_id, "state": worker.state},
        )

    # ------------------------------------------------------------ messages from workers

    def handle(self, worker_id: str, message: WorkerMessage) -> None:
        worker = self._workers.get(worker_id)
        if isinstance(message, Hello):
            self._on_hello(worker_id, message)
        elif worker is None:
            log.debug("%s from unknown worker %s", type(message).__name__, worker_id)
        elif isinstance(message, Heartbeat):
            self._on_heartbeat(worker, message)
        elif isinstance(message, Goodbye):
            self._on_goodbye(worker, message)
        elif isinstance(message, LoadResult):
            worker.models.add(message.model.model_id)
            self._measured(worker, message.memory)
        elif isinstance(message, UnloadResult):
            worker.models.discard(message.model_id)
            self._measured(worker, message.memory)

    def _measured(self, worker: WorkerState, memory: MemoryInfo | None) -> None:
        if memory is not None:
            worker.memory = memory
            worker.memory_at = self.clock()

    def _on_hello(self, worker_id: str, hello: Hello) -> None:
        worker = self._workers.setdefault(worker_id, WorkerState(worker_id, hello.device))
        if worker.state == "failed":
            log.warning("hello from failed worker %s ignored", worker_id)
            return
        worker.device = hello.device
        worker.pid = hello.pid
        worker.host = hello.host
        worker.compute_types = list(hello.compute_types)
        self._measured(worker, hello.memory)
        worker.reported = list(hello.models)
        worker.models = {m.model_id for m in hello.models}
        worker.last_heartbeat = worker.up_since = self.clock()
        worker.in_flight = 0
        log.info("worker %s ready (device %s, pid %s)", worker_id, hello.device, hello.pid)
        self._set_state(worker, "ready")
        for listener in self._listeners:
            listener.worker_ready(worker)

    def _on_heartbeat(self, worker: WorkerState, beat: Heartbeat) -> None:
        if worker.state not in _LIVE:
            log.debug("heartbeat from %s while %s", worker.worker_id, worker.state)
            return
        worker.last_heartbeat = self.clock()
        self._measured(worker, beat.memory)
        worker.in_flight = beat.in_flight
        worker.queues = beat.queues
        if worker.state != "draining":
            worker.state = "busy" if beat.in_flight else "ready"

    def _on_goodbye(self, worker: WorkerState, goodbye: Goodbye) -> None:
        log.info("worker %s says goodbye: %s %s", worker.worker_id, goodbye.reason, goodbye.message)
        if worker.local:
            return  # its exit code says the same, and the supervisor acts on that
        reason: ExitReason = "crash"
        for known in EXIT_REASONS:
            if known == goodbye.reason:
                reason = known
        self.mark_lost(worker.worker_id, worker_exit(reason, goodbye.message or goodbye.reason))

    # ------------------------------------------------------------ state changes

    def expect(self, worker_id: str, device: str, pid: int | None) -> WorkerState:
        """A local worker is being started: known before its hello arrives."""
        worker = self._workers.setdefault(worker_id, WorkerState(worker_id, device))
        worker.local = True
        worker.pid = pid
        worker.up_since = None
        self._set_state(worker, "starting")
        return worker

    def mark_hung(self, worker_id: str, exit: WorkerExit) -> None:
        worker = self._workers.get(worker_id)
        if worker is not None:
            worker.last_exit = exit
            log.warning("worker %s hung: %s", worker_id, exit.message)
            self._set_state(worker, "hung", exit.message)

    def mark_lost(self, worker_id: str, exit: WorkerExit) -> None:
        worker = self._workers.get(worker_id)
        if worker is None or worker.state in ("lost", "failed"):
            return
        worker.last_exit = exit
        worker.last_heartbeat = worker.up_since = None
        worker.models = set()
        worker.in_flight = 0
        worker.queues = []
        log.warning("worker %s lost: %s", worker_id, exit.message)
        self._set_state(worker, "lost", exit.message)
        for listener in self._listeners:
            listener.worker_lost(worker, exit.message)

    def mark_restarting(self, worker_id: str) -> None:
        worker = self._workers.get(worker_id)
        if worker is not None:
            worker.restart_count += 1
            self._set_state(worker, "restarting")

    def mark_failed(self, worker_id: str) -> None:
        worker = self._workers.get(worker_id)
        if worker is not None:
            cause = worker.last_exit.message if worker.last_exit else ""
            log.error("worker %s failed (crash loop); last exit: %s", worker_id, cause)
            self._set_state(worker, "failed", cause)

    def mark_draining(self, worker_id: str) -> None:
        worker = self._workers.get(worker_id)
        if worker is not None and worker.state in ("ready", "busy"):
            self._set_state(worker, "draining")

    def mark_drained(self, worker_id: str) -> None:
        """A drain has finished: nothing is in flight on the worker any more."""
        worker = self._workers.get(worker_id)
        if worker is not None and worker.state == "draining" and not worker.drained:
            worker.drained = True
            self.announce("worker.drained", worker)

    def mark_resumed(self, worker_id: str, reason: str) -> None:
        """An operator ended a drain: the worker takes new work again."""
        worker = self._workers.get(worker_id)
        if worker is not None and worker.state == "draining":
            self._set_state(worker, "ready", reason)

    def announce(self, name: EventName, worker: WorkerState, reason: str = "") -> None:
        """Publish a worker event that is not a state change (`worker.drained`)."""
        self._publish(name, worker, reason)

    def _set_state(self, worker: WorkerState, state: WorkerStateName, reason: str = "") -> None:
        worker.state = state
        worker.drained = False
        worker.state_since = self.clock()
        # Only a worker that takes new work wakes those waiting for one.
        if state in ("ready", "busy"):
            worker.ready.set()
        else:
            worker.ready.clear()
        self._publish(f"worker.{state}", worker, reason)  # type: ignore[arg-type]

    def _publish(self, name: EventName, worker: WorkerState, reason: str = "") -> None:
        data = WorkerChanged(
            worker_id=worker.worker_id,
            device=worker.device,
            state=worker.state,
            pid=worker.pid,
            reason=reason,
            host=worker.host,
            restart_count=worker.restart_count,
            remote=not worker.local,
            exit=worker.last_exit if worker.state in ("hung", "lost", "failed") else None,
        )
        self._events.publish(envelope(name, data))

    # ------------------------------------------------------------ waiting for a worker

    @property
    def ready_timeout_s(self) -> float:
        return self._ready_timeout_s

    async def wait_until_ready(self, workers: Sequence[WorkerState]) -> None:
        """Return once one of `workers` takes new work, or after `ready_timeout_s`.

        Which worker to use is placement's decision (gateway.models.placement)."""
        waits = [asyncio.create_task(w.ready.wait()) for w in workers]
        if not waits:
            return
        try:
            await asyncio.wait(waits, timeout=self._ready_timeout_s, return_when="FIRST_COMPLETED")
        finally:
            for task in waits:
                task.cancel()
