"""Worker states, events, waiting for a ready worker and silence detection, without processes."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from gateway.event_hub import EventHub, Subscription
from gateway.workers.exits import worker_exit
from gateway.workers.heartbeat_monitor import HeartbeatMonitor
from gateway.workers.pool import WorkerPool, WorkerState
from protocol.errors import ErrorCode, ServiceError
from protocol.wire import messages as ipc

MEMORY = ipc.MemoryInfo(total_mb=1000, available_mb=500, process_rss_mb=50)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _hello(worker_id: str, models: tuple[str, ...] = ()) -> ipc.Hello:
    loaded = [
        ipc.LoadedModel(
            model_id=m,
            kind="asr",
            device="cpu",
            compute_type="int8",
            loaded_at="2026-01-01T00:00:00+00:00",
            memory_usage_mb=10,
            load_time_ms=5,
        )
        for m in models
    ]
    return ipc.Hello(
        worker_id=worker_id, device="cpu", pid=7, host="h", memory=MEMORY, models=loaded
    )


def _events(subscription: Subscription) -> list[str]:
    names = []
    while not subscription.queue.empty():
        frame = subscription.queue.get_nowait()
        assert frame is not None
        names.append(msgspec.json.decode(frame)["t"])
    return names


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def hub() -> EventHub:
    return EventHub()


@pytest.fixture
def pool(hub: EventHub, clock: Clock) -> WorkerPool:
    return WorkerPool(hub, ready_timeout_s=0.05, clock=clock)


def test_lifecycle_publishes_one_event_per_state_but_not_for_busy(
    pool: WorkerPool, hub: EventHub
) -> None:
    seen = hub.subscribe()
    pool.expect("cpu", "cpu", 7)
    pool.handle("cpu", _hello("cpu"))
    beat = ipc.Heartbeat(worker_id="cpu", seq=1, memory=MEMORY, in_flight=2)
    pool.handle("cpu", beat)
    assert pool.require("cpu").state == "busy"
    pool.mark_draining("cpu")
    pool.mark_hung("cpu", worker_exit("hang", "silent"))
    pool.mark_lost("cpu", worker_exit("hang", "silent"))
    pool.mark_restarting("cpu")
    pool.mark_failed("cpu")
    assert _events(seen) == [
        "worker.starting",
        "worker.ready",
        "worker.draining",
        "worker.hung",
        "worker.lost",
        "worker.restarting",
        "worker.failed",
    ]
    summary = pool.summaries()[0]
    assert summary.restart_count == 1
    assert summary.last_exit is not None and summary.last_exit.reason == "hang"


def test_a_draining_worker_refuses_new_work(pool: WorkerPool) -> None:
    pool.handle("a", _hello("a"))
    pool.handle("b", _hello("b"))
    pool.mark_draining("a")
    refusal = pool.refusal("a")
    assert refusal is not None and refusal.code is ErrorCode.WORKER_UNAVAILABLE
    assert pool.refusal("b") is None
    # Placement (tests/models/test_placement.py) takes only workers whose `ready` is set.
    assert not pool.require("a").ready.is_set() and pool.require("b").ready.is_set()


def test_waiting_for_a_worker_ends_at_its_hello_or_at_the_timeout(pool: WorkerPool) -> None:
    starting = pool.expect("cpu", "cpu", 7)

    async def hello_soon() -> bool:
        waiting = asyncio.create_task(pool.wait_until_ready([starting]))
        await asyncio.sleep(0)
        pool.handle("cpu", _hello("cpu"))
        await asyncio.wait_for(waiting, timeout=5.0)
        return starting.ready.is_set()

    assert asyncio.run(hello_soon())
    pool.mark_lost("cpu", worker_exit("crash", "gone"))

    async def silence() -> float:
        started = asyncio.get_running_loop().time()
        await pool.wait_until_ready([starting])
        return asyncio.get_running_loop().time() - started

    assert pool.ready_timeout_s == 0.05
    # It waited out the timeout (less the event loop's clock resolution).
    assert asyncio.run(silence()) >= 0.049 and not starting.ready.is_set()


def test_unknown_worker_is_worker_not_found(pool: WorkerPool) -> None:
    with pytest.raises(ServiceError) as raised:
        pool.require("gpu-9")
    assert raised.value.code is ErrorCode.WORKER_NOT_FOUND


def test_a_remote_goodbye_is_a_loss_with_its_reason_a_local_one_waits_for_the_exit(
    pool: WorkerPool,
) -> None:
    pool.handle("remote", _hello("remote", ("m1",)))
    pool.handle("remote", ipc.Goodbye(worker_id="remote", reason="oom", message="900 MB"))
    remote = pool.require("remote")
    assert remote.state == "lost" and remote.models == set()
    assert remote.last_exit is not None and remote.last_exit.reason == "oom"
    pool.expect("cpu", "cpu", 8)
    pool.handle("cpu", _hello("cpu"))
    pool.handle("cpu", ipc.Goodbye(worker_id="cpu", reason="shutdown"))
    assert pool.require("cpu").state == "ready"


def test_models_follow_load_and_unload_results(pool: WorkerPool) -> None:
    pool.handle("a", _hello("a", ("m1",)))
    worker = pool.require("a")
    model = _hello("a", ("m2",)).models[0]
    pool.handle("a", ipc.LoadResult(request_id="r", model=model))
    pool.handle("a", ipc.UnloadResult(request_id="u", model_id="m1", memory_freed_mb=1))
    assert worker.models == {"m2"}
    assert pool.summaries()[0].models == ["m2"]


def test_monitor_finds_silent_workers_and_starts_that_never_said_hello(
    pool: WorkerPool, clock: Clock
) -> None:
    found: list[WorkerState] = []
    monitor = HeartbeatMonitor(pool, 1.0, 5.0, lambda w, why: found.append(w))
    pool.handle("quiet", _hello("quiet"))
    pool.expect("stuck", "cpu", 9)
    clock.now += 0.9
    assert monitor.silent() == []
    clock.now += 0.2
    assert [w.worker_id for w, _ in monitor.silent()] == ["quiet"]
    clock.now += 4.0
    assert sorted(w.worker_id for w, _ in monitor.silent()) == ["quiet", "stuck"]
    why = dict((w.worker_id, why) for w, why in monitor.silent())["quiet"]
    assert "no heartbeat" in why


def test_a_finished_drain_says_so_until_the_worker_is_resumed(
    pool: WorkerPool, hub: EventHub
) -> None:
    pool.handle("cpu", _hello("cpu"))
    seen = hub.subscribe()
    pool.mark_drained("cpu")  # not draining: nothing to say
    assert not pool.summaries()[0].drained
    pool.mark_draining("cpu")
    assert not pool.summaries()[0].drained  # still has work in flight, as far as it knows
    pool.mark_drained("cpu")
    pool.mark_drained("cpu")  # said once
    assert pool.summaries()[0].drained and pool.refusal("cpu") is not None
    pool.mark_resumed("cpu", "drain ended by an operator")
    worker = pool.require("cpu")
    assert worker.state == "ready" and worker.ready.is_set() and not worker.drained
    assert pool.refusal("cpu") is None
    assert _events(seen) == ["worker.draining", "worker.drained", "worker.ready"]
    pool.mark_resumed("cpu", "again")  # not draining: no change, no event
    assert _events(seen) == []
