"""How fast a model works off its queue, so a refused client is told when to come back."""

from __future__ import annotations

# Before any batch has finished there is nothing to measure: a guess, in seconds.
_UNMEASURED_RETRY_S = 1.0
_SHORTEST_RETRY_S = 0.1


class ServiceRate:
    """Seconds of work per request, smoothed over recent batches (exponential average)."""

    def __init__(self, smoothing: float = 0.3) -> None:
        self._smoothing = smoothing
        self._seconds_per_request: float | None = None

    def record(self, requests: int, elapsed_s: float) -> None:
        """One batch of `requests` took `elapsed_s` to run."""
        if requests <= 0:
            return
        sample = max(elapsed_s, 0.0) / requests
        previous = self._seconds_per_request
        self._seconds_per_request = (
            sample if previous is None else previous + self._smoothing * (sample - previous)
        )

    def retry_after_s(self, waiting: int, concurrency: int) -> float:
        """About how long until `waiting` requests are worked off, `concurrency` at a time."""
        if self._seconds_per_request is None:
            return _UNMEASURED_RETRY_S
        estimate = self._seconds_per_request * waiting / max(concurrency, 1)
        return round(max(estimate, _SHORTEST_RETRY_S), 1)
