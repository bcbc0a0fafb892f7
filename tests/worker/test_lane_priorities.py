"""Which lane starts next, on plain lanes and a clock value; and the lanes of RequestQueues
(per class limits, cancel) on a real executor, without a worker process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from protocol.errors import ErrorCode, ServiceError
from protocol.wire.messages import Transcribe
from worker.scheduling.batcher import Pending
from worker.scheduling.inference import INTERACTIVE_MAX_SECONDS, work_class_of
from worker.scheduling.lanes import LanePolicy, RequestQueues
from worker.scheduling.priorities import STARVE_AFTER, Lane, next_due_in, start_batches


def lane(priority: int, *names: str, batch: int = 1, timeout_s: float = 0.0) -> Lane:
    queued = Lane(priority=priority, max_batch_size=batch, batch_timeout_s=timeout_s)
    for name in names:
        add(queued, name)
    return queued


def add(to: Lane, name: str, at: float = 0.0) -> None:
    to.queue.append(Pending(item=name, key=None, size=1, enqueued_at=at, request_id=name))


def started(batches: list[tuple[Lane, list[Pending[Any]]]]) -> list[list[str]]:
    return [[p.item for p in batch] for _, batch in batches]


# ---------------------------------------------------------------- the decision


def test_a_free_slot_goes_to_the_highest_priority_then_the_oldest() -> None:
    bulk = lane(0, "long-1", "long-2")
    interactive = lane(1, "probe", "clip")
    assert started(start_batches([bulk, interactive], free_slots=1, now=1.0)) == [["probe"]]
    assert started(start_batches([bulk, interactive], free_slots=1, now=1.0)) == [["clip"]]
    assert started(start_batches([bulk, interactive], free_slots=1, now=1.0)) == [["long-1"]]

    # Equal priority: the lane whose head waited longest.
    early, late = lane(1), lane(1)
    add(late, "late", at=5.0)
    add(early, "early", at=2.0)
    assert started(start_batches([late, early], free_slots=1, now=6.0)) == [["early"]]


def test_never_more_batches_than_free_slots_and_none_without_one() -> None:
    bulk = lane(0, "a", "b", "c")
    interactive = lane(1, "x", "y")
    assert start_batches([bulk, interactive], free_slots=0, now=1.0) == []
    assert started(start_batches([bulk, interactive], free_slots=2, now=1.0)) == [["x"], ["y"]]
    assert started(start_batches([bulk, interactive], free_slots=5, now=1.0)) == [
        ["a"],
        ["b"],
        ["c"],
    ]
    assert start_batches([bulk, interactive], free_slots=5, now=1.0) == []


def test_bulk_work_is_not_starved_by_a_steady_stream_of_interactive_work() -> None:
    bulk = lane(0, "long-1", "long-2")
    interactive = lane(1)
    order: list[str] = []
    for tick in range(4 * (STARVE_AFTER + 1)):
        add(interactive, f"clip-{tick:02d}", at=float(tick))  # never fewer waiting
        add(interactive, f"clip-{tick:02d}b", at=float(tick))
        (batch,) = started(start_batches([bulk, interactive], free_slots=1, now=float(tick)))
        order.extend(batch)
    # One bulk start in every STARVE_AFTER + 1, and interactive work in all the others.
    positions = [i for i, name in enumerate(order) if name.startswith("long")]
    assert positions == [STARVE_AFTER, 2 * STARVE_AFTER + 1]
    assert order[STARVE_AFTER] == "long-1" and not bulk.queue
    clips = [name for name in order if name.startswith("clip")]
    assert clips == sorted(clips)  # interactive work in its own arrival order


def test_a_lane_that_is_not_due_waits_and_says_when_it_will_be() -> None:
    translations = lane(1, batch=8, timeout_s=0.5)
    add(translations, "t1", at=10.0)
    add(translations, "t2", at=10.1)
    bulk = lane(0, "long")
    # The translations wait for company; the bulk request may use the free slot meanwhile,
    # and the one that waits is not counted as passed over.
    assert started(start_batches([translations, bulk], free_slots=2, now=10.2)) == [["long"]]
    assert translations.passed_over == 0
    assert next_due_in([translations, bulk], now=10.2) == pytest.approx(0.3)
    assert started(start_batches([translations, bulk], free_slots=2, now=10.5)) == [["t1", "t2"]]
    assert next_due_in([translations, bulk], now=10.5) is None


def test_how_a_transcription_gets_its_class() -> None:
    second = 32_000  # bytes of one second of 16 kHz 16-bit PCM
    limit = int(INTERACTIVE_MAX_SECONDS * second)
    pcm = Transcribe(request_id="r", model_id="m", audio_format="pcm_s16le")
    wav = Transcribe(request_id="r", model_id="m")
    assert work_class_of(pcm, limit) == "interactive"
    assert work_class_of(pcm, limit + 2) == "bulk"
    assert work_class_of(wav, 100_000) == "interactive"
    assert work_class_of(wav, 10 * limit) == "bulk"
    # What the gateway names wins over the estimate, both ways.
    named = Transcribe(request_id="r", model_id="m", work_class="interactive")
    assert work_class_of(named, 10 * limit) == "interactive"
    named = Transcribe(request_id="r", model_id="m", work_class="bulk")
    assert work_class_of(named, 10) == "bulk"


# ---------------------------------------------------------------- lanes of RequestQueues


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as pool:
        yield pool


def policy(priority: int, limit: int = 2, concurrency: int = 1) -> LanePolicy:
    return LanePolicy(
        max_batch_size=1,
        batch_timeout_s=0.0,
        concurrency=concurrency,
        limit=limit,
        priority=priority,
    )


def item(name: str) -> Pending[str]:
    return Pending(item=name, key=None, size=1, enqueued_at=0.0, request_id=name)


class Recorder:
    """A runner that records what ran and holds the first batch until released."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.first_started = threading.Event()
        self.release = threading.Event()
        self.done = threading.Semaphore(0)

    def __call__(self, batch: list[Pending[Any]]) -> None:
        self.ran.extend(p.item for p in batch)
        self.first_started.set()
        self.release.wait(10)
        self.done.release()

    def wait_for(self, count: int) -> None:
        for _ in range(count):
            assert self.done.acquire(timeout=10)


def test_lanes_of_one_model_share_its_slots_and_interactive_work_goes_first(
    executor: ThreadPoolExecutor,
) -> None:
    queues = RequestQueues(executor.submit)
    run = Recorder()
    try:
        queues.put("m", item("long-1"), policy(0), run, "bulk")
        assert run.first_started.wait(10)
        # The model's one slot is taken: these wait, whatever their class.
        queues.put("m", item("long-2"), policy(0), run, "bulk")
        queues.put("m", item("clip"), policy(1), run, "interactive")
        assert (queues.queued("m", "bulk"), queues.queued("m", "interactive")) == (1, 1)
        assert run.ran == ["long-1"]
        run.release.set()
        run.wait_for(3)
        assert run.ran == ["long-1", "clip", "long-2"]
    finally:
        run.release.set()
        queues.close()


def test_each_lane_has_its_own_limit(executor: ThreadPoolExecutor) -> None:
    queues = RequestQueues(executor.submit)
    run = Recorder()
    try:
        queues.put("m", item("running"), policy(0), run, "bulk")
        assert run.first_started.wait(10)
        queues.put("m", item("b1"), policy(0), run, "bulk")
        queues.put("m", item("b2"), policy(0), run, "bulk")
        with pytest.raises(ServiceError) as caught:
            queues.put("m", item("b3"), policy(0), run, "bulk")
        assert caught.value.code is ErrorCode.QUEUE_FULL
        assert {k: caught.value.details[k] for k in ("queued", "limit", "model_id")} == {
            "queued": 2,
            "limit": 2,
            "model_id": "m",
        }
        # A full bulk lane does not refuse interactive work, which is bounded on its own.
        queues.put("m", item("i1"), policy(1), run, "interactive")
        queues.put("m", item("i2"), policy(1), run, "interactive")
        with pytest.raises(ServiceError):
            queues.put("m", item("i3"), policy(1), run, "interactive")
        assert queues.queued("m") == 4
    finally:
        run.release.set()
        queues.close()


def test_cancel_takes_a_waiting_request_out_of_its_lane(executor: ThreadPoolExecutor) -> None:
    queues = RequestQueues(executor.submit)
    run = Recorder()
    try:
        queues.put("m", item("running"), policy(0), run, "bulk")
        assert run.first_started.wait(10)
        for name in ("a", "b", "c"):
            queues.put("m", item(name), policy(1, limit=3), run, "interactive")
        assert queues.cancel("b") is True
        assert queues.cancel("running") is False  # it has started: not the lanes' to drop
        assert queues.cancel("unknown") is False
        assert queues.queued("m") == 2
        queues.put("m", item("d"), policy(1, limit=3), run, "interactive")  # room again
        run.release.set()
        run.wait_for(4)
        assert run.ran == ["running", "a", "c", "d"]
    finally:
        run.release.set()
        queues.close()


def test_a_lane_at_its_cap_of_slots_waits_while_others_start() -> None:
    bulk = lane(0, "long-1", "long-2")
    bulk.max_running = 1
    interactive = lane(1)
    # Two free slots, only bulk work: one long file starts, the other waits for it.
    assert started(start_batches([bulk, interactive], free_slots=2, now=1.0)) == [["long-1"]]
    assert bulk.running == 1
    # A clip arriving now still gets the slot the long file may not take.
    add(interactive, "clip", at=1.0)
    assert started(start_batches([bulk, interactive], free_slots=1, now=1.0)) == [["clip"]]
    # Nothing to wake up for until a batch ends: no busy wait on the capped lane.
    assert next_due_in([bulk, interactive], now=5.0) is None
    bulk.running -= 1  # long-1 ended
    assert started(start_batches([bulk, interactive], free_slots=1, now=5.0)) == [["long-2"]]
