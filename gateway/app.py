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
from gateway.model_manager import ModelManager
from gateway.routes import asr, events, health, models
from gateway.services import Services
from gateway.settings import Settings
from gateway.supervisor import Supervisor
from gateway.system_resources import SystemMonitor
from gateway.worker_link import WorkerLink
from gateway.worker_pool import WorkerPool

log = logging.getLogger(__name__)


def _hub_cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # ipc socket files stay behind after close: keep them in a folder we remove.
        run_dir = Path(tempfile.mkdtemp(prefix="loquilex-"))
        hub = EventHub(settings.subscriber_queue_size)
        pool = WorkerPool(hub, settings.worker_ready_timeout_s)
        link = WorkerLink(f"ipc://{run_dir}/workers.sock", pool.handle)
        supervisor = Supervisor(settings, link, pool)
        manager = ModelManager(settings, load_catalog(), link, pool, hub)
        pool.add_listener(manager)
        app.state.services = Services(
            settings=settings,
            catalog=manager.catalog,
            events=hub,
            link=link,
            pool=pool,
            supervisor=supervisor,
            models=manager,
            monitor=SystemMonitor([_hub_cache_dir()]),
        )
        link.start()
        devices = detect_devices() if settings.devices is None else settings.devices
        supervisor.start(devices)
        log.info("gateway up; workers for %s", ", ".join(devices) or "no device")
        try:
            yield
        finally:
            await supervisor.stop()
            await link.close()
            shutil.rmtree(run_dir, ignore_errors=True)

    return Starlette(
        routes=[*models.routes, *asr.routes, *health.routes, *events.routes],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
