"""Cache policy decisions with the time passed in: no sleeping."""

from __future__ import annotations

from gateway.models.cache_policy import (
    CachedModel,
    CachePolicy,
    eviction_order,
    evictions_for_one_more,
    make_room,
    routine_evictions,
)


def _model(
    name: str,
    *,
    loaded_at: float = 0.0,
    last_used: float = 0.0,
    uses: int = 0,
    memory: float = 100.0,
    busy: bool = False,
    worker: str = "cpu",
) -> CachedModel:
    return CachedModel(name, worker, memory, loaded_at, last_used, uses, busy)


MODELS = [
    _model("stale", loaded_at=0, last_used=10, uses=50),
    _model("recent", loaded_at=5, last_used=100, uses=1),
    _model("popular", loaded_at=20, last_used=50, uses=40),
    _model("first-loaded", loaded_at=1, last_used=90, uses=3),
]


def test_orders_by_policy_and_skips_busy_models() -> None:
    models = [*MODELS[1:], _model("busy", last_used=0, busy=True)]
    assert [m.model_id for m in eviction_order(models, "lru")] == [
        "popular",
        "first-loaded",
        "recent",
    ]
    assert [m.model_id for m in eviction_order(models, "lfu")] == [
        "recent",
        "first-loaded",
        "popular",
    ]
    assert [m.model_id for m in eviction_order(models, "ttl")] == [
        "first-loaded",
        "recent",
        "popular",
    ]


def test_idle_timeout_unloads_only_models_idle_long_enough() -> None:
    policy = CachePolicy(idle_unload_timeout_s=60, max_models_loaded=10)
    evictions = routine_evictions(
        MODELS, policy, now=110, memory_used_fraction=0.1, memory_total_mb=1e4
    )
    assert {(e.model_id, e.reason) for e in evictions} == {
        ("stale", "idle_timeout"),
        ("popular", "idle_timeout"),
    }
    # One second earlier "popular" (last used at 50) was still within its minute.
    earlier = routine_evictions(
        MODELS, policy, now=109.9, memory_used_fraction=0.1, memory_total_mb=1e4
    )
    assert {e.model_id for e in earlier} == {"stale"}


def test_busy_models_are_never_evicted() -> None:
    busy = [_model("busy", last_used=0, busy=True)]
    policy = CachePolicy(
        idle_unload_timeout_s=1, max_models_loaded=0, memory_pressure_threshold=0.1
    )
    assert (
        routine_evictions(busy, policy, now=1000, memory_used_fraction=0.99, memory_total_mb=1000)
        == []
    )


def test_cache_full_evicts_by_policy_down_to_the_limit() -> None:
    policy = CachePolicy(idle_unload_timeout_s=0, max_models_loaded=2, eviction_policy="lfu")
    evictions = routine_evictions(
        MODELS, policy, now=100, memory_used_fraction=0.1, memory_total_mb=1e4
    )
    assert [(e.model_id, e.reason) for e in evictions] == [
        ("recent", "cache_full"),
        ("first-loaded", "cache_full"),
    ]


def test_memory_pressure_evicts_until_below_the_threshold() -> None:
    policy = CachePolicy(
        idle_unload_timeout_s=0, max_models_loaded=10, memory_pressure_threshold=0.8
    )
    # 1000 MB total, 95 % used; each model frees 100 MB (10 %): two must go.
    evictions = routine_evictions(
        MODELS, policy, now=100, memory_used_fraction=0.95, memory_total_mb=1000
    )
    assert [(e.model_id, e.reason) for e in evictions] == [
        ("stale", "memory_pressure"),
        ("popular", "memory_pressure"),
    ]
    calm = routine_evictions(
        MODELS, policy, now=100, memory_used_fraction=0.5, memory_total_mb=1000
    )
    assert calm == []


def test_make_room_frees_enough_on_that_worker_or_says_it_cannot() -> None:
    models = [
        _model("a", last_used=1, memory=300),
        _model("b", last_used=2, memory=300),
        _model("elsewhere", last_used=0, memory=5000, worker="cuda-0"),
    ]
    room = make_room(models, "cpu", 450, "lru")
    assert room is not None
    assert [(e.model_id, e.reason) for e in room] == [("a", "make_room"), ("b", "make_room")]
    assert make_room(models, "cpu", 601, "lru") is None


def test_lfu_breaks_a_tie_in_uses_by_the_least_recent() -> None:
    tied = [_model("used-late", uses=3, last_used=50), _model("used-early", uses=3, last_used=5)]
    assert [m.model_id for m in eviction_order(tied, "lfu")] == ["used-early", "used-late"]


def test_what_idle_timeouts_free_counts_against_memory_pressure() -> None:
    policy = CachePolicy(
        idle_unload_timeout_s=60, max_models_loaded=10, memory_pressure_threshold=0.8
    )
    # 90 % used of 1000 MB; "stale" and "popular" time out at 110 and free 200 MB: 70 %.
    evictions = routine_evictions(
        MODELS, policy, now=110, memory_used_fraction=0.9, memory_total_mb=1000
    )
    assert {e.reason for e in evictions} == {"idle_timeout"}


def test_one_more_model_evicts_just_enough_by_policy_and_never_a_busy_one() -> None:
    models = [*MODELS, _model("busy", last_used=0, uses=0, busy=True)]
    lfu = CachePolicy(max_models_loaded=4, eviction_policy="lfu")
    # Five loaded, room for four with the new one: two go, least used first.
    assert [(e.model_id, e.reason) for e in evictions_for_one_more(models, lfu)] == [
        ("recent", "cache_full"),
        ("first-loaded", "cache_full"),
    ]
    ttl = CachePolicy(max_models_loaded=5, eviction_policy="ttl")
    assert [e.model_id for e in evictions_for_one_more(models, ttl)] == ["stale"]
    assert evictions_for_one_more(models, CachePolicy(max_models_loaded=6)) == []


def test_make_room_takes_no_more_than_needed_and_skips_busy_models() -> None:
    models = [
        _model("busy", last_used=0, memory=1000, busy=True),
        _model("a", last_used=1, memory=300),
        _model("b", last_used=2, memory=300),
    ]
    room = make_room(models, "cpu", 250, "lru")
    assert room is not None and [e.model_id for e in room] == ["a"]
    assert make_room(models, "cpu", 700, "lru") is None  # the busy model's 1000 MB stay
