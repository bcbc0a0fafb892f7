"""Restart backoff grows with jitter; a crash loop stops restarts."""

from __future__ import annotations

import random

from gateway.workers.restart_policy import RestartPolicy


def _policy(seed: int = 1) -> RestartPolicy:
    return RestartPolicy(0.1, 1.0, limit=5, window_s=60.0, rng=random.Random(seed))


def test_backoff_doubles_up_to_the_cap_with_jitter_within_bounds() -> None:
    policy = _policy()
    delays = [policy.next_delay(now=t * 100.0, lived_s=1.0) for t in range(6)]
    for delay, base in zip(delays, [0.1, 0.2, 0.4, 0.8, 1.0, 1.0], strict=True):
        assert delay is not None
        assert base / 2 <= delay <= base


def test_jitter_spreads_workers_that_died_together() -> None:
    delays = {_policy(seed).next_delay(now=0.0, lived_s=1.0) for seed in range(20)}
    assert len(delays) > 10


def test_crash_loop_stops_after_the_limit_within_the_window() -> None:
    policy = _policy()
    results = [policy.next_delay(now=float(t), lived_s=1.0) for t in range(5)]
    assert all(d is not None for d in results[:4])
    assert results[4] is None


def test_exits_spread_beyond_the_window_are_no_loop() -> None:
    policy = _policy()
    results = [policy.next_delay(now=t * 20.0, lived_s=1.0) for t in range(10)]
    assert all(d is not None for d in results)


def test_a_stable_run_resets_the_backoff_and_reset_forgets_exits() -> None:
    policy = _policy()
    for t in range(3):
        policy.next_delay(now=float(t), lived_s=1.0)
    fresh = policy.next_delay(now=3.0, lived_s=31.0)
    assert fresh is not None and fresh <= 0.1
    policy.reset()
    results = [policy.next_delay(now=4.0 + t, lived_s=1.0) for t in range(4)]
    assert all(d is not None for d in results)
