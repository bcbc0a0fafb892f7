"""Build decoder hypotheses for tests: `words("the:0-200 cat:200-500")`."""

from __future__ import annotations

from worker.live.events import HypWord


def words(spec: str, probability: float = 0.9) -> list[HypWord]:
    result = []
    for item in spec.split():
        text, _, span = item.partition(":")
        start, _, end = span.partition("-")
        result.append(HypWord(" " + text, int(start), int(end), probability))
    return result
