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


def _looping(cooldown_s: float = 2.0, cooldown_max_s: float = 10.0) -> RestartPolicy:
    return RestartPolicy(
        0.1,
        1.0,
        limit=3,
        window_s=60.0,
        rng=random.Random(1),
        cooldown_s=cooldown_s,
        cooldown_max_s=cooldown_max_s,
    )


def _loop_until_stopped(policy: RestartPolicy, start: float) -> float:
    """Exits one second apart until the policy says stop; returns the time it did."""
    now = start
    while policy.next_delay(now=now, lived_s=1.0) is not None:
        now += 1.0
    return now


def test_a_crash_loop_is_retried_after_a_cool_down_that_doubles_to_its_ceiling() -> None:
    policy = _looping()
    cooldowns = []
    now = 0.0
    for _ in range(5):
        now = _loop_until_stopped(policy, now)
        cooldown = policy.cooldown()
        assert cooldown is not None
        cooldowns.append(cooldown)
        now += cooldown
    assert cooldowns == [2.0, 4.0, 8.0, 10.0, 10.0]


def test_after_a_cool_down_the_worker_gets_a_fresh_allowance_of_starts() -> None:
    policy = _looping()
    stopped_at = _loop_until_stopped(policy, 0.0)
    policy.cooldown()
    # Within the same window as the loop, yet the first exits are forgotten: 2 more starts.
    results = [policy.next_delay(now=stopped_at + 2.0 + t, lived_s=1.0) for t in range(3)]
    assert results[0] is not None and results[1] is not None and results[2] is None
    assert results[0] <= 0.1  # and the backoff starts small again


def test_a_stable_run_or_an_operator_restart_starts_the_cool_downs_again() -> None:
    policy = _looping()
    for _ in range(3):
        _loop_until_stopped(policy, 0.0)
        policy.cooldown()
    policy.next_delay(now=1000.0, lived_s=31.0)  # it ran fine for a while, then ended
    _loop_until_stopped(policy, 1001.0)
    assert policy.cooldown() == 2.0
    _loop_until_stopped(policy, 2000.0)
    policy.reset()
    _loop_until_stopped(policy, 3000.0)
    assert policy.cooldown() == 2.0


def test_without_a_cool_down_a_crash_loop_stays_stopped() -> None:
    policy = _looping(cooldown_s=0.0)
    _loop_until_stopped(policy, 0.0)
    assert policy.cooldown() is None
