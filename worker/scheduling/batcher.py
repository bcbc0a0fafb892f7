"""Which queued requests run together: the grouping rule of the worker's batching.

The oldest request decides a batch: every later request with an equal key joins it, in
arrival order, while their sizes (texts) fit under `max_size`. A batch leaves the queue once
it is full or once its oldest request has waited `timeout_s`; requests with other keys stay
queued, in order, for the batches after it. Pure functions of a queue and a clock value.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Pending(Generic[T]):
    """One request waiting in a model's queue."""

    item: T
    key: Hashable  # only requests with equal keys may share a batch
    size: int  # what it adds to a batch: its texts (at least 1)
    enqueued_at: float  # time.monotonic() when it arrived
    request_id: str = ""  # what a Cancel names


def plan_batch(queue: Sequence[Pending[T]], max_size: int) -> tuple[list[int], bool]:
    """Positions of the requests the head's batch would take, and whether it can grow no more.

    The head always goes, even when it alone is larger than `max_size`: its texts are never
    split across batches.
    """
    head = queue[0]
    chosen = [0]
    total = head.size
    for index in range(1, len(queue)):
        if total >= max_size:
            break
        pending = queue[index]
        if pending.key != head.key:
            continue
        if total + pending.size > max_size:
            # Stop rather than skip it: requests with one key keep their order.
            return chosen, True
        chosen.append(index)
        total += pending.size
    return chosen, total >= max_size


def take_batch(
    queue: deque[Pending[T]], max_size: int, timeout_s: float, now: float
) -> list[Pending[T]] | None:
    """Remove and return the head's batch if it is due (full, or waited long enough)."""
    if not queue:
        return None
    chosen, full = plan_batch(queue, max_size)
    if not full and now < queue[0].enqueued_at + timeout_s:
        return None
    taken = set(chosen)
    batch = [queue[i] for i in chosen]
    rest = [pending for i, pending in enumerate(queue) if i not in taken]
    queue.clear()
    queue.extend(rest)
    return batch


def due_in(queue: Sequence[Pending[T]], timeout_s: float, now: float) -> float:
    """Seconds until the head's batch is due even if no more requests come (0: now)."""
    return max(0.0, queue[0].enqueued_at + timeout_s - now)
