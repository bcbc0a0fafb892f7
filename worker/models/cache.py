"""The models one worker holds, speech (ASR) and translation (MT): load, unload, use, count.

Called from executor threads; a lock guards the table, never the model work itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

from protocol.errors import ErrorCode, ServiceError
from protocol.vocabulary import ModelKind
from protocol.wire.messages import DecodeSetup, LoadedModel, LoadModel, LoadStage
from protocol.wire.tuning import WorkerTuning
from worker import memory
from worker.decode_plan import DecodePlan, plan_decoding
from worker.engines.translation import TranslationEngine
from worker.engines.whisper import WhisperEngine, import_library
from worker.models.download_watch import DownloadFn
from worker.models.files import resolve_model_dir

ProgressFn = Callable[[LoadStage, float, float], None]
log = logging.getLogger(__name__)


class Engine(Protocol):
    """What the cache needs of any engine; callers get the concrete type through `use`."""

    def warm_up(self) -> None: ...


EngineT = TypeVar("EngineT", WhisperEngine, TranslationEngine)
_KIND_OF: dict[type[Engine], ModelKind] = {WhisperEngine: "asr", TranslationEngine: "mt"}


def open_engine(
    kind: ModelKind,
    model_dir: Path,
    device: str,
    compute_type: str,
    cpu_threads: int,
    plan: DecodePlan,
) -> Engine:
    if kind == "mt":
        # One translation batch runs at a time: threads as asked (0: CTranslate2's default).
        return TranslationEngine(str(model_dir), device, compute_type, cpu_threads)
    return WhisperEngine(str(model_dir), device, compute_type, plan)


@dataclass
class Tally:
    """How many requests one use of a model served (a batch serves several), and how many
    of them failed; an error escaping the use counts every request as failed."""

    requests: int = 1
    failed: int = 0


@dataclass
class _Entry:
    info: LoadedModel
    engine: Engine
    plan: DecodePlan
    in_flight: int = 0
    idle: threading.Condition = field(default_factory=threading.Condition)


class ModelCache:
    def __init__(
        self, device: str, tuning: WorkerTuning, cores: int, device_memory_mb: float | None = None
    ) -> None:
        self.device = device
        self._tuning = tuning
        self._cores = cores
        self._device_memory_mb = device_memory_mb
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._loading: set[str] = set()
        # Set once the engines' libraries are imported (at once if nobody asks for it).
        self._libraries_ready = threading.Event()
        self._libraries_ready.set()

    def import_libraries(self) -> None:
        """Import the speech library on a thread of its own, now: it takes about as long as
        loading tiny.en does, so a first load would otherwise pay twice. Loads wait for it
        (so the memory it takes is not counted as a model's)."""
        self._libraries_ready.clear()

        def run() -> None:
            try:
                import_library()
            except Exception:  # a broken install: the load that needs it will say so
                log.exception("importing faster-whisper failed")
            finally:
                self._libraries_ready.set()

        threading.Thread(target=run, name="import-libraries", daemon=True).start()

    def snapshot(self) -> list[LoadedModel]:
        with self._lock:
            return [_with_in_flight(e) for e in self._entries.values()]

    def in_flight(self) -> int:
        with self._lock:
            return sum(e.in_flight for e in self._entries.values())

    def load(
        self, request: LoadModel, progress: ProgressFn, downloading: DownloadFn | None = None
    ) -> LoadedModel:
        with self._lock:
            if request.model_id in self._entries:
                return _with_in_flight(self._entries[request.model_id])
            if request.model_id in self._loading:
                raise ServiceError(
                    ErrorCode.CONFIGURATION_ERROR,
                    f"Model {request.model_id} is already loading on this worker.",
                    {"model_id": request.model_id},
                )
            self._loading.add(request.model_id)
        try:
            entry = self._load(request, progress, downloading)
        finally:
            with self._lock:
                self._loading.discard(request.model_id)
        with self._lock:
            self._entries[request.model_id] = entry
        return entry.info

    def _load(
        self, request: LoadModel, progress: ProgressFn, downloading: DownloadFn | None
    ) -> _Entry:
        started = time.perf_counter()
        self._libraries_ready.wait()
        baseline = memory.device_used_mb(self.device)
        progress("resolving", 5.0, 0.0)
        model_dir = resolve_model_dir(request.model_id, request.source, downloading)
        # The load timeout counts from here: a download reports its own progress and
        # failures, and may rightly take longer than loading weights ever should.
        weights_started = time.perf_counter()
        progress("loading_weights", 20.0, 0.0)
        compute_type = request.compute_type  # the gateway resolved it: never "default"
        threads = request.cpu_threads or self._tuning.cpu_threads
        plan = self.decode_plan(threads)
        try:
            engine = open_engine(request.kind, model_dir, self.device, compute_type, threads, plan)
        except (RuntimeError, ValueError, OSError) as exc:
            raise _load_error(request.model_id, exc) from exc
        used = max(memory.device_used_mb(self.device) - baseline, 0.0)
        if request.warmup:
            progress("warming_up", 80.0, used)
            engine.warm_up()
            used = max(memory.device_used_mb(self.device) - baseline, 0.0)
        try:
            _check_deadline(request, weights_started)
        except ServiceError:
            # Too late: keep nothing of it, so a timed-out load leaves no model behind.
            del engine
            memory.release_freed_memory()
            raise
        info = LoadedModel(
            model_id=request.model_id,
            kind=request.kind,
            device=self.device,
            compute_type=compute_type,
            loaded_at=datetime.now(UTC).isoformat(),
            memory_usage_mb=round(used, 1),
            load_time_ms=round((time.perf_counter() - started) * 1000, 1),
            decoding=_setup(plan) if request.kind == "asr" else None,
        )
        return _Entry(info=info, engine=engine, plan=plan)

    def decode_plan(self, cpu_threads: int = 0) -> DecodePlan:
        """How a speech model of this worker runs its transcriptions (worker/decode_plan.py)."""
        return plan_decoding(
            self.device,
            self._cores,
            concurrency=self._tuning.asr_concurrency,
            threads=cpu_threads or self._tuning.cpu_threads,
            batch_size=self._tuning.asr_batch_size,
            device_memory_mb=self._device_memory_mb,
        )

    def plan_of(self, model_id: str) -> DecodePlan:
        """How a loaded speech model runs its transcriptions (errors as `require`)."""
        with self._lock:
            return self._entry(model_id, "asr").plan

    def unload(self, model_id: str) -> float:
        """Remove a model once its in-flight work is done; returns the measured MiB freed."""
        with self._lock:
            entry = self._entry(model_id, None)
            del self._entries[model_id]  # no new work reaches it from here on
        _drain(entry)
        before = memory.device_used_mb(self.device)
        del entry
        memory.release_freed_memory()
        return round(max(before - memory.device_used_mb(self.device), 0.0), 1)

    def require(self, model_id: str, kind: ModelKind) -> None:
        """Refuse at once what could not run: a model not loaded, or of another kind."""
        with self._lock:
            self._entry(model_id, kind)

    def acquire(self, model_id: str, kind: ModelKind | None = None) -> _Entry:
        """Count one inference in flight; `kind`, when given, must be the model's kind."""
        with self._lock:
            entry = self._entry(model_id, kind)
            entry.in_flight += 1
            return entry

    def _entry(self, model_id: str, kind: ModelKind | None) -> _Entry:
        entry = self._entries.get(model_id)
        if entry is None:
            raise ServiceError(
                ErrorCode.MODEL_NOT_LOADED,
                f"Model {model_id} is not loaded on this worker.",
                {"model_id": model_id, "device": self.device},
            )
        if kind is not None and entry.info.kind != kind:
            raise ServiceError(
                ErrorCode.CONFIGURATION_ERROR,
                f"Model {model_id} is an {entry.info.kind} model, not an {kind} model.",
                {"model_id": model_id, "kind": entry.info.kind, "expected_kind": kind},
            )
        return entry

    def release(self, entry: _Entry, requests: int = 1, failed: int = 0) -> None:
        """End one use that served `requests` requests, `failed` of them with an error."""
        with self._lock:
            entry.in_flight -= 1
            entry.info.inference_count += requests
            entry.info.inference_errors += failed
        with entry.idle:
            entry.idle.notify_all()

    @contextmanager
    def use(
        self, model_id: str, engine_type: type[EngineT], tally: Tally | None = None
    ) -> Iterator[EngineT]:
        """Hold a model for one inference (or one batch: say how it went in `tally`);
        a model of the wrong kind is refused."""
        tally = tally or Tally()
        entry = self.acquire(model_id, _KIND_OF[engine_type])
        engine = entry.engine
        assert isinstance(engine, engine_type)  # the kind check above guarantees it
        ok = False
        try:
            yield engine
            ok = True
        finally:
            self.release(entry, tally.requests, tally.failed if ok else tally.requests)


def _check_deadline(request: LoadModel, started: float) -> None:
    elapsed_ms = (time.perf_counter() - started) * 1000
    if request.timeout_ms and elapsed_ms > request.timeout_ms:
        raise ServiceError(
            ErrorCode.LOADING_TIMEOUT,
            f"Loading {request.model_id} took {elapsed_ms:.0f} ms, over its limit of "
            f"{request.timeout_ms} ms; nothing was kept.",
            {"model_id": request.model_id, "timeout_ms": request.timeout_ms},
        )


def _drain(entry: _Entry) -> None:
    with entry.idle:
        entry.idle.wait_for(lambda: entry.in_flight == 0)


def _with_in_flight(entry: _Entry) -> LoadedModel:
    info = entry.info
    return LoadedModel(
        model_id=info.model_id,
        kind=info.kind,
        device=info.device,
        compute_type=info.compute_type,
        loaded_at=info.loaded_at,
        memory_usage_mb=info.memory_usage_mb,
        load_time_ms=info.load_time_ms,
        inference_count=info.inference_count,
        inference_errors=info.inference_errors,
        in_flight=entry.in_flight,
        decoding=info.decoding,
    )


def _setup(plan: DecodePlan) -> DecodeSetup:
    return DecodeSetup(
        concurrency=plan.concurrency,
        threads=plan.threads,
        replicas=plan.replicas,
        max_batch_size=plan.max_batch_size,
        batch_encode=plan.batch_encode,
        chosen=plan.chosen,
        bulk_slots=plan.bulk_limit,
    )


def _load_error(model_id: str, exc: Exception) -> ServiceError:
    text = str(exc)
    if "out of memory" in text.lower() or isinstance(exc, MemoryError):
        return ServiceError(
            ErrorCode.INSUFFICIENT_MEMORY, f"Out of memory loading {model_id}.", {"reason": text}
        )
    if "compute type" in text.lower() or "device" in text.lower():
        return ServiceError(ErrorCode.UNSUPPORTED_DEVICE, text, {"model_id": model_id})
    return ServiceError(
        ErrorCode.CONFIGURATION_ERROR, f"Model {model_id} failed to load: {text}", {}
    )
