"""`create_app(settings)`: the Starlette app, its workers and its services."""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette

from gateway.catalog import load_catalog
from gateway.devices import detect_devices
from gateway.errors import EXCEPTION_HANDLERS
from gateway.event_hub import EventHub
from gateway.language_pairs import LanguagePairIndex
from gateway.languages import REGISTRY
from gateway.model_manager import ModelManager
from gateway.routes import asr, events, health, models
from gateway.routes import catalog as catalog_routes
from gateway.routes import sessions as sessions_routes
from gateway.services import Services
from gateway.sessions.config_update import ConfigChecks
from gateway.sessions.defaults import ConfigDefaults, default_model_config
from gateway.sessions.service import SessionService, compute_types_by_device
from gateway.sessions.store import SessionStore
from gateway.settings import Settings
from gateway.startup_checks import check_defaults
from gateway.supervisor import Supervisor
from gateway.system_resources import SystemMonitor
from gateway.worker_link import WorkerLink
from gateway.worker_pool import WorkerPool
from protocol.config import ModelConfig

log = logging.getLogger(__name__)


def _hub_cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def _session_defaults(settings: Settings) -> ModelConfig:
    return default_model_config(
        ConfigDefaults(
            asr_model=settings.default_asr_model,
            mt_model=settings.default_mt_model,
            device=settings.default_device,  # type: ignore[arg-type]  # checked by Settings
            asr_compute_type=settings.asr_compute_type,  # type: ignore[arg-type]
            mt_compute_type=settings.mt_compute_type,  # type: ignore[arg-type]
            target_language=settings.target_language,
        )
    )


def create_app(settings: Settings) -> Starlette:
    """Build the app; raises SettingsError when a default names nothing this service has."""
    catalog = load_catalog()
    devices = detect_devices() if settings.devices is None else settings.devices
    defaults = _session_defaults(settings)

    def config_checks(pool: WorkerPool | None) -> ConfigChecks:
        return ConfigChecks(
            supported_compute_types=compute_types_by_device(pool, devices),
            is_known_model=lambda model_id, kind: (
                getattr(catalog.get(model_id), "kind", None) == kind
            ),
            is_known_language=lambda code: REGISTRY.lookup(code) is not None,
        )

    check_defaults(
        settings,
        defaults,
        config_checks(None),
        {
            "asr": [e.model_id for e in catalog.asr_entries()],
            "mt": [e.model_id for e in catalog.mt_entries()],
        },
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # ipc socket files stay behind after close: keep them in a folder we remove.
        run_dir = Path(tempfile.mkdtemp(prefix="loquilex-"))
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        hub = EventHub(settings.subscriber_queue_size)
        pool = WorkerPool(hub, settings.worker_ready_timeout_s)
        link = WorkerLink(f"ipc://{run_dir}/workers.sock", pool.handle)
        supervisor = Supervisor(settings, link, pool)
        manager = ModelManager(settings, catalog, link, pool, hub)
        pool.add_listener(manager)
        store = SessionStore(settings.state_dir / "sessions.db")
        app.state.services = Services(
            settings=settings,
            catalog=manager.catalog,
            events=hub,
            link=link,
            pool=pool,
            supervisor=supervisor,
            models=manager,
            monitor=SystemMonitor([_hub_cache_dir()]),
            language_pairs=LanguagePairIndex(catalog),
            sessions=SessionService(store, defaults, lambda: config_checks(pool), manager),
        )
        link.start()
        supervisor.start(devices)
        log.info("gateway up; workers for %s", ", ".join(devices) or "no device")
        try:
            yield
        finally:
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
            *health.routes,
            *events.routes,
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
