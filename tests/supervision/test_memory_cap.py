"""The worker's memory cap, measured against RSS (the exit it causes: test_memory_cap_exit)."""

from __future__ import annotations

from worker.memory_cap import MemoryCap


def test_exceeded_only_past_the_limit() -> None:
    rss = [100.0]
    cap = MemoryCap(150.0, lambda why: None, measure=lambda: rss[0])
    assert cap.exceeded() is None
    rss[0] = 151.0
    why = cap.exceeded()
    assert why is not None and "151 MB" in why and "150 MB" in why
