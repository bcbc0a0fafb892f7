"""Which waiting model calls run next, and together: the grouping rule under Whisper decoding.

Concurrent transcriptions of one model each run faster-whisper's own window loop; the
CTranslate2 calls they make (encode a window, generate its tokens) wait here for one of the
model's replicas. When one frees:

- the head is the call that has been passed over `starve_after` times or more (oldest
  first), else the call of the highest priority (a request's class of work), oldest first
  (`seq`: the caller says what oldest means; batched_whisper.py orders by when each
  transcription began);
- every other waiting call with the head's key joins it, highest priority and oldest first,
  up to `max_size` calls; a call whose key is None always runs alone;
- every call left waiting behind a head of higher priority than its own counts one more
  pass-over, so a long file's windows wait at most a few batches behind a steady stream of
  interactive work (among equals, age alone decides: the oldest always goes first).

Keys say when calls may share one CTranslate2 call without changing any result
(batched_whisper.py makes them). Plain functions of a list, no threads.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

# A call waits behind at most this many batches of higher-priority calls before it goes.
STARVE_AFTER = 3


@dataclass(eq=False)
class WaitingCall(Generic[T]):
    item: T
    key: Hashable | None  # None: runs alone
    priority: int  # higher goes first
    seq: int  # age: lower is older
    passed_over: int = 0


def next_batch(
    waiting: Sequence[WaitingCall[T]], max_size: int, starve_after: int = STARVE_AFTER
) -> list[WaitingCall[T]]:
    """The calls that run next, together, head first (empty when nothing waits)."""
    if not waiting:
        return []
    starving = [call for call in waiting if call.passed_over >= starve_after]
    if starving:
        head = min(starving, key=lambda call: call.seq)
    else:
        head = min(waiting, key=lambda call: (-call.priority, call.seq))
    batch = [head]
    if head.key is not None:
        company = sorted(
            (call for call in waiting if call is not head and call.key == head.key),
            key=lambda call: (-call.priority, call.seq),
        )
        batch += company[: max(max_size - 1, 0)]
    return batch


def take_next_batch(
    waiting: list[WaitingCall[T]], max_size: int, starve_after: int = STARVE_AFTER
) -> list[WaitingCall[T]]:
    """`next_batch`, taken out of `waiting`; the calls of lower priority than its head that
    it leaves behind count a pass-over."""
    batch = next_batch(waiting, max_size, starve_after)
    chosen = {id(call) for call in batch}
    waiting[:] = [call for call in waiting if id(call) not in chosen]
    if batch:
        for call in waiting:
            if call.priority < batch[0].priority:
                call.passed_over += 1
    return batch
