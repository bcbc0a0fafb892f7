"""Plain stand-ins for the models tests: workers as the pool records them, and a link that
answers the manager's few calls in memory (the real one speaks ZeroMQ to worker processes)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import msgspec

from gateway.workers.pool import WorkerState
from gateway.workers.request_stream import RequestStream
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
    WorkerMessage,
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
    """Answers StatusRequest with `memory`, UnloadModel at once, and a LoadModel stream once
    `release` is set (after its `progress` partials); `load_sent` tells a LoadModel arrived.
    Every message sent is kept, in order. As a worker does, a load takes `load_mb` of its
    `memory` and an unload gives it back, and both replies carry the figure after; like the
    real link, it hands those replies to `on_message` (the pool) too."""

    def __init__(
        self,
        memory_info: MemoryInfo,
        load_mb: float = 300.0,
        on_message: Callable[[str, WorkerMessage], None] | None = None,
    ) -> None:
        self.memory = memory_info
        self.load_mb = load_mb
        self.on_message = on_message
        self.sent: list[GatewayMessage] = []
        self.release = asyncio.Event()
        self.load_sent = asyncio.Event()
        self.progress: list[LoadProgress] = []
        self._ids = itertools.count(1)
        self._streams: dict[str, RequestStream] = {}

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
    ) -> FinalReply:
        self.sent.append(message)
        await asyncio.sleep(0)  # a real round trip yields to other tasks
        if isinstance(message, StatusRequest):
            return StatusReply(request_id=request_id, models=[], memory=self.memory)
        if isinstance(message, UnloadModel):
            self._use_mb(-self.load_mb)
            reply = UnloadResult(
                request_id=request_id,
                model_id=message.model_id,
                memory_freed_mb=self.load_mb,
                memory=self.memory,
            )
            self._tell(worker_id, reply)
            return reply
        raise AssertionError(f"the manager sent {message!r} through request()")

    def stream(
        self,
        worker_id: str,
        message: GatewayMessage,
        *payload: bytes,
        request_id: str,
        stall_timeout_s: float | None = None,
    ) -> RequestStream:
        return RequestStream(self, worker_id, message, payload, request_id, stall_timeout_s)

    # ------------------------------------------------------------ as the stream's host

    def open_stream(self, stream: RequestStream) -> None:
        self._streams[stream.request_id] = stream

    def close_stream(self, stream: RequestStream, cancel: bool) -> None:
        pass

    async def send(self, worker_id: str, message: GatewayMessage, *payload: bytes) -> None:
        assert isinstance(message, LoadModel), message
        self.sent.append(message)
        self.load_sent.set()
        asyncio.get_running_loop().create_task(self._answer_load(message))

    async def _answer_load(self, message: LoadModel) -> None:
        await self.release.wait()
        stream = self._streams[message.request_id]
        for progress in self.progress:
            stream.deliver(progress)
        model = LoadedModel(
            model_id=message.model_id,
            kind=message.kind,
            device="cpu",
            compute_type=message.compute_type,
            loaded_at="2026-01-01T00:00:00+00:00",
            memory_usage_mb=self.load_mb,
            load_time_ms=5.0,
        )
        self._use_mb(self.load_mb)
        result = LoadResult(request_id=message.request_id, model=model, memory=self.memory)
        self._tell(stream.worker_id, result)
        stream.deliver(result)
        stream.ended()

    def _use_mb(self, mb: float) -> None:
        available = max(self.memory.available_mb - mb, 0.0)
        self.memory = msgspec.structs.replace(self.memory, available_mb=available)

    def _tell(self, worker_id: str, reply: WorkerMessage) -> None:
        if self.on_message is not None:
            self.on_message(worker_id, reply)
