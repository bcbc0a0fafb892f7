"""Bounded per-model queues and the one thread that turns them into batches.

Each model gets a lane: a queue of requests not yet running, capped at `limit` (over it,
`put` refuses with QUEUE_FULL at once, so memory stays bounded), and at most `concurrency`
batches running. The dispatch thread only decides; batches run on the executor that
`submit` hands them to. While a model is busy, new requests pile up behind it and leave
together as the next batch, so a busy model batches more, not less.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from protocol.errors import ErrorCode, ServiceError
from worker.scheduling.batcher import Pending, due_in, take_batch
from worker.scheduling.throughput import ServiceRate

log = logging.getLogger(__name__)

Runner = Callable[[list[Pending[Any]]], None]
Submit = Callable[[Callable[[], None]], object]


@dataclass(frozen=True)
class LanePolicy:
    max_batch_size: int  # sizes (texts) per batch; 1: every request runs alone
    batch_timeout_s: float  # how long the oldest request waits for company
    concurrency: int  # batches of this model running at once
    limit: int  # requests queued (not yet running) before new ones are refused


@dataclass
class _Lane:
    policy: LanePolicy
    run: Runner
    queue: deque[Pending[Any]] = field(default_factory=deque)
    running: int = 0
    rate: ServiceRate = field(default_factory=ServiceRate)


class RequestQueues:
    def __init__(self, submit: Submit, clock: Callable[[], float] = time.monotonic) -> None:
        self._submit = submit
        self._clock = clock
        self._cond = threading.Condition()
        # Lanes stay after they empty: one per model ever used, and they keep its rate.
        self._lanes: dict[str, _Lane] = {}
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="batcher", daemon=True)
        self._thread.start()

    def put(self, model_id: str, pending: Pending[Any], policy: LanePolicy, run: Runner) -> None:
        """Queue a request for `model_id`; raises QUEUE_FULL when its lane is at its limit."""
        with self._cond:
            lane = self._lanes.get(model_id)
            if lane is None:
                lane = self._lanes[model_id] = _Lane(policy, run)
            lane.policy, lane.run = policy, run
            if len(lane.queue) >= policy.limit:
                raise _queue_full(model_id, lane)
            lane.queue.append(pending)
            self._cond.notify()

    def queued(self, model_id: str) -> int:
        with self._cond:
            lane = self._lanes.get(model_id)
            return len(lane.queue) if lane else 0

    def close(self) -> None:
        """Stop dispatching; what is still queued is dropped with the worker."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=1.0)

    def _loop(self) -> None:
        with self._cond:
            while not self._closed:
                self._cond.wait(self._dispatch(self._clock()))

    def _dispatch(self, now: float) -> float | None:
        """Start every batch that is due; returns how long to sleep (None: until woken)."""
        sleep: float | None = None
        for lane in self._lanes.values():
            policy = lane.policy
            while lane.queue and lane.running < policy.concurrency:
                batch = take_batch(lane.queue, policy.max_batch_size, policy.batch_timeout_s, now)
                if batch is None:
                    wait = due_in(lane.queue, policy.batch_timeout_s, now)
                    sleep = wait if sleep is None else min(sleep, wait)
                    break
                lane.running += 1
                try:
                    self._submit(functools.partial(self._run, lane, batch))
                except RuntimeError:  # the executor is shut down: the worker is ending
                    lane.running -= 1
                    log.warning("dropped a batch of %d requests at shutdown", len(batch))
        return sleep

    def _run(self, lane: _Lane, batch: list[Pending[Any]]) -> None:
        started = self._clock()
        try:
            lane.run(batch)
        except Exception:
            # Runners answer their own requests; this is a bug, and the lane must go on.
            log.exception("a batch of %d requests failed unanswered", len(batch))
        finally:
            with self._cond:
                lane.running -= 1
                lane.rate.record(len(batch), self._clock() - started)
                self._cond.notify()


def _queue_full(model_id: str, lane: _Lane) -> ServiceError:
    waiting = len(lane.queue)
    retry = lane.rate.retry_after_s(waiting, lane.policy.concurrency)
    return ServiceError(
        ErrorCode.QUEUE_FULL,
        f"Model {model_id} already has {waiting} requests waiting, its limit; "
        f"retry in about {retry} s.",
        {
            "retry_after_s": retry,
            "queued": waiting,
            "limit": lane.policy.limit,
            "model_id": model_id,
        },
    )
