"""Model lifecycle at the gateway: place, admit, load, unload and evict through the workers.

Loads run as tasks: the HTTP answer comes at once and progress follows as events.
Callers asking for a model that is already loading join that one load, and a load goes
on when the client that asked for it disconnects.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

from gateway.catalog import CatalogEntry
from gateway.catalog.discovery import load_source
from gateway.catalog.known_models import KnownModels
from gateway.models.availability import Availability, is_on_disk, offline_refusal
from gateway.models.cache_policy import CachedModel, CachePolicy, Eviction
from gateway.models.load_events import LoadEvents
from gateway.models.load_slots import LoadSlots
from gateway.models.memory_estimate import MemoryEstimator, effective_compute_type
from gateway.models.placement import Placement, WorkerWait, check_compute_type
from gateway.models.records import ModelRecord, Revision, utc_now
from gateway.models.suggestions import suggestions_for
from gateway.models.worker_calls import ModelLink, refresh_memory
from gateway.settings import Settings
from gateway.workers.pool import WorkerPool, WorkerState
from protocol.api.catalog import ASRModelInfo, ModelLocation
from protocol.api.lifecycle import (
    LoadComputeConfig,
    LoadModelRequest,
    LoadModelResponse,
    ModelStatus,
    UnloadModelResponse,
)
from protocol.errors import ErrorCode, ServiceError
from protocol.log_lines import REQUEST_ID
from protocol.vocabulary import ComputeType, ModelKind
from protocol.wire.messages import (
    LoadModel,
    LoadProgress,
    LoadResult,
    ModelSource,
    UnloadModel,
    UnloadResult,
)

log = logging.getLogger(__name__)


class ModelManager:
    def __init__(
        self,
        settings: Settings,
        known: KnownModels,
        link: ModelLink,
        pool: WorkerPool,
        events: LoadEvents,
        policy: CachePolicy,
        clock: Callable[[], float] = time.monotonic,
        on_use: Callable[[str], None] | None = None,
    ) -> None:
        self._settings = settings
        self.known = known
        self.catalog = catalog = known.catalog
        self.link = link
        self._pool = pool
        self.events = events
        self.policy = policy
        self.clock = clock
        self._on_use = on_use
        self._discovery = known.discovery
        self.estimator = MemoryEstimator()
        self._records: dict[str, ModelRecord] = {}
        # Grows with every change to what statuses() shows (see records.Revision).
        self.revision = Revision()
        self._slots = LoadSlots()
        self._placement = Placement(
            catalog, self.estimator, policy, settings.worker_memory_limit_mb
        )

    # ------------------------------------------------------------ queries

    def entry(self, model_id: str) -> CatalogEntry:
        """The catalog entry, or one made from an uncatalogued local model (`local/...`);
        MODEL_NOT_FOUND otherwise (see KnownModels)."""
        return self.known.entry(model_id)

    def record(self, model_id: str) -> ModelRecord:
        record = self._records.get(model_id)
        if record is None:
            kind = self.entry(model_id).kind
            record = ModelRecord(model_id=model_id, kind=kind, revision=self.revision)
            self._records[model_id] = record
            self.revision.bump()  # one more model in the list (a local one)
        return record

    def records(self) -> list[ModelRecord]:
        return list(self._records.values())

    def statuses(self, locations: Mapping[str, ModelLocation] | None = None) -> list[ModelStatus]:
        """Every catalog model's status (and local models that were used); `locations`:
        discovery's (read here when not given), for models never loaded."""
        if locations is None and self._discovery is not None:
            locations = self._discovery.locations()
        ids = [e.model_id for e in self.catalog.asr_entries() + self.catalog.mt_entries()]
        ids += [i for i in self._records if i not in ids]  # local models that were used
        checked_at = self._discovery.checked_at if self._discovery is not None else None
        now = self.clock()
        statuses = []
        for model_id in ids:
            availability = None
            if locations is not None and checked_at is not None:
                on_disk = is_on_disk(locations.get(model_id))
                availability = Availability(on_disk, self._settings.offline, checked_at)
            statuses.append(self.record(model_id).to_status(availability, now))
        return statuses

    def cached_models(self) -> list[CachedModel]:
        """The loaded models as the cache policy sees them."""
        return [
            CachedModel(
                model_id=r.model_id,
                worker_id=r.worker_id or "",
                memory_mb=r.memory_usage_mb,
                loaded_at=r.loaded_mono,
                last_used=r.last_used,
                use_count=r.stats.count,
                busy=r.busy,
            )
            for r in self._records.values()
            if r.status in ("loaded", "unloading")
        ]

    # ------------------------------------------------------------ load

    async def load(
        self, model_id: str, request: LoadModelRequest, sid: str | None = None
    ) -> LoadModelResponse:
        entry = self.entry(model_id)
        record = self.record(model_id)
        if self._settled(record):
            return self._join(record, entry, sid)
        config = request.compute_config or LoadComputeConfig()
        # One caller at a time decides placement and admission; the others then join its load.
        async with record.admission:
            if self._settled(record):
                return self._join(record, entry, sid)
            try:
                worker = await self.worker_for(
                    entry, config.device or self._settings.default_device
                )
                if config.compute_type is not None:
                    check_compute_type(worker, config.compute_type)
                compute_type = effective_compute_type(config.compute_type, worker.device)
                await self._refuse_offline(entry, worker, compute_type)
                required = await self._admit(entry, worker, compute_type)
            except ServiceError as error:
                if error.code not in _REQUEST_ERRORS:
                    record.mark_failed(error)
                self.events.failed(model_id, error, self._suggestions(error, model_id), sid)
                raise
            self._start_load(record, entry, worker, compute_type, required, request, sid)
        return self._response(record, entry, required)

    async def worker_for(self, entry: CatalogEntry, device: str) -> WorkerState:
        """Placement's choice; when no worker is ready yet, wait for one through the pool."""
        choice = self._placement.choose_worker(entry, device, self._pool.workers(), self.clock())
        if isinstance(choice, WorkerWait):
            await self._pool.wait_until_ready(choice.workers)
            return choice.ready_worker(self._pool.ready_timeout_s)
        return choice

    async def _admit(self, entry: CatalogEntry, worker: WorkerState, compute_type: str) -> float:
        """Carry out placement's admission: unload for the cache's limit, measure the worker,
        then unload what makes room (or refuse); returns the memory the load needs."""
        for eviction in self._placement.cache_full(self.cached_models()):
            await self.evict(eviction)
        # Measured after those unloads (their replies carry the figure), so what they freed
        # counts; a figure older than two heartbeats is asked for again.
        max_age_s = _FRESH_MEMORY_BEATS * self._settings.heartbeat_interval_s
        await refresh_memory(self.link, worker, self._pool.clock(), max_age_s)
        admission = self._placement.admit(entry, worker, compute_type, self.cached_models())
        for eviction in admission.evictions:
            await self.evict(eviction)
        return admission.required_mb

    def _start_load(
        self,
        record: ModelRecord,
        entry: CatalogEntry,
        worker: WorkerState,
        compute_type: ComputeType,
        required: float,
        request: LoadModelRequest,
        sid: str | None,
    ) -> None:
        if self._on_use is not None:
            self._on_use(record.model_id)
        record.status = "loading"
        record.watchers = {sid} if sid else set()
        record.worker_id = worker.worker_id
        record.device = worker.device
        record.compute_type = compute_type
        record.loading = asyncio.create_task(
            self._run_load(record, entry, worker, compute_type, required, request, sid),
            name=f"load {record.model_id}",
        )

    async def ensure_loaded(self, model_id: str, sid: str | None = None) -> ModelRecord:
        """Load on demand and wait; raises the load's own error if it fails."""
        record = self.record(model_id)
        if record.status != "loaded":
            await self.load(model_id, LoadModelRequest(), sid)
            if record.loading is not None:
                await asyncio.shield(record.loading)
        if record.status != "loaded":
            raise record.error or ServiceError(
                ErrorCode.MODEL_NOT_LOADED, f"Model {model_id} is not loaded.", {}
            )
        return record

    def _join(self, record: ModelRecord, entry: CatalogEntry, sid: str | None) -> LoadModelResponse:
        """A caller joining a load under way sees its events too."""
        if sid and record.status == "loading":
            record.watchers.add(sid)
        return self._response(record, entry)

    def _settled(self, record: ModelRecord) -> bool:
        """Loaded, or a load is under way that a new caller joins."""
        loading = record.loading is not None and not record.loading.done()
        return record.status == "loaded" or loading

    async def _refuse_offline(
        self, entry: CatalogEntry, worker: WorkerState, compute_type: str
    ) -> None:
        """DOWNLOAD_REQUIRED at once when the load could only fail offline; before anything
        is unloaded to make room for it."""
        if self._discovery is None:
            return
        location = self._discovery.location(entry.model_id)
        if offline_refusal(entry, location, self._settings.offline, not worker.local) is None:
            return
        # A model that could never fit is refused for that first (507), as online: no
        # download would help. Measuring is all the worker is asked.
        max_age_s = _FRESH_MEMORY_BEATS * self._settings.heartbeat_interval_s
        await refresh_memory(self.link, worker, self._pool.clock(), max_age_s)
        self._placement.admit(entry, worker, compute_type, self.cached_models())
        weights = entry.weights
        listed = self._discovery.cached_listing_bytes(weights.repo_id, weights.revision)
        refusal = offline_refusal(entry, location, True, False, listed)
        assert refusal is not None
        raise refusal

    def suggestions(self, error: ServiceError, model_id: str) -> list[str]:
        """What a client may do about a load that failed (as its load.failed event says)."""
        return self._suggestions(error, model_id)

    def _suggestions(self, error: ServiceError, model_id: str) -> list[str]:
        smaller = error.details.get("suggested_alternatives") or self.catalog.closest(model_id)
        entry = self.catalog.get(model_id)
        kind: ModelKind = entry.kind if entry is not None else self.record(model_id).kind
        return suggestions_for(error, model_id, list(smaller), kind, self._ready_here(kind))

    def _ready_here(self, kind: ModelKind) -> str | None:
        """A model of this kind that loads with no download: the default if it is on this
        machine, else the first catalog model that is."""
        settings = self._settings
        default = settings.default_asr_model if kind == "asr" else settings.default_mt_model
        entries = self.catalog.asr_entries() if kind == "asr" else self.catalog.mt_entries()
        candidates = [default, *(e.model_id for e in entries if e.model_id != default)]
        if self._discovery is None:
            return None
        for model_id in candidates:
            if is_on_disk(self._discovery.location(model_id)):
                return model_id
        return None

    def _response(
        self, record: ModelRecord, entry: CatalogEntry, required: float | None = None
    ) -> LoadModelResponse:
        loaded = record.status == "loaded"
        warnings = []
        info = entry.info
        if (
            record.device == "cpu"
            and isinstance(info, ASRModelInfo)
            and info.hardware_requirements.gpu_recommended
        ):
            warnings.append(f"{entry.model_id} is recommended on a GPU; it runs on CPU here")
        return LoadModelResponse(
            model_id=record.model_id,
            status="loaded" if loaded else "loading",
            memory_allocated_mb=record.memory_usage_mb if loaded else float(required or 0.0),
            estimated_load_time_ms=None if loaded else self._estimate_load_ms(record, entry),
            device=record.device,
            worker_id=record.worker_id,
            warnings=warnings,
        )

    def _estimate_load_ms(self, record: ModelRecord, entry: CatalogEntry) -> float:
        # The last measured load of this model, else a size-based guess (~10 ms per MB
        # plus start-up, close to what tiny.en measures here).
        if record.load_time_ms is not None:
            return record.load_time_ms
        return round(500.0 + 10.0 * float(entry.info.size_mb))

    async def _run_load(
        self,
        record: ModelRecord,
        entry: CatalogEntry,
        worker: WorkerState,
        compute_type: ComputeType,
        required_mb: float,
        request: LoadModelRequest,
        sid: str | None,
    ) -> None:
        request_id = self.link.new_request_id()
        message = LoadModel(
            request_id=request_id,
            model_id=record.model_id,
            kind=record.kind,
            source=self.source_for(entry),
            compute_type=compute_type,
            cpu_threads=self._settings.worker_tuning.cpu_threads,
            warmup=request.preload_cache,
            timeout_ms=self._settings.load_timeout_ms,
            http_request_id=REQUEST_ID.get() or "",
        )

        # The worker enforces the load timeout itself and discards a late model; the
        # grace covers a worker stuck inside one blocking call. Progress keeps it alive.
        stall_timeout_s = self._settings.load_timeout_ms / 1000 + _TIMEOUT_GRACE_S
        try:
            async with self._slots.slot(worker.worker_id, request.priority):
                self.events.started(record, self._estimate_load_ms(record, entry), required_mb, sid)
                async with self.link.stream(
                    worker.worker_id,
                    message,
                    request_id=message.request_id,
                    stall_timeout_s=stall_timeout_s,
                ) as stream:
                    async for partial in stream:
                        if isinstance(partial, LoadProgress):
                            self.events.progress(record, partial, sid)
                    reply = stream.final
            assert isinstance(reply, LoadResult)
        except TimeoutError:
            self._fail(record, sid, _timeout_error(record.model_id, self._settings))
            return
        except ServiceError as exc:
            self._fail(record, sid, exc)
            return
        record.mark_loaded(reply.model, worker.worker_id)
        record.loaded_mono = record.last_used = self.clock()
        model = reply.model
        self.estimator.record(
            model.model_id, model.compute_type, model.device, model.memory_usage_mb
        )
        self.events.completed(record, model, sid)

    def source_for(self, entry: CatalogEntry) -> ModelSource:
        """The folder discovery found on this machine, else where to download from."""
        location = None if self._discovery is None else self._discovery.location(entry.model_id)
        if location is not None:
            return load_source(location, entry.weights)
        weights = entry.weights
        return ModelSource(
            bundled=weights.bundled, repo_id=weights.repo_id, revision=weights.revision
        )

    def _fail(self, record: ModelRecord, sid: str | None, error: ServiceError) -> None:
        log.warning("load of %s failed: %s %s", record.model_id, error.code, error.message)
        entry = self.catalog.get(record.model_id)
        if error.code == ErrorCode.DOWNLOAD_REQUIRED and entry and "size_mb" not in error.details:
            # The worker knows a size only from a listing; offline, the catalog's is the best.
            error.details["size_mb"] = float(entry.info.size_mb)
        if error.code == ErrorCode.DOWNLOAD_REQUIRED and entry and entry.weights.revision:
            # The advice to download names the commit the catalog pins, as discovery wants it.
            error.details.setdefault("revision", entry.weights.revision)
        record.mark_failed(error)
        suggestions = self._suggestions(error, record.model_id)
        self.events.failed(record.model_id, error, suggestions, sid, record.watchers)

    # ------------------------------------------------------------ unload

    async def unload(self, model_id: str, reason: str = "requested") -> UnloadModelResponse:
        record = self.record(model_id)
        if record.status != "loaded" or record.worker_id is None:
            raise ServiceError(
                ErrorCode.MODEL_NOT_LOADED,
                f"Model {model_id} is not loaded (status: {record.status}).",
                {"model_id": model_id, "status": record.status},
            )
        # From here no new request reaches the model; the worker drains what is in flight.
        record.status = "unloading"
        request_id = self.link.new_request_id()
        try:
            reply = await self.link.request(
                record.worker_id,
                UnloadModel(
                    request_id=request_id,
                    model_id=model_id,
                    http_request_id=REQUEST_ID.get() or "",
                ),
                request_id=request_id,
            )
        except ServiceError:
            record.status = "loaded"
            raise
        assert isinstance(reply, UnloadResult)
        record.mark_unloaded()
        self.events.unloaded(model_id, reply.memory_freed_mb, reason)
        return UnloadModelResponse(
            model_id=model_id,
            status="unloaded",
            memory_freed_mb=reply.memory_freed_mb,
            unloaded_at=utc_now(),
        )

    async def evict(self, eviction: Eviction) -> None:
        record = self.record(eviction.model_id)
        worker_id = record.worker_id or ""
        try:
            answer = await self.unload(eviction.model_id, reason=f"evicted: {eviction.reason}")
        except ServiceError as exc:
            log.warning("could not evict %s: %s", eviction.model_id, exc.message)
            return
        self.events.evicted(eviction.model_id, eviction.reason, answer.memory_freed_mb, worker_id)

    # ------------------------------------------------------------ use by inference

    def begin_use(self, record: ModelRecord) -> None:
        record.in_flight += 1

    def cache_hit(self, model_id: str, elapsed_ms: float) -> None:
        record = self.record(model_id)
        record.last_used = self.clock()
        record.stats.record_cache_hit(elapsed_ms)

    def end_use(self, record: ModelRecord, elapsed_ms: float, ok: bool, count: bool) -> None:
        """`count` False: a health-check probe, neither a served request nor a use that
        keeps the model from idling out."""
        record.in_flight -= 1
        if count:
            record.last_used = self.clock()
            record.stats.record(elapsed_ms, ok)


_TIMEOUT_GRACE_S = 5.0
# A worker's memory figure younger than this many heartbeat intervals needs no round trip.
_FRESH_MEMORY_BEATS = 2

# Errors in what the caller asked for: they say nothing about the model itself.
_REQUEST_ERRORS = {ErrorCode.UNSUPPORTED_DEVICE, ErrorCode.CONFIGURATION_ERROR}


def _timeout_error(model_id: str, settings: Settings) -> ServiceError:
    return ServiceError(
        ErrorCode.LOADING_TIMEOUT,
        f"Loading {model_id} took longer than {settings.load_timeout_ms} ms.",
        {"model_id": model_id, "timeout_ms": settings.load_timeout_ms},
    )
