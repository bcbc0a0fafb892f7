"""Plain stand-ins for the models tests: workers as the pool records them, and a link that
answers the manager's few calls in memory (the real one speaks ZeroMQ to worker processes)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

from gateway.workers.pool import WorkerState
from protocol.api.lifecycle import WorkerStateName
from protocol.wire.messages import (
    FinalReply,
    GatewayMessage,
    LoadedModel,
    LoadModel,
    LoadProgress,
    LoadResult,
    MemoryInfo,
    StatusReply,
    StatusRequest,
    UnloadModel,
    UnloadResult,
)


def memory(available_mb: float, *, rss_mb: float = 50.0, device_used_mb: float = 0.0) -> MemoryInfo:
    return MemoryInfo(
        total_mb=max(available_mb * 2, 1000.0),
        available_mb=available_mb,
        process_rss_mb=rss_mb,
        device_used_mb=device_used_mb,
    )


def worker(
    worker_id: str,
    device: str = "cpu",
    *,
    free_mb: float | None = 10_000.0,
    state: WorkerStateName = "ready",
    models: tuple[str, ...] = (),
    compute_types: tuple[str, ...] = ("int8", "float32"),
) -> WorkerState:
    """A worker as the pool knows it; `ready`/`busy` take new work, as in the pool."""
    found = WorkerState(worker_id, device, state=state)
    found.memory = None if free_mb is None else memory(free_mb)
    found.models = set(models)
    found.compute_types = list(compute_types)
    if state in ("ready", "busy"):
        found.ready.set()
    return found


class FakeLink:
    """Answers StatusRequest with `memory`, UnloadModel at once, and LoadModel once
    `release` is set (after reporting `progress`); `load_sent` tells a LoadModel arrived.
    Every message sent is kept, in order."""

    def __init__(self, memory_info: MemoryInfo, load_mb: float = 300.0) -> None:
        self.memory = memory_info
        self.load_mb = load_mb
        self.sent: list[GatewayMessage] = []
        self.release = asyncio.Event()
        self.load_sent = asyncio.Event()
        self.progress: list[LoadProgress] = []
        self._ids = itertools.count(1)

    def new_request_id(self) -> str:
        return f"r{next(self._ids)}"

    def names(self) -> list[str]:
        """What was sent, as `Type model` (or just `Type`), to compare sequences plainly."""
        return [
            f"{type(m).__name__} {m.model_id}"
            if isinstance(m, LoadModel | UnloadModel)
            else type(m).__name__
            for m in self.sent
        ]

    async def request(
        self,
        worker_id: str,
        message: GatewayMessage,
        *payload: bytes,
        request_id: str,
        on_progress: Callable[[LoadProgress], None] | None = None,
    ) -> FinalReply:
        self.sent.append(message)
        await asyncio.sleep(0)  # a real round trip yields to other tasks
        if isinstance(message, StatusRequest):
            return StatusReply(request_id=request_id, models=[], memory=self.memory)
        if isinstance(message, UnloadModel):
            return UnloadResult(
                request_id=request_id, model_id=message.model_id, memory_freed_mb=self.load_mb
            )
        raise AssertionError(f"the manager sent {message!r} through request()")

    async def request_until_stalled(
        self,
        worker_id: str,
        message: GatewayMessage,
        *,
        request_id: str,
        on_progress: Callable[[LoadProgress], None],
        stall_timeout_s: float,
    ) -> FinalReply:
        assert isinstance(message, LoadModel), message
        self.sent.append(message)
        self.load_sent.set()
        await self.release.wait()
        for progress in self.progress:
            on_progress(progress)
        model = LoadedModel(
            model_id=message.model_id,
            kind=message.kind,
            device="cpu",
            compute_type=message.compute_type,
            loaded_at="2026-01-01T00:00:00+00:00",
            memory_usage_mb=self.load_mb,
            load_time_ms=5.0,
        )
        return LoadResult(request_id=request_id, model=model)
