"""The worker's I/O thread: one DEALER socket to the gateway, heartbeats, dispatch.

Model work runs on executor threads; this thread only moves frames, so it keeps
heartbeating and answering status while a model loads or transcribes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import msgspec
import zmq

from protocol.errors import ErrorCode, ServiceError, failing_field
from protocol.log_lines import request_logging
from protocol.wire.messages import (
    Cancel,
    DetectLanguage,
    DownloadModel,
    ErrorReply,
    GatewayMessage,
    Goodbye,
    Heartbeat,
    Hello,
    HelloRequest,
    LanguagesDetected,
    LoadModel,
    LoadProgress,
    LoadResult,
    LoadStage,
    Shutdown,
    StatusReply,
    StatusRequest,
    StreamAudio,
    StreamEnd,
    StreamOpen,
    Transcribe,
    Translate,
    UnloadModel,
    UnloadResult,
    decode_from_gateway,
    encode,
)
from protocol.wire.tuning import WorkerTuning
from worker import memory
from worker.curve_client import CurveKeys, secure
from worker.devices import supported_compute_types, usable_cores
from worker.engines import language_id
from worker.models.cache import ModelCache
from worker.models.prefetch import prefetch
from worker.outbox import Outbox
from worker.scheduling.inference import InferenceQueues
from worker.scheduling.live_streams import LiveStreams

log = logging.getLogger(__name__)

# Long enough for a last goodbye to leave, short enough if the gateway is gone.
_GOODBYE_LINGER_MS = 250


@dataclass(frozen=True)
class WorkerConfig:
    worker_id: str
    device: str
    connect: str
    parent_pid: int | None = None
    heartbeat_interval_s: float = 1.0
    executor_threads: int = 4
    # CURVE keys for a tcp:// gateway (a remote worker); None over ipc://.
    curve: CurveKeys | None = None
    # Threads per model, batching of translations, the bound on each lane, ASR concurrency.
    tuning: WorkerTuning = field(default_factory=WorkerTuning)


class WorkerServer:
    def __init__(self, config: WorkerConfig) -> None:
        self.config = config
        self._context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
        self._socket: zmq.Socket[bytes] = self._context.socket(zmq.DEALER)
        self._socket.setsockopt(zmq.IDENTITY, config.worker_id.encode())
        self._socket.setsockopt(zmq.LINGER, 0)
        if config.curve is not None:
            secure(self._socket, config.curve)
        self._outbox = Outbox(self._context, f"inproc://outbox-{id(self)}")
        self._cache = ModelCache(
            config.device, config.tuning, usable_cores(), _device_memory_mb(config.device)
        )
        # Room for every transcription a model may run at once, beside loads and batches.
        threads = config.executor_threads + 2 * self._cache.decode_plan().concurrency
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="model")
        self._inference = InferenceQueues(
            self._cache, self._outbox, config.tuning, self._executor.submit
        )
        self._live = LiveStreams(
            self._cache,
            self._outbox,
            self._inference.lanes,
            config.tuning,
            self._executor.submit,
        )
        self._running = True
        self._heartbeat_seq = 0

    def stop(self) -> None:
        """Ask the I/O loop to end (safe from a signal handler: it only sets a flag)."""
        self._running = False

    def say_goodbye(self, reason: str, message: str) -> None:
        """Tell the gateway why we are about to end (safe from any thread)."""
        self._outbox.send(Goodbye(worker_id=self.config.worker_id, reason=reason, message=message))

    # ------------------------------------------------------------ I/O loop

    def serve(self) -> None:
        self._socket.connect(self.config.connect)
        self._send(self._hello())
        self._cache.import_libraries()  # after the hello: the worker is ready meanwhile
        poller = zmq.Poller()
        poller.register(self._socket, zmq.POLLIN)
        poller.register(self._outbox.receiver, zmq.POLLIN)
        next_beat = time.monotonic() + self.config.heartbeat_interval_s
        try:
            while self._running:
                timeout_ms = max(0, int((next_beat - time.monotonic()) * 1000))
                ready = dict(poller.poll(timeout_ms))
                if self._socket in ready:
                    self._dispatch(self._socket.recv_multipart())
                if self._outbox.receiver in ready:
                    self._socket.send_multipart(self._outbox.receiver.recv_multipart())
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + self.config.heartbeat_interval_s
                    self._beat()
        finally:
            with contextlib.suppress(zmq.ZMQError):
                self._send(Goodbye(worker_id=self.config.worker_id, reason="shutdown"))
            self._close()

    def _beat(self) -> None:
        if self.config.parent_pid is not None and os.getppid() != self.config.parent_pid:
            # Our gateway is gone (even by SIGKILL): never linger holding a device.
            log.warning("gateway process %s is gone; worker exits", self.config.parent_pid)
            self._running = False
            return
        self._heartbeat_seq += 1
        self._send(
            Heartbeat(
                worker_id=self.config.worker_id,
                seq=self._heartbeat_seq,
                memory=memory.memory_info(self.config.device),
                in_flight=self._cache.in_flight(),
                queues=self._inference.depths(),
            )
        )

    def _dispatch(self, frames: list[bytes]) -> None:
        try:
            message = decode_from_gateway(frames[0])
        except msgspec.ValidationError as exc:
            self._refuse(frames[0], exc)
            return
        except (msgspec.DecodeError, IndexError) as exc:
            log.warning("dropped a malformed frame from the gateway: %s", exc)
            return
        self._handle(message, frames[1:])

    def _refuse(self, frame: bytes, exc: msgspec.ValidationError) -> None:
        """A request that decodes but breaks the protocol (an option out of its range, say)
        is answered with an error, so its caller does not wait; anything else is dropped."""
        request_id = _request_id(frame)
        if request_id is None:
            log.warning("dropped a malformed frame from the gateway: %s", exc)
            return
        field = failing_field(exc)
        self._send(
            ErrorReply(
                request_id=request_id,
                code=ErrorCode.INVALID_REQUEST,
                message=f"The worker refused the request: {exc}",
                details={"field": field} if field else {},
            )
        )

    def _handle(self, message: GatewayMessage, payload: list[bytes]) -> None:
        match message:
            case StatusRequest(request_id=rid):
                self._send(
                    StatusReply(
                        request_id=rid,
                        models=self._cache.snapshot(),
                        memory=memory.memory_info(self.config.device),
                    )
                )
            case LoadModel():
                self._submit(message.request_id, self._load, message)
            case UnloadModel():
                self._submit(message.request_id, self._unload, message)
            case DownloadModel():
                self._submit(message.request_id, prefetch, message, self._outbox.send)
            case Transcribe():
                self._inference.transcribe(message, b"".join(payload))
            case DetectLanguage():
                self._submit(message.request_id, self._detect_language, message)
            case Translate():
                self._inference.translate(message)
            case StreamOpen():
                self._live.open(message, payload)
            case StreamAudio():
                self._live.audio(message, payload)
            case StreamEnd():
                self._live.end(message)
            case Cancel(request_id=rid):
                if not self._live.cancel(rid):
                    self._inference.cancel(rid)  # loads and other requests run to their end
            case HelloRequest():
                self._send(self._hello())  # the gateway lost track of us: re-admit with our models
            case Shutdown(reason=reason):
                log.info("shutdown requested: %s", reason)
                self._running = False

    # ------------------------------------------------------------ work on executor threads

    def _submit(self, request_id: str, fn: Callable[..., None], *args: Any) -> None:
        # The HTTP request's id (the message's, when it has one) goes on every log line.
        http_request_id = str(getattr(args[0], "http_request_id", "")) if args else ""

        def run() -> None:
            with request_logging(http_request_id):
                run_logged()

        def run_logged() -> None:
            try:
                fn(*args)
            except ServiceError as exc:
                self._outbox.send(
                    ErrorReply(
                        request_id=request_id,
                        code=exc.code,
                        message=exc.message,
                        details=exc.details,
                    )
                )
            except Exception as exc:
                log.exception("request %s failed", request_id)
                self._outbox.send(
                    ErrorReply(
                        request_id=request_id,
                        code=ErrorCode.INFERENCE_ERROR,
                        message=f"{type(exc).__name__}: {exc}",
                    )
                )

        self._executor.submit(run)

    def _load(self, request: LoadModel) -> None:
        def progress(stage: LoadStage, percent: float, used_mb: float) -> None:
            self._outbox.send(
                LoadProgress(
                    request_id=request.request_id,
                    model_id=request.model_id,
                    stage=stage,
                    progress=percent,
                    memory_used_mb=round(used_mb, 1),
                )
            )

        def downloading(done: int, total: int) -> None:
            # The download fills the span between resolving (5 %) and loading_weights (20 %).
            self._outbox.send(
                LoadProgress(
                    request_id=request.request_id,
                    model_id=request.model_id,
                    stage="downloading",
                    progress=round(5.0 + 15.0 * done / total, 1) if total else 20.0,
                    memory_used_mb=0.0,
                    downloaded_bytes=done,
                    total_bytes=total,
                )
            )

        model = self._cache.load(request, progress, downloading)
        log.info(
            "loaded %s (%s) in %.0f ms, %.0f MB",
            model.model_id,
            model.compute_type,
            model.load_time_ms,
            model.memory_usage_mb,
        )
        self._outbox.send(
            LoadResult(
                request_id=request.request_id,
                model=model,
                memory=memory.memory_info(self.config.device),
            )
        )

    def _unload(self, request: UnloadModel) -> None:
        freed = self._cache.unload(request.model_id)
        self._live.model_unloaded(request.model_id)
        log.info("unloaded %s, %.0f MB freed", request.model_id, freed)
        self._outbox.send(
            UnloadResult(
                request_id=request.request_id,
                model_id=request.model_id,
                memory_freed_mb=freed,
                memory=memory.memory_info(self.config.device),
            )
        )

    def _detect_language(self, request: DetectLanguage) -> None:
        languages = language_id.detect(request.texts, request.candidates)
        self._outbox.send(LanguagesDetected(request_id=request.request_id, languages=languages))

    # ------------------------------------------------------------ helpers

    def _hello(self) -> Hello:
        return Hello(
            worker_id=self.config.worker_id,
            device=self.config.device,
            pid=os.getpid(),
            host=socket.gethostname(),
            compute_types=supported_compute_types(self.config.device),
            memory=memory.memory_info(self.config.device),
            models=self._cache.snapshot(),
        )

    def _send(self, message: Hello | Heartbeat | StatusReply | Goodbye | ErrorReply) -> None:
        self._socket.send(encode(message))

    def _close(self) -> None:
        self._inference.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._outbox.close()
        self._socket.close(linger=_GOODBYE_LINGER_MS)
        self._context.term()


def _device_memory_mb(device: str) -> float | None:
    """A GPU's total memory (the decode plan weighs it); None on a CPU."""
    if not device.startswith("cuda"):
        return None
    return memory.memory_info(device).total_mb


def _request_id(frame: bytes) -> str | None:
    """The request id of a frame that is msgpack but not a valid message, if it has one."""
    try:
        raw = msgspec.msgpack.decode(frame)
    except msgspec.DecodeError:
        return None
    request_id = raw.get("request_id") if isinstance(raw, dict) else None
    return request_id if isinstance(request_id, str) and request_id else None
