"""Per-model inference counters measured at the gateway: latency, throughput, errors."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from protocol.api.lifecycle import PerformanceMetrics

_WINDOW = 512  # latencies kept for the average and p95
_THROUGHPUT_WINDOW_S = 60.0


class _Revision(Protocol):
    def bump(self) -> None: ...


@dataclass
class InferenceStats:
    clock: Callable[[], float] = time.monotonic
    count: int = 0
    errors: int = 0
    cache_hits: int = 0
    last_ms: float = 0.0
    last_at: float | None = None
    _latencies: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    _finished_at: deque[float] = field(default_factory=lambda: deque(maxlen=4096))
    # Told of every change (the record's revision: see records.py).
    revision: _Revision | None = None

    def record(self, elapsed_ms: float, ok: bool) -> None:
        now = self.clock()
        self.count += 1
        self.last_at = now
        self._finished_at.append(now)
        if ok:
            self.last_ms = elapsed_ms
            self._latencies.append(elapsed_ms)
        else:
            self.errors += 1
        if self.revision is not None:
            self.revision.bump()

    def record_cache_hit(self, elapsed_ms: float) -> None:
        """A request answered from the result cache: served, and counted in the hit rate."""
        self.cache_hits += 1
        self.record(elapsed_ms, ok=True)

    @property
    def error_rate(self) -> float:
        return self.errors / self.count if self.count else 0.0

    def metrics(self) -> PerformanceMetrics:
        latencies = sorted(self._latencies)
        avg = sum(latencies) / len(latencies) if latencies else 0.0
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] if latencies else 0.0
        horizon = self.clock() - _THROUGHPUT_WINDOW_S
        recent = sum(1 for t in self._finished_at if t >= horizon)
        return PerformanceMetrics(
            avg_inference_time_ms=round(avg, 2),
            p95_inference_time_ms=round(p95, 2),
            throughput_per_second=round(recent / _THROUGHPUT_WINDOW_S, 4),
            cache_hit_rate=round(self.cache_hits / self.count, 4) if self.count else 0.0,
        )
