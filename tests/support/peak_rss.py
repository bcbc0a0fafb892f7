"""The peak resident memory of another process while a block runs (tests and benches)."""

from __future__ import annotations

import threading
import time

import psutil

MB = 1024 * 1024


class PeakRss:
    """The highest RSS (MB) of a process while the block runs, sampled every 5 ms; a process
    that ends meanwhile keeps the peak it had."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.before_mb = self._rss()
        self.peak_mb = self.before_mb
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _rss(self) -> float:
        try:
            return float(self._process.memory_info().rss) / MB
        except psutil.Error:
            return 0.0

    def _watch(self) -> None:
        while not self._done.is_set():
            self.peak_mb = max(self.peak_mb, self._rss())
            time.sleep(0.005)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return self.peak_mb - self.before_mb
