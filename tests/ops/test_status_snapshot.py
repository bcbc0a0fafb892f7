"""The status route's snapshot: encoded once, reused until something it shows changes
(a load, an inference, a new sample of the system figures), and the same body as a status
built per request. A real ModelManager, EventHub and WorkerPool; only the link is a fake."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest

from gateway.catalog import load_catalog
from gateway.catalog.known_models import KnownModels
from gateway.event_hub import EventHub
from gateway.hardware.system_resources import SystemMonitor
from gateway.models.cache_policy import CachePolicy
from gateway.models.load_events import LoadEvents
from gateway.models.manager import ModelManager
from gateway.ops.status_snapshot import StatusSnapshot
from gateway.settings import Settings
from gateway.workers.pool import WorkerPool
from protocol.api.lifecycle import LoadModelRequest, ModelsStatusResponse
from protocol.wire.messages import Hello
from tests.models.fakes import FakeLink, memory

TINY = "openai/whisper-tiny.en"


class Side:
    """The gateway's model side around one CPU worker, and the snapshot of its status."""

    def __init__(self, tmp_path: Path) -> None:
        hub = EventHub()
        self.pool = WorkerPool(hub, ready_timeout_s=0.05)
        self.link = FakeLink(memory(10_000))
        self.models = ModelManager(
            Settings(devices=(), state_dir=tmp_path),
            KnownModels(load_catalog()),
            self.link,
            self.pool,
            LoadEvents(hub),
            CachePolicy(),
        )
        self.monitor = SystemMonitor([tmp_path])
        self.snapshot = StatusSnapshot(self.models, self.monitor)
        hello = Hello(worker_id="cpu", device="cpu", pid=7, host="h", memory=memory(10_000))
        self.pool.handle("cpu", hello)

    async def load_tiny(self) -> None:
        assert (await self.models.load(TINY, LoadModelRequest())).status == "loading"
        self.link.release.set()
        task = self.models.record(TINY).loading
        assert task is not None
        await task

    def tiny(self, body: bytes) -> dict[str, Any]:
        decoded = msgspec.json.decode(body)
        [found] = [m for m in decoded["asr_models"] if m["model_id"] == TINY]
        return dict(found)


@pytest.fixture
def side(tmp_path: Path) -> Side:
    return Side(tmp_path)


def test_the_body_is_reused_until_a_load_completes_then_rebuilt_once(side: Side) -> None:
    before = side.snapshot.body()
    assert side.snapshot.body() is before  # the same bytes: nothing was built again
    assert side.tiny(before)["status"] == "not_loaded"

    asyncio.run(side.load_tiny())

    after = side.snapshot.body()
    assert after is not before
    tiny = side.tiny(after)
    assert (tiny["status"], tiny["memory_usage_mb"], tiny["worker_id"]) == ("loaded", 300.0, "cpu")
    assert side.snapshot.body() is after


def test_an_inference_rebuilds_it_and_work_in_flight_does_not(side: Side) -> None:
    asyncio.run(side.load_tiny())
    record = side.models.record(TINY)
    first = side.snapshot.body()

    side.models.begin_use(record)  # in flight: nothing the status shows
    assert side.snapshot.body() is first

    side.models.end_use(record, elapsed_ms=12.0, ok=True, count=True)
    counted = side.snapshot.body()
    assert counted is not first
    assert side.tiny(counted)["inference_count"] == 1
    assert side.tiny(counted)["performance_metrics"]["avg_inference_time_ms"] == 12.0


def test_a_new_sample_of_the_system_figures_rebuilds_it(side: Side) -> None:
    first = side.snapshot.body()
    figures = asyncio.run(side.monitor.sample())
    second = side.snapshot.body()
    assert second is not first
    assert msgspec.json.decode(second)["system_resources"] == msgspec.to_builtins(figures)


def test_it_is_the_body_a_status_built_per_request_gives(side: Side) -> None:
    asyncio.run(side.load_tiny())
    body = msgspec.json.decode(side.snapshot.body(), type=ModelsStatusResponse)
    # What the route built on every request before the snapshot.
    statuses = side.models.statuses()
    built = ModelsStatusResponse(
        asr_models=[s for s in statuses if side.models.record(s.model_id).kind == "asr"],
        mt_models=[s for s in statuses if side.models.record(s.model_id).kind == "mt"],
        system_resources=side.monitor.figures,
    )
    # A model never checked shows the time of the build as its last check: the one
    # figure that differs between two builds, whenever they run.
    for model in [*body.asr_models, *body.mt_models, *built.asr_models, *built.mt_models]:
        if side.models.record(model.model_id).last_checked is None:
            model.health_check.last_check = ""
    assert body == built


def test_a_status_filter_lists_only_models_in_those_states_and_is_reused(side: Side) -> None:
    asyncio.run(side.load_tiny())
    loaded = side.snapshot.body(["loaded"])
    decoded = msgspec.json.decode(loaded)
    assert [m["model_id"] for m in decoded["asr_models"]] == [TINY]
    assert decoded["mt_models"] == []
    assert side.snapshot.body({"loaded"}) is loaded
    everything = msgspec.json.decode(side.snapshot.body())
    assert len(everything["asr_models"]) > 1
