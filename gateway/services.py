"""The gateway's long-lived parts, built once per app and reached from the routes."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from gateway.catalog import Catalog
from gateway.catalog.discovery import ModelDiscovery
from gateway.catalog.known_models import KnownModels
from gateway.catalog.language_pairs import LanguagePairIndex
from gateway.event_hub import EventHub
from gateway.hardware.machine_resources import MachineResources
from gateway.hardware.system_resources import SystemMonitor
from gateway.http.openapi import OpenApiDocument
from gateway.inference.calls import InferenceService
from gateway.live.service import LiveService
from gateway.metrics.registry import Metrics
from gateway.models.manager import ModelManager
from gateway.ops.downloads import ModelDownloads
from gateway.ops.health_check import HealthChecker
from gateway.ops.status_snapshot import StatusSnapshot
from gateway.sessions.service import SessionService
from gateway.settings import Settings
from gateway.transcription.service import TranscriptionService
from gateway.translation.service import TranslationService
from gateway.workers.control import WorkerControl
from gateway.workers.link import WorkerLink
from gateway.workers.pool import WorkerPool
from gateway.workers.supervisor import Supervisor


@dataclass
class Services:
    settings: Settings
    catalog: Catalog
    known: KnownModels
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
    transcription: TranscriptionService
    translation: TranslationService
    openapi: OpenApiDocument
    resources: MachineResources
    metrics: Metrics
    status: StatusSnapshot
    downloads: ModelDownloads
    live: LiveService


def services(connection: HTTPConnection) -> Services:
    found: Services = connection.app.state.services
    return found
