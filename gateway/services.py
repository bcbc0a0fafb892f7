"""The gateway's long-lived parts, built once per app and reached from the routes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection

from gateway.catalog import Catalog
from gateway.discovery import ModelDiscovery
from gateway.event_hub import EventHub
from gateway.health_check import HealthChecker
from gateway.inference import InferenceService
from gateway.language_pairs import LanguagePairIndex
from gateway.machine_resources import MachineResources
from gateway.model_manager import ModelManager
from gateway.sessions.service import SessionService
from gateway.settings import Settings
from gateway.supervisor import Supervisor
from gateway.system_resources import SystemMonitor
from gateway.translation import TranslationService
from gateway.worker_control import WorkerControl
from gateway.worker_link import WorkerLink
from gateway.worker_pool import WorkerPool


@dataclass
class Services:
    settings: Settings
    catalog: Catalog
    events: EventHub
    link: WorkerLink
    pool: WorkerPool
    supervisor: Supervisor
    control: WorkerControl
    models: ModelManager
    monitor: SystemMonitor
    language_pairs: LanguagePairIndex
    sessions: SessionService
    inference: InferenceService
    discovery: ModelDiscovery
    health: HealthChecker
    translation: TranslationService
    openapi: dict[str, Any]
    resources: MachineResources


def services(connection: HTTPConnection) -> Services:
    found: Services = connection.app.state.services
    return found
