"""One load at a time per worker; loads waiting for it go by priority, then arrival.

Loading two models at once on one device would race for the same free memory that
admission counted, and slows both; queued loads instead start in the order asked.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

Priority = Literal["low", "normal", "high"]
_RANK: dict[Priority, int] = {"high": 0, "normal": 1, "low": 2}


class LoadSlots:
    def __init__(self) -> None:
        self._busy: set[str] = set()
        self._waiting: dict[str, list[tuple[int, int, asyncio.Future[None]]]] = {}
        self._order = itertools.count()

    def queued(self, worker_id: str) -> int:
        return len(self._waiting.get(worker_id, []))

    @asynccontextmanager
    async def slot(self, worker_id: str, priority: Priority = "normal") -> AsyncIterator[None]:
        await self._acquire(worker_id, priority)
        try:
            yield
        finally:
            self._release(worker_id)

    async def _acquire(self, worker_id: str, priority: Priority) -> None:
        if worker_id not in self._busy:
            self._busy.add(worker_id)
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heap = self._waiting.setdefault(worker_id, [])
        heapq.heappush(heap, (_RANK[priority], next(self._order), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release(worker_id)  # handed the slot as we were cancelled: pass it on
            else:
                heap.remove(next(item for item in heap if item[2] is turn))
                heapq.heapify(heap)
            raise

    def _release(self, worker_id: str) -> None:
        heap = self._waiting.get(worker_id)
        while heap:
            _, _, turn = heapq.heappop(heap)
            if not turn.done():
                turn.set_result(None)  # the slot passes straight to the next in line
                return
        self._busy.discard(worker_id)
