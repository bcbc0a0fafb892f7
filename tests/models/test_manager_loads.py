"""The manager carrying out loads: one load per model however many ask, every asker's session
sees its events, refusals are published, and placement's evictions happen in order.

A real EventHub, WorkerPool and ModelManager; only the link to the worker is a plain fake."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import msgspec
import pytest

from gateway.catalog import load_catalog
from gateway.catalog.known_models import KnownModels
from gateway.event_hub import EventHub, Subscription
from gateway.models.cache_policy import CachePolicy
from gateway.models.load_events import LoadEvents
from gateway.models.manager import ModelManager
from gateway.settings import Settings
from gateway.workers.pool import WorkerPool
from protocol.api.lifecycle import LoadComputeConfig, LoadModelRequest
from protocol.errors import ErrorCode, ServiceError
from protocol.wire.messages import Heartbeat, Hello, LoadProgress, MemoryInfo
from tests.models.fakes import FakeLink, memory

TINY = "openai/whisper-tiny.en"  # 270 MB as int8
BASE = "openai/whisper-base.en"  # 380 MB as int8
LARGE = "openai/whisper-large-v3"  # 4800 MB as int8


class Gateway:
    """The gateway's model side around one CPU worker, all in this event loop."""

    def __init__(self, tmp_path: Path, link_memory: MemoryInfo, policy: CachePolicy) -> None:
        self.hub = EventHub()
        self.pool = WorkerPool(self.hub, ready_timeout_s=0.05)
        self.link = FakeLink(link_memory, on_message=self.pool.handle)
        settings = Settings(devices=(), state_dir=tmp_path)
        self.models = ModelManager(
            settings,
            KnownModels(load_catalog()),
            self.link,
            self.pool,
            LoadEvents(self.hub),
            policy,
        )

    def worker_says_hello(self) -> None:
        hello = Hello(
            worker_id="cpu",
            device="cpu",
            pid=7,
            host="h",
            memory=self.link.memory,
            compute_types=["int8", "float32"],
        )
        self.pool.handle("cpu", hello)

    def worker_reports(self, memory_info: MemoryInfo) -> None:
        """A heartbeat with the worker's memory as it is now."""
        self.link.memory = memory_info
        self.pool.handle("cpu", Heartbeat(worker_id="cpu", seq=1, memory=memory_info))

    def age_memory_figure(self, seconds: float) -> None:
        worker = self.pool.get("cpu")
        assert worker is not None and worker.memory_at is not None
        worker.memory_at -= seconds

    async def load(self, model_id: str, sid: str | None = None, device: str = "auto") -> str:
        request = LoadModelRequest(compute_config=LoadComputeConfig(device=device))
        answer = await self.models.load(model_id, request, sid)
        return answer.status

    async def finish(self, model_id: str) -> None:
        """Let the worker answer the load under way and wait for it to complete."""
        self.link.release.set()
        task = self.models.record(model_id).loading
        assert task is not None
        await task


def _events(subscription: Subscription) -> list[dict[str, Any]]:
    found = []
    while not subscription.queue.empty():
        frame = subscription.queue.get_nowait()
        assert frame is not None
        found.append(msgspec.json.decode(frame))
    return found


def _names(subscription: Subscription) -> list[str]:
    return [event["t"] for event in _events(subscription)]


@pytest.fixture
def gateway(tmp_path: Path) -> Gateway:
    found = Gateway(tmp_path, memory(10_000), CachePolicy())
    found.worker_says_hello()
    return found


def test_two_concurrent_loads_of_one_model_send_one_load_model(gateway: Gateway) -> None:
    async def scenario() -> list[str]:
        answers = await asyncio.gather(gateway.load(TINY, "s1"), gateway.load(TINY, "s2"))
        await gateway.finish(TINY)
        return [*answers, await gateway.load(TINY, "s3")]

    assert asyncio.run(scenario()) == ["loading", "loading", "loaded"]
    # The hello's memory figure is fresh: admission needs no status round trip.
    assert gateway.link.names() == [f"LoadModel {TINY}"]
    assert gateway.models.record(TINY).status == "loaded"


def test_a_stale_memory_figure_is_measured_again_before_admission(tmp_path: Path) -> None:
    # The hello said 10 000 MB free, long ago; the worker has 1000 now: too little for LARGE.
    gateway = Gateway(tmp_path, memory(10_000), CachePolicy())
    gateway.worker_says_hello()
    gateway.link.memory = memory(1000)
    gateway.age_memory_figure(60.0)
    with pytest.raises(ServiceError) as raised:
        asyncio.run(gateway.load(LARGE, "s1"))
    assert raised.value.code is ErrorCode.INSUFFICIENT_MEMORY
    assert raised.value.details["available_mb"] == 1000.0
    assert gateway.link.names() == ["StatusRequest"]


def test_load_and_unload_replies_refresh_the_workers_memory_figure(gateway: Gateway) -> None:
    async def scenario() -> None:
        await gateway.load(TINY)
        await gateway.finish(TINY)

    asyncio.run(scenario())
    worker = gateway.pool.get("cpu")
    assert worker is not None and worker.memory is not None
    assert worker.memory.available_mb == 10_000 - 300  # the LoadResult's figure
    asyncio.run(gateway.models.unload(TINY))
    assert worker.memory.available_mb == 10_000  # the UnloadResult's


def test_a_session_joining_a_load_under_way_sees_its_events(gateway: Gateway) -> None:
    first, joiner, bystander = (gateway.hub.subscribe(sid) for sid in ("s1", "s2", "s3"))
    gateway.link.progress = [
        LoadProgress(
            request_id="r", model_id=TINY, stage="loading_weights", progress=0.5, memory_used_mb=100
        )
    ]

    async def scenario() -> None:
        assert await gateway.load(TINY, "s1") == "loading"
        await gateway.link.load_sent.wait()  # the load is under way on the worker
        assert _names(first) == ["model.load.started"]
        assert await gateway.load(TINY, "s2") == "loading"
        await gateway.finish(TINY)

    asyncio.run(scenario())
    assert _names(first) == ["model.load.progress", "model.load.completed"]
    assert _names(joiner) == ["model.load.progress", "model.load.completed"]
    assert _names(bystander) == []
    assert gateway.link.names().count(f"LoadModel {TINY}") == 1


def test_a_refused_admission_publishes_load_failed_and_sends_no_load(tmp_path: Path) -> None:
    gateway = Gateway(tmp_path, memory(1000), CachePolicy())
    gateway.worker_says_hello()
    asker = gateway.hub.subscribe("s1")
    with pytest.raises(ServiceError) as raised:
        asyncio.run(gateway.load(LARGE, "s1"))
    assert raised.value.code is ErrorCode.INSUFFICIENT_MEMORY
    [failed] = _events(asker)
    assert failed["t"] == "model.load.failed"
    assert failed["data"]["error_code"] == "INSUFFICIENT_MEMORY"
    assert failed["data"]["required_mb"] == 4800.0
    assert failed["data"]["available_mb"] == 1000.0
    assert any("smaller model" in tip for tip in failed["data"]["suggestions"])
    # Refused on the worker's measured figure (its hello's, fresh): no load was sent.
    assert gateway.link.names() == []
    assert gateway.models.record(LARGE).status == "error"


def test_a_device_nobody_serves_is_published_but_leaves_the_model_untouched(
    gateway: Gateway,
) -> None:
    asker = gateway.hub.subscribe("s1")
    with pytest.raises(ServiceError) as raised:
        asyncio.run(gateway.load(TINY, "s1", device="cuda:0"))
    assert raised.value.code is ErrorCode.UNSUPPORTED_DEVICE
    assert _names(asker) == ["model.load.failed"]
    assert gateway.link.names() == []
    # What the caller asked for was wrong, not the model.
    assert gateway.models.record(TINY).status == "not_loaded"


def test_making_room_unloads_an_idle_model_after_measuring_and_before_loading(
    gateway: Gateway,
) -> None:
    everyone = gateway.hub.subscribe()

    async def scenario() -> None:
        await gateway.load(TINY)
        await gateway.finish(TINY)
        # tiny.en holds 300 MB; base.en needs 380 with 200 free: it must go first.
        gateway.worker_reports(memory(200))
        gateway.link.release.clear()
        await gateway.load(BASE)
        await gateway.finish(BASE)

    asyncio.run(scenario())
    # Admission went by the heartbeat's figure (fresh), so no status round trip.
    assert gateway.link.names() == [
        f"LoadModel {TINY}",
        f"UnloadModel {TINY}",
        f"LoadModel {BASE}",
    ]
    evicted = [e for e in _events(everyone) if e["t"] == "model.evicted"]
    assert [(e["data"]["model_id"], e["data"]["reason"]) for e in evicted] == [(TINY, "make_room")]
    assert gateway.models.record(TINY).status == "not_loaded"
    assert gateway.models.record(BASE).status == "loaded"


def test_a_full_cache_unloads_before_the_worker_is_measured(tmp_path: Path) -> None:
    gateway = Gateway(tmp_path, memory(10_000), CachePolicy(max_models_loaded=1))
    gateway.worker_says_hello()

    async def scenario() -> None:
        await gateway.load(TINY)
        await gateway.finish(TINY)
        gateway.link.release.clear()
        await gateway.load(BASE)
        await gateway.finish(BASE)

    asyncio.run(scenario())
    assert gateway.link.names() == [f"LoadModel {TINY}", f"UnloadModel {TINY}", f"LoadModel {BASE}"]


def test_a_full_cache_admits_on_the_figure_measured_after_its_unload(tmp_path: Path) -> None:
    # 10 300 MB free, tiny.en takes 300 of it. Before base.en is admitted the full cache
    # unloads tiny.en, and the unload's reply says 10 300 free again: admission must judge
    # by that figure, not by one from before the unload (here a stale heartbeat's 200 MB,
    # which would refuse base.en's 380 MB once tiny.en is gone).
    gateway = Gateway(tmp_path, memory(10_300), CachePolicy(max_models_loaded=1))
    gateway.worker_says_hello()

    async def scenario() -> None:
        await gateway.load(TINY)
        await gateway.finish(TINY)
        gateway.pool.handle("cpu", Heartbeat(worker_id="cpu", seq=2, memory=memory(200)))
        gateway.link.release.clear()
        assert await gateway.load(BASE) == "loading"
        await gateway.finish(BASE)

    asyncio.run(scenario())
    assert gateway.link.names() == [f"LoadModel {TINY}", f"UnloadModel {TINY}", f"LoadModel {BASE}"]
    assert gateway.models.record(BASE).status == "loaded"


def test_a_load_waits_for_a_worker_that_is_starting(tmp_path: Path) -> None:
    gateway = Gateway(tmp_path, memory(10_000), CachePolicy())
    gateway.pool.expect("cpu", "cpu", pid=7)

    async def scenario() -> str:
        asking = asyncio.create_task(gateway.load(TINY))
        await asyncio.sleep(0.01)
        assert not asking.done()  # no worker takes work yet
        gateway.worker_says_hello()
        return await asking

    assert asyncio.run(scenario()) == "loading"
    assert gateway.models.record(TINY).worker_id == "cpu"


def test_a_worker_that_stays_unready_is_worker_unavailable_after_the_timeout(
    tmp_path: Path,
) -> None:
    gateway = Gateway(tmp_path, memory(10_000), CachePolicy())
    gateway.pool.expect("cpu", "cpu", pid=7)
    asker = gateway.hub.subscribe("s1")
    with pytest.raises(ServiceError) as raised:
        asyncio.run(gateway.load(TINY, "s1"))
    assert raised.value.code is ErrorCode.WORKER_UNAVAILABLE
    assert raised.value.details == {"device": "cpu", "workers": ["cpu"]}
    assert _names(asker) == ["model.load.failed"]
