"""Bounded lanes per model and class of work, and the one thread that turns them into batches.

Each model has a lane per class of work (`interactive`, `bulk`: see inference.py for how a
request gets its class; `live`: live caption decodes, live_streams.py): a queue of requests
not yet running, capped at `limit` (over it, `put` refuses with QUEUE_FULL at once, so
memory stays bounded). The model's lanes share
its capacity of `concurrency` batches running at once; which lane gets a free slot is the
rule of priorities.py. The dispatch thread only decides; batches run on the executor that
`submit` hands them to. While a model is busy, new requests pile up behind it and leave
together as the next batch, so a busy model batches more, not less. `cancel` takes a
request that has not started out of its lane.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from protocol.errors import ErrorCode, ServiceError
from protocol.wire.messages import LaneDepth
from worker.scheduling.batcher import Pending
from worker.scheduling.priorities import Lane, next_due_in, start_batches
from worker.scheduling.throughput import ServiceRate

log = logging.getLogger(__name__)

Runner = Callable[[list[Pending[Any]]], None]
Submit = Callable[[Callable[[], None]], object]

# The class of work of a request that names none.
DEFAULT_CLASS = "interactive"


@dataclass(frozen=True)
class LanePolicy:
    max_batch_size: int  # sizes (texts) per batch; 1: every request runs alone
    batch_timeout_s: float  # how long the oldest request waits for company
    concurrency: int  # batches of this model running at once, over all its lanes
    limit: int  # requests queued in this lane (not yet running) before new ones are refused
    priority: int = 0  # among the model's lanes, higher starts first
    max_running: int | None = None  # of the model's slots this lane may hold; None: all


@dataclass(kw_only=True, eq=False)
class _Lane(Lane):
    work_class: str
    run: Runner
    rate: ServiceRate = field(default_factory=ServiceRate)
    limit: int


@dataclass(eq=False)
class _Model:
    concurrency: int
    running: int = 0
    # Lanes stay after they empty: one per class ever used, and they keep its rate.
    lanes: dict[str, _Lane] = field(default_factory=dict)


class RequestQueues:
    def __init__(self, submit: Submit, clock: Callable[[], float] = time.monotonic) -> None:
        self._submit = submit
        self._clock = clock
        self._cond = threading.Condition()
        self._models: dict[str, _Model] = {}
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="batcher", daemon=True)
        self._thread.start()

    def put(
        self,
        model_id: str,
        pending: Pending[Any],
        policy: LanePolicy,
        run: Runner,
        work_class: str = DEFAULT_CLASS,
    ) -> None:
        """Queue a request in its model's lane for `work_class`; raises QUEUE_FULL when
        that lane is at its limit."""
        with self._cond:
            model = self._models.get(model_id)
            if model is None:
                model = self._models[model_id] = _Model(policy.concurrency)
            model.concurrency = policy.concurrency
            lane = model.lanes.get(work_class)
            if lane is None:
                lane = model.lanes[work_class] = _Lane(
                    work_class=work_class,
                    run=run,
                    limit=policy.limit,
                    priority=policy.priority,
                    max_batch_size=policy.max_batch_size,
                    batch_timeout_s=policy.batch_timeout_s,
                    max_running=policy.max_running,
                )
            lane.run, lane.limit, lane.priority = run, policy.limit, policy.priority
            lane.max_running = policy.max_running
            lane.max_batch_size, lane.batch_timeout_s = (
                policy.max_batch_size,
                policy.batch_timeout_s,
            )
            if len(lane.queue) >= lane.limit:
                raise _queue_full(model_id, lane, model.concurrency)
            lane.queue.append(pending)
            self._cond.notify()

    def queued(self, model_id: str, work_class: str | None = None) -> int:
        """Requests of `model_id` waiting (in one class's lane, or in all of them)."""
        with self._cond:
            model = self._models.get(model_id)
            if model is None:
                return 0
            return sum(
                len(lane.queue)
                for name, lane in model.lanes.items()
                if work_class is None or name == work_class
            )

    def depths(self) -> list[LaneDepth]:
        """Every lane's waiting requests (what heartbeats report for the gateway's metrics)."""
        with self._cond:
            return [
                LaneDepth(model_id=model_id, work_class=name, queued=len(lane.queue))
                for model_id, model in self._models.items()
                for name, lane in model.lanes.items()
            ]

    def cancel(self, request_id: str) -> bool:
        """Take a request that has not started out of its lane; False if none waits."""
        with self._cond:
            for model in self._models.values():
                for lane in model.lanes.values():
                    for pending in lane.queue:
                        if pending.request_id == request_id:
                            lane.queue.remove(pending)
                            self._cond.notify()  # a batch it held back may be due now
                            return True
        return False

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
        """Start every batch that is due and has a slot; returns how long to sleep
        (None: until woken by an arrival or a finished batch)."""
        sleep: float | None = None
        for model in self._models.values():
            lanes = list(model.lanes.values())
            for lane, batch in start_batches(lanes, model.concurrency - model.running, now):
                model.running += 1
                try:
                    self._submit(functools.partial(self._run, model, lane, batch))
                except RuntimeError:  # the executor is shut down: the worker is ending
                    model.running -= 1
                    lane.running -= 1
                    log.warning("dropped a batch of %d requests at shutdown", len(batch))
            if model.running < model.concurrency:
                wait = next_due_in(lanes, now)
                if wait is not None:
                    sleep = wait if sleep is None else min(sleep, wait)
        return sleep

    def _run(self, model: _Model, lane: _Lane, batch: list[Pending[Any]]) -> None:
        started = self._clock()
        try:
            lane.run(batch)
        except Exception:
            # Runners answer their own requests; this is a bug, and the lane must go on.
            log.exception("a batch of %d requests failed unanswered", len(batch))
        finally:
            with self._cond:
                model.running -= 1
                lane.running -= 1
                lane.rate.record(len(batch), self._clock() - started)
                self._cond.notify()


def _queue_full(model_id: str, lane: _Lane, concurrency: int) -> ServiceError:
    waiting = len(lane.queue)
    retry = lane.rate.retry_after_s(waiting, concurrency)
    return ServiceError(
        ErrorCode.QUEUE_FULL,
        f"Model {model_id} already has {waiting} {lane.work_class} requests waiting, "
        f"its limit; retry in about {retry} s.",
        {"retry_after_s": retry, "queued": waiting, "limit": lane.limit, "model_id": model_id},
    )
