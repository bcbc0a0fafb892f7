"""What a worker's heartbeat reports of its lanes: every lane's waiting requests, by model
and class of work, with emptied lanes still listed at 0 (a real RequestQueues and executor,
no worker process)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from protocol.wire.messages import LaneDepth
from worker.scheduling.batcher import Pending
from worker.scheduling.lanes import LanePolicy, RequestQueues

POLICY = LanePolicy(max_batch_size=1, batch_timeout_s=0.0, concurrency=1, limit=8)


def item(name: str) -> Pending[str]:
    return Pending(item=name, key=None, size=1, enqueued_at=0.0, request_id=name)


def test_depths_list_each_lane_and_what_waits_in_it() -> None:
    started = threading.Semaphore(0)
    release = threading.Event()
    done = threading.Semaphore(0)

    def run(batch: list[Pending[Any]]) -> None:
        started.release()
        release.wait(10)
        done.release()

    with ThreadPoolExecutor(2) as executor:
        queues = RequestQueues(executor.submit)
        try:
            assert queues.depths() == []
            queues.put("m", item("running"), POLICY, run, "bulk")
            queues.put("other", item("o1"), POLICY, run, "interactive")
            for _ in range(2):  # each model's one slot is taken: the rest wait
                assert started.acquire(timeout=10)
            queues.put("m", item("b1"), POLICY, run, "bulk")
            queues.put("m", item("i1"), POLICY, run, "interactive")
            queues.put("m", item("i2"), POLICY, run, "interactive")
            assert sorted(queues.depths(), key=lambda d: (d.model_id, d.work_class)) == [
                LaneDepth(model_id="m", work_class="bulk", queued=1),
                LaneDepth(model_id="m", work_class="interactive", queued=2),
                # Running on its own model's slot: its lane is listed, nothing waits.
                LaneDepth(model_id="other", work_class="interactive", queued=0),
            ]
            release.set()
            for _ in range(5):
                assert done.acquire(timeout=10)
            assert {(d.model_id, d.work_class, d.queued) for d in queues.depths()} == {
                ("m", "bulk", 0),
                ("m", "interactive", 0),
                ("other", "interactive", 0),
            }
        finally:
            release.set()
            queues.close()
