"""`create_app(settings)`: the Starlette app, its workers and its services."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware

from gateway.catalog import load_catalog
from gateway.catalog.discovery import ModelDiscovery, default_hub_cache_dir
from gateway.catalog.known_models import KnownModels
from gateway.catalog.language_pairs import LanguagePairIndex
from gateway.catalog.languages import REGISTRY
from gateway.event_hub import EventHub
from gateway.hardware.devices import detect_devices
from gateway.hardware.machine_resources import measure_resources
from gateway.hardware.system_resources import SystemMonitor
from gateway.http.errors import EXCEPTION_HANDLERS
from gateway.http.middleware import access_middleware
from gateway.http.openapi import OpenApiDocument
from gateway.inference.calls import InferenceService
from gateway.live.limits import LiveLimits
from gateway.live.service import LiveService
from gateway.live.stream import LiveDeps
from gateway.metrics.http_requests import RequestMetrics
from gateway.metrics.registry import Metrics
from gateway.models.cache_keeper import CacheKeeper
from gateway.models.cache_policy import CachePolicy
from gateway.models.load_events import LoadEvents
from gateway.models.manager import ModelManager
from gateway.models.restore import ModelRestorer
from gateway.ops.downloads import ModelDownloads
from gateway.ops.health_check import HealthChecker
from gateway.ops.startup_checks import check_defaults, check_preloads
from gateway.ops.status_snapshot import StatusSnapshot
from gateway.routes import asr, events, health, live, models, openai_audio
from gateway.routes import catalog as catalog_routes
from gateway.routes import metrics as metrics_routes
from gateway.routes import sessions as sessions_routes
from gateway.routes import translate as translate_routes
from gateway.routes import workers as worker_routes
from gateway.services import Services
from gateway.sessions.config_update import ConfigChecks
from gateway.sessions.defaults import ConfigDefaults, default_model_config
from gateway.sessions.service import SessionService, compute_types_by_device
from gateway.sessions.store import SessionStore
from gateway.settings import Settings
from gateway.transcription.service import TranscriptionService
from gateway.translation.service import TranslationService
from gateway.workers.control import WorkerControl
from gateway.workers.link import WorkerLink
from gateway.workers.pool import WorkerPool
from gateway.workers.run_dir import create_run_dir, remove_stale_run_dirs
from gateway.workers.supervisor import Supervisor
from protocol.api.config import ModelConfig

log = logging.getLogger(__name__)


def _session_defaults(settings: Settings) -> ModelConfig:
    return default_model_config(
        ConfigDefaults(
            asr_model=settings.default_asr_model,
            mt_model=settings.default_mt_model,
            device=settings.default_device,
            asr_compute_type=settings.asr_compute_type,
            mt_compute_type=settings.mt_compute_type,
            target_language=settings.target_language,
        )
    )


def cache_policy_of(settings: Settings) -> CachePolicy:
    return CachePolicy(
        max_models_loaded=settings.max_models_loaded,
        eviction_policy=settings.cache_eviction_policy,
        idle_unload_timeout_s=settings.idle_unload_timeout_ms / 1000,
        memory_pressure_threshold=settings.memory_pressure_threshold,
    )


def create_app(settings: Settings) -> Starlette:
    """Build the app; raises SettingsError when a default names nothing this service has."""
    catalog = load_catalog()
    devices = detect_devices() if settings.devices is None else settings.devices
    defaults = _session_defaults(settings)

    def config_checks(pool: WorkerPool | None, known: KnownModels) -> ConfigChecks:
        return ConfigChecks(
            supported_compute_types=compute_types_by_device(pool, devices),
            is_known_model=known.is_known,
            is_known_language=lambda code: REGISTRY.lookup(code) is not None,
        )

    check_defaults(
        settings,
        defaults,
        # Before the first disk scan: the catalog's models only.
        config_checks(None, KnownModels(catalog)),
        {
            "asr": [e.model_id for e in catalog.asr_entries()],
            "mt": [e.model_id for e in catalog.mt_entries()],
        },
    )

    check_preloads(settings, set(catalog.ids()))
    metrics = Metrics()  # per app: tests build several in one process

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # ipc socket files stay behind after close: keep them in a folder we remove.
        remove_stale_run_dirs()
        run_dir = create_run_dir(os.getpid())
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        hub = EventHub(settings.subscriber_queue_size)
        pool = WorkerPool(hub, settings.worker_ready_timeout_s)
        link = WorkerLink(f"ipc://{run_dir}/workers.sock", pool.handle)
        supervisor = Supervisor(settings, link, pool)
        control = WorkerControl(settings, link, pool, supervisor)
        link.gate = pool.refusal  # a draining worker takes no new requests
        pool.add_listener(link)  # a lost worker's requests fail at once
        store = SessionStore(settings.state_dir / "sessions.db")
        hub_cache = default_hub_cache_dir()
        discovery = ModelDiscovery(
            catalog, hub_cache_dir=hub_cache, model_dirs=list(settings.model_dirs)
        )
        await asyncio.to_thread(discovery.refresh, force=True)  # the first scan reads the disk
        known = KnownModels(catalog, discovery)
        manager = ModelManager(
            settings,
            known,
            link,
            pool,
            LoadEvents(hub),
            cache_policy_of(settings),
            on_use=store.usage.record_model_use,
        )
        pool.add_listener(ModelRestorer(manager))
        metrics.watch(manager, pool, link.pending_for, hub)
        downloads = ModelDownloads(settings, manager, hub)
        inference = InferenceService(manager, metrics.inference)
        transcription = TranscriptionService(
            manager, inference, settings.default_asr_model, settings.result_cache_size
        )
        translation = TranslationService(
            manager,
            inference,
            settings.default_mt_model,
            settings.max_text_chars,
            settings.result_cache_size,
        )
        sessions = SessionService(store, defaults, lambda: config_checks(pool, known), manager)
        live_streams = LiveService(
            LiveDeps(
                models=manager,
                sessions=sessions,
                translation=translation,
                open_streams=metrics.live_streams,
                limits=LiveLimits.from_settings(settings),
            )
        )
        monitor = SystemMonitor([hub_cache, *settings.model_dirs])
        await monitor.sample()  # the first figures, before any request reads them
        app.state.services = Services(
            settings=settings,
            catalog=manager.catalog,
            known=known,
            events=hub,
            link=link,
            pool=pool,
            supervisor=supervisor,
            control=control,
            models=manager,
            monitor=monitor,
            discovery=discovery,
            resources=await asyncio.to_thread(measure_resources),
            language_pairs=LanguagePairIndex(catalog),
            sessions=sessions,
            inference=inference,
            transcription=transcription,
            translation=translation,
            health=HealthChecker(manager, inference, pool, settings.worker_memory_limit_mb),
            openapi=OpenApiDocument(app.routes, lambda: compute_types_by_device(pool, devices)),
            metrics=metrics,
            status=StatusSnapshot(manager, monitor),
            downloads=downloads,
            live=live_streams,
        )
        keeper = CacheKeeper(
            manager, pool, settings.cache_check_interval_s, settings.worker_memory_limit_mb
        )
        link.start()
        if settings.worker_listen:
            link.listen_remote(
                settings.worker_listen,
                settings.curve_server_secret_key_file,
                settings.curve_allowed_keys_dir,
            )
        supervisor.start(devices)
        control.start()
        keeper.start()
        monitor.start()
        popular = [u.model_id for u in store.usage.most_used(settings.max_models_loaded)]
        preload = [*settings.preload_models, *(popular if settings.preload_popular_models else [])]
        if preload:
            preloading = asyncio.create_task(keeper.preload(preload), name="preload")
        log.info("gateway up; workers for %s", ", ".join(devices) or "no device")
        try:
            yield
        finally:
            if preload:
                preloading.cancel()
            await live_streams.stop()
            await keeper.stop()
            await downloads.stop()
            await monitor.stop()
            await control.stop()
            await supervisor.stop()
            await link.close()
            store.close()
            shutil.rmtree(run_dir, ignore_errors=True)

    return Starlette(
        routes=[
            *models.routes,
            *catalog_routes.routes,
            *sessions_routes.routes,
            *asr.routes,
            *translate_routes.routes,
            *health.routes,
            *events.routes,
            *live.routes,
            *worker_routes.routes,
            *openai_audio.routes,
            *metrics_routes.routes,
        ],
        # Metrics outermost of the app's middleware, so every answer is counted (refusals by
        # the access guards too); then request ids and the guards (gateway/http/middleware.py).
        middleware=[
            Middleware(RequestMetrics, metrics=metrics.http),
            *access_middleware(settings),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
