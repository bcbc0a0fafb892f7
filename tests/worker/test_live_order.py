"""Which live stream decodes next (worker/scheduling/live_order.py): plain code."""

from __future__ import annotations

from worker.scheduling.live_order import AGE_AFTER, Candidate, choose, passed_over_after


def stream(
    key: str,
    *,
    final_due: bool = False,
    undecoded_ms: int = 0,
    cadence_ms: int = 400,
    draining: bool = False,
    passed_over: int = 0,
) -> Candidate:
    return Candidate(
        key=key,
        final_due=final_due,
        undecoded_ms=undecoded_ms,
        cadence_ms=cadence_ms,
        draining=draining,
        passed_over=passed_over,
    )


def test_nothing_is_chosen_when_no_stream_has_enough_to_decode() -> None:
    assert choose([]) is None
    assert choose([stream("a", undecoded_ms=399), stream("b", undecoded_ms=0)]) is None


def test_a_stream_is_eligible_from_its_own_cadence() -> None:
    slow = stream("slow", undecoded_ms=500, cadence_ms=1000)
    fast = stream("fast", undecoded_ms=300, cadence_ms=200)
    chosen = choose([slow, fast])
    assert chosen is not None and chosen.key == "fast"


def test_a_due_final_goes_before_more_undecoded_speech() -> None:
    chosen = choose([stream("behind", undecoded_ms=5000), stream("final", final_due=True)])
    assert chosen is not None and chosen.key == "final"


def test_a_draining_stream_goes_before_partials_but_after_finals() -> None:
    partial = stream("partial", undecoded_ms=3000)
    draining = stream("draining", draining=True)
    final = stream("final", final_due=True)
    first = choose([partial, draining])
    assert first is not None and first.key == "draining"
    second = choose([partial, draining, final])
    assert second is not None and second.key == "final"


def test_among_partials_the_stream_furthest_behind_goes() -> None:
    chosen = choose([stream(k, undecoded_ms=ms) for k, ms in [("a", 500), ("b", 1200)]])
    assert chosen is not None and chosen.key == "b"


def test_among_finals_the_one_passed_over_most_goes() -> None:
    older = stream("older", final_due=True, passed_over=2)
    newer = stream("newer", final_due=True, passed_over=0, undecoded_ms=900)
    chosen = choose([newer, older])
    assert chosen is not None and chosen.key == "older"


def test_a_stream_passed_over_enough_times_goes_before_a_due_final() -> None:
    starved = stream("starved", undecoded_ms=400, passed_over=AGE_AFTER)
    final = stream("final", final_due=True)
    chosen = choose([final, starved])
    assert chosen is not None and chosen.key == "starved"
    below = stream("starved", undecoded_ms=400, passed_over=AGE_AFTER - 1)
    chosen = choose([final, below])
    assert chosen is not None and chosen.key == "final"


def test_counts_reset_for_the_chosen_and_grow_for_other_eligible_streams() -> None:
    chosen = stream("a", final_due=True, passed_over=2)
    waiting = stream("b", undecoded_ms=800, passed_over=1)
    idle = stream("c", undecoded_ms=10, passed_over=1)
    counts = passed_over_after([chosen, waiting, idle], chosen)
    assert counts == {"a": 0, "b": 2, "c": 1}


def test_no_stream_starves_behind_a_stream_that_is_always_further_behind() -> None:
    # "greedy" always has more undecoded speech than "quiet"; with aging, "quiet" still
    # decodes at least once in every AGE_AFTER + 1 picks.
    counts = {"greedy": 0, "quiet": 0}
    picks: list[str] = []
    for _ in range(4 * (AGE_AFTER + 1)):
        candidates = [
            stream("greedy", undecoded_ms=5000, passed_over=counts["greedy"]),
            stream("quiet", undecoded_ms=500, passed_over=counts["quiet"]),
        ]
        chosen = choose(candidates)
        assert chosen is not None
        picks.append(chosen.key)
        counts = passed_over_after(candidates, chosen)
    assert picks.count("quiet") == 4
    for start in range(len(picks) - AGE_AFTER):
        assert "quiet" in picks[start : start + AGE_AFTER + 1]
