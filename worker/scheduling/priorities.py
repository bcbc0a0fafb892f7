"""Which of a model's lanes starts the next batch when one of its decode slots is free.

A model has one lane per class of work (its own queue, batching rule and priority) and one
decode capacity, `concurrency` batches at once, shared by all its lanes. Each free slot:

- only lanes whose head batch is due take part (full, or waited its batch timeout), and
  not a lane that already runs its `max_running` batches (a cap on its share of the
  slots: long files may hold only some, so interactive work always finds one free);
- the highest priority goes first, ties to the lane whose head has waited longest;
- but a lane passed over `starve_after` times in a row while it had a batch due goes next
  whatever its priority: under a steady stream of interactive work a bulk request still
  gets at least one start in every `starve_after + 1`, so it never starves.

Nothing is preempted: a long file that is running keeps its slot to the end, and interactive
work takes the next slot that frees. Plain functions of lanes and a clock value, no threads.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from worker.scheduling.batcher import Pending, due_in, plan_batch, take_batch

# Bulk work waits at most this many starts of higher-priority work before it goes.
STARVE_AFTER = 3


@dataclass(kw_only=True, eq=False)
class Lane:
    """One queue of a model: requests of one class of work, in arrival order."""

    priority: int  # higher starts first
    max_batch_size: int  # sizes (texts) per batch; 1: every request runs alone
    batch_timeout_s: float  # how long the oldest request waits for company
    queue: deque[Pending[Any]] = field(default_factory=deque)
    # Starts of other lanes since this one last started, while it had a batch due.
    passed_over: int = 0
    running: int = 0  # its batches running now
    max_running: int | None = None  # of the model's slots, at most this many; None: any

    def at_cap(self) -> bool:
        return self.max_running is not None and self.running >= self.max_running

    def due(self, now: float) -> bool:
        if not self.queue or self.at_cap():
            return False
        _, full = plan_batch(self.queue, self.max_batch_size)
        return full or now >= self.queue[0].enqueued_at + self.batch_timeout_s


L = TypeVar("L", bound=Lane)


def choose(due: Sequence[L], starve_after: int = STARVE_AFTER) -> L:
    """The lane that starts next among lanes with a batch due (at least one)."""
    starving = [lane for lane in due if lane.passed_over >= starve_after]
    return min(starving or due, key=lambda lane: (-lane.priority, lane.queue[0].enqueued_at))


def start_batches(
    lanes: Sequence[L], free_slots: int, now: float, starve_after: int = STARVE_AFTER
) -> list[tuple[L, list[Pending[Any]]]]:
    """The batches to start now on a model with `free_slots` free decode slots, each taken
    out of its lane, in the order they should start."""
    started: list[tuple[L, list[Pending[Any]]]] = []
    while len(started) < free_slots:
        due = [lane for lane in lanes if lane.due(now)]
        if not due:
            break
        chosen = choose(due, starve_after)
        for lane in due:
            lane.passed_over = 0 if lane is chosen else lane.passed_over + 1
        batch = take_batch(chosen.queue, chosen.max_batch_size, chosen.batch_timeout_s, now)
        assert batch is not None  # it was due
        chosen.running += 1  # the caller counts it down when the batch ends
        started.append((chosen, batch))
    return started


def next_due_in(lanes: Sequence[Lane], now: float) -> float | None:
    """Seconds until some lane not yet due will be, even if nothing more arrives (None:
    every lane is empty, already due or at its cap, so only an arrival or a batch that
    ends changes anything)."""
    waits = [
        due_in(lane.queue, lane.batch_timeout_s, now)
        for lane in lanes
        if lane.queue and not lane.at_cap() and not lane.due(now)
    ]
    return min(waits, default=None)
