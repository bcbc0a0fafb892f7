"""The gateway's long-lived parts, built once per app and reached from the routes."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from gateway.catalog import Catalog
from gateway.event_hub import EventHub
from gateway.language_pairs import LanguagePairIndex
from gateway.model_manager import ModelManager
from gateway.sessions.service import SessionService
from gateway.settings import Settings
from gateway.supervisor import Supervisor
from gateway.system_resources import SystemMonitor
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
    models: ModelManager
    monitor: SystemMonitor
    language_pairs: LanguagePairIndex
    sessions: SessionService


def services(connection: HTTPConnection) -> Services:
    found: Services = connection.app.state.services
    return found
