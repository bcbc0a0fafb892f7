"""The grouping rule under Whisper decoding: which waiting model calls run next, together."""

from __future__ import annotations

from collections.abc import Hashable

from worker.engines.decode_batches import STARVE_AFTER, WaitingCall, next_batch, take_next_batch

INTERACTIVE, BULK = 1, 0


def call(
    name: str, key: Hashable | None, priority: int = INTERACTIVE, seq: int = 0
) -> WaitingCall[str]:
    return WaitingCall(item=name, key=key, priority=priority, seq=seq)


def names(calls: list[WaitingCall[str]]) -> list[str]:
    return [c.item for c in calls]


def test_calls_with_the_heads_key_join_it_in_priority_then_arrival_order() -> None:
    waiting = [
        call("a", "gen", BULK, seq=0),
        call("b", "enc", INTERACTIVE, seq=1),
        call("c", "enc", BULK, seq=2),
        call("d", "enc", INTERACTIVE, seq=3),
    ]
    # The head is the oldest interactive call; the other "enc" calls join, interactive first.
    assert names(next_batch(waiting, max_size=8)) == ["b", "d", "c"]


def test_a_batch_holds_at_most_max_size_calls() -> None:
    waiting = [call(f"c{i}", "gen", seq=i) for i in range(5)]
    assert names(next_batch(waiting, max_size=3)) == ["c0", "c1", "c2"]
    assert names(next_batch(waiting, max_size=1)) == ["c0"]


def test_a_call_without_a_key_always_runs_alone() -> None:
    waiting = [call("sampled", None, seq=0), call("other", None, seq=1), call("g", "gen", seq=2)]
    assert names(next_batch(waiting, max_size=8)) == ["sampled"]


def test_nothing_waiting_is_an_empty_batch() -> None:
    assert next_batch([], max_size=4) == []


def test_taking_a_batch_removes_it_and_counts_a_pass_over_for_lower_priorities() -> None:
    waiting = [
        call("bulk", "enc", BULK, seq=0),
        call("clip", "gen", INTERACTIVE, seq=1),
        call("newer clip", "enc", INTERACTIVE, seq=2),
    ]
    assert names(take_next_batch(waiting, max_size=4)) == ["clip"]
    assert names(waiting) == ["bulk", "newer clip"]
    # Passed over by higher-priority work: counted. By an older equal: age decides anyway.
    assert [c.passed_over for c in waiting] == [1, 0]


def test_among_equals_the_oldest_always_goes_first() -> None:
    waiting = [call(f"t{i}", ("enc", i), INTERACTIVE, seq=i) for i in range(6)]
    order = [names(take_next_batch(waiting, max_size=4))[0] for _ in range(6)]
    assert order == ["t0", "t1", "t2", "t3", "t4", "t5"]


def test_a_long_file_waits_at_most_starve_after_batches_behind_interactive_work() -> None:
    waiting = [call("window", "enc-bulk", BULK, seq=0)]
    started: list[str] = []
    seq = 1
    for _ in range(10):  # a steady stream: one more interactive call before each start
        waiting.append(call(f"clip{seq}", ("gen", seq), INTERACTIVE, seq=seq))
        seq += 1
        started += names(take_next_batch(waiting, max_size=4))
        if "window" in started:
            break
    assert started.index("window") == STARVE_AFTER  # after exactly STARVE_AFTER clips


def test_starving_calls_go_oldest_first_and_still_take_company() -> None:
    old = call("old", "gen", BULK, seq=0)
    older_peer = call("peer", "gen", BULK, seq=5)
    old.passed_over = STARVE_AFTER
    waiting = [call("clip", "enc", INTERACTIVE, seq=1), old, older_peer]
    assert names(next_batch(waiting, max_size=4)) == ["old", "peer"]
