"""What the gateway knows of a model it has not loaded: offline loads of a model that is not
here are refused at once, and a model never loaded reports discovery's check, not a fresh
failure. Plain objects, plus the manager around a fake worker link."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest

from gateway.catalog import load_catalog
from gateway.catalog.discovery import ModelDiscovery
from gateway.catalog.known_models import KnownModels
from gateway.event_hub import EventHub
from gateway.models.availability import Availability, offline_refusal
from gateway.models.cache_policy import CachePolicy
from gateway.models.load_events import LoadEvents
from gateway.models.manager import ModelManager
from gateway.models.records import ModelRecord
from gateway.models.suggestions import suggestions_for
from gateway.settings import Settings
from gateway.workers.pool import WorkerPool
from protocol.api.catalog import ModelLocation
from protocol.api.lifecycle import LoadModelRequest
from protocol.errors import ErrorCode, ServiceError
from protocol.wire.messages import Hello
from tests.models.fakes import FakeLink, memory

CATALOG = load_catalog()
TINY = "openai/whisper-tiny.en"  # bundled
SMALL = "openai/whisper-small"  # never on this test's disk
NLLB = "facebook/nllb-200-distilled-600M"  # pinned to a revision
MISSING = ModelLocation(kind="download_required", repo_id="Systran/faster-whisper-small")
CACHED = ModelLocation(kind="cached", repo_id="Systran/faster-whisper-small", path="/x")


def _entry(model_id: str) -> Any:
    entry = CATALOG.get(model_id)
    assert entry is not None
    return entry


def test_offline_and_not_on_disk_is_refused_naming_repo_size_and_revision() -> None:
    refusal = offline_refusal(_entry(NLLB), MISSING, offline=True, remote_worker=False)
    assert refusal is not None and refusal.code is ErrorCode.DOWNLOAD_REQUIRED
    weights = _entry(NLLB).weights
    assert refusal.details["repo_id"] == weights.repo_id
    assert refusal.details["revision"] == weights.revision
    assert refusal.details["size_mb"] == float(_entry(NLLB).info.size_mb)
    assert refusal.details["offline"] is True
    listed = offline_refusal(_entry(SMALL), MISSING, True, False, listed_bytes=2_500_000)
    assert listed is not None and listed.details["size_bytes"] == 2_500_000
    assert listed.details["size_mb"] == 2.5


@pytest.mark.parametrize(
    ("location", "offline", "remote"),
    [
        (CACHED, True, False),  # on disk
        (MISSING, False, False),  # online: the worker downloads it
        (MISSING, True, True),  # a remote worker has its own cache
        (None, True, False),  # nothing known: the worker decides
    ],
)
def test_the_worker_is_asked_whenever_the_load_may_succeed(
    location: ModelLocation | None, offline: bool, remote: bool
) -> None:
    assert offline_refusal(_entry(SMALL), location, offline, remote) is None


def test_a_model_never_loaded_reports_discoverys_check_not_a_fresh_failure() -> None:
    record = ModelRecord(model_id=SMALL, kind="asr")
    seen = "2030-01-01T00:00:00+00:00"
    offline_missing = record.health(Availability(on_disk=False, offline=True, checked_at=seen))
    assert (offline_missing.status, offline_missing.last_check) == ("unhealthy", seen)
    on_disk = record.health(Availability(on_disk=True, offline=True, checked_at=seen))
    assert (on_disk.status, on_disk.last_check) == ("healthy", seen)
    downloadable = record.health(Availability(on_disk=False, offline=False, checked_at=seen))
    assert downloadable.status == "healthy"
    # Without discovery's answer: when the gateway learnt of the model, never "now".
    assert record.health().last_check == record.known_since


def test_a_failed_load_is_unhealthy_from_the_time_it_failed() -> None:
    record = ModelRecord(model_id=SMALL, kind="asr")
    record.mark_failed(ServiceError(ErrorCode.DOWNLOAD_REQUIRED, "not here"))
    failed_at = record.last_checked
    seen = Availability(on_disk=False, offline=True, checked_at="2030-01-01T00:00:00+00:00")
    health = record.health(seen)
    assert (health.status, health.last_check) == ("unhealthy", failed_at)


def test_mt_failures_suggest_translation_models_never_whisper() -> None:
    error = ServiceError(
        ErrorCode.DOWNLOAD_REQUIRED,
        "not here",
        {"repo_id": "JustFrederik/nllb-200-distilled-600M-ct2-int8", "revision": "abc123"},
    )
    tips = suggestions_for(error, NLLB, [], "mt", "facebook/m2m100_418M")
    assert tips[0] == (
        "Download the weights while online: "
        "`hf download JustFrederik/nllb-200-distilled-600M-ct2-int8 --revision abc123`"
    )
    assert "facebook/m2m100_418M" in tips[-1] and "translation" in tips[-1]
    assert not any("whisper" in tip for tip in tips)
    alone = suggestions_for(error, NLLB, [], "mt", None)
    assert "No other translation model is on this machine" in alone[-1]
    assert not any("whisper" in tip for tip in alone)
    license_tips = suggestions_for(ServiceError(ErrorCode.LICENSE_ERROR, "gated"), NLLB, [], "mt")
    assert not any("whisper" in tip for tip in license_tips)


class OfflineGateway:
    """The manager offline around one local CPU worker, with discovery on an empty cache."""

    def __init__(self, tmp_path: Path, available_mb: float = 10_000) -> None:
        self.hub = EventHub()
        self.pool = WorkerPool(self.hub, ready_timeout_s=0.05)
        self.link = FakeLink(memory(available_mb))
        discovery = ModelDiscovery(CATALOG, hub_cache_dir=tmp_path / "hub", model_dirs=[])
        self.models = ModelManager(
            Settings(devices=(), state_dir=tmp_path, offline=True),
            KnownModels(CATALOG, discovery),
            self.link,
            self.pool,
            LoadEvents(self.hub),
            CachePolicy(),
        )
        self.pool.expect("cpu", "cpu", 7)
        hello = Hello(worker_id="cpu", device="cpu", pid=7, host="h", memory=memory(available_mb))
        self.pool.handle("cpu", hello)


def test_an_offline_load_of_a_model_not_here_is_refused_before_any_worker_is_asked(
    tmp_path: Path,
) -> None:
    gateway = OfflineGateway(tmp_path)
    asker = gateway.hub.subscribe("s1")
    with pytest.raises(ServiceError) as raised:
        asyncio.run(gateway.models.load(SMALL, LoadModelRequest(), "s1"))
    assert raised.value.code is ErrorCode.DOWNLOAD_REQUIRED
    # Its memory is known from the fresh hello (a model that can never fit gets 507 first):
    # the worker is asked nothing, and nothing is loaded.
    assert gateway.link.names() == []
    frame = asker.queue.get_nowait()
    assert frame is not None
    failed = msgspec.json.decode(frame)
    assert (failed["t"], failed["data"]["error_code"]) == ("model.load.failed", "DOWNLOAD_REQUIRED")
    # The bundled model is on this machine: it is what the failure suggests instead.
    assert any(TINY in tip for tip in failed["data"]["suggestions"])
    assert gateway.models.record(SMALL).status == "error"


def test_offline_a_model_that_can_never_fit_is_refused_for_its_size_first(
    tmp_path: Path,
) -> None:
    gateway = OfflineGateway(tmp_path, available_mb=1000)
    with pytest.raises(ServiceError) as raised:
        asyncio.run(gateway.models.load("openai/whisper-large-v3", LoadModelRequest()))
    assert raised.value.code is ErrorCode.INSUFFICIENT_MEMORY
    assert gateway.link.names() == []  # judged on the hello's fresh memory figure


def test_statuses_report_never_loaded_models_by_discovery(tmp_path: Path) -> None:
    gateway = OfflineGateway(tmp_path)
    discovery = gateway.models.known.discovery
    assert discovery is not None
    statuses = {s.model_id: s for s in gateway.models.statuses(discovery.locations())}
    assert statuses[TINY].health_check.status == "healthy"
    assert statuses[SMALL].health_check.status == "unhealthy"
    assert statuses[SMALL].health_check.last_check == discovery.checked_at
