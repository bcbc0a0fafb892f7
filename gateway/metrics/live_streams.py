"""Live caption streams open now, by model: the live code opens and closes them here, and
the metrics read them at scrape time (`loquilex_live_streams`)."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator


class LiveStreams:
    def __init__(self) -> None:
        self._open: Counter[str] = Counter()

    def opened(self, model_id: str) -> None:
        self._open[model_id] += 1

    def closed(self, model_id: str) -> None:
        self._open[model_id] -= 1
        if self._open[model_id] <= 0:
            del self._open[model_id]

    @contextlib.contextmanager
    def track(self, model_id: str) -> Iterator[None]:
        """Counted as open for as long as the `with` block runs."""
        self.opened(model_id)
        try:
            yield
        finally:
            self.closed(model_id)

    def by_model(self) -> dict[str, int]:
        return dict(self._open)
