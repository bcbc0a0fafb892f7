"""Which loaded models to unload, and why (contract ModelCacheConfig).

Pure decisions over a snapshot, with the time passed in, so every rule is testable
without sleeping. A model that is loading or has work in flight is never a victim.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Policy = Literal["lru", "lfu", "ttl"]
Reason = Literal["idle_timeout", "cache_full", "memory_pressure", "make_room"]


@dataclass(frozen=True)
class CachePolicy:
    max_models_loaded: int = 3
    eviction_policy: Policy = "lru"
    idle_unload_timeout_s: float = 300.0  # 0 disables idle unloading
    memory_pressure_threshold: float = 0.8


@dataclass(frozen=True)
class CachedModel:
    model_id: str
    worker_id: str
    memory_mb: float
    loaded_at: float  # monotonic seconds
    last_used: float
    use_count: int
    busy: bool  # loading, unloading or serving requests


@dataclass(frozen=True)
class Eviction:
    model_id: str
    reason: Reason


def eviction_order(models: Iterable[CachedModel], policy: Policy) -> list[CachedModel]:
    """Idle models, first victim first."""
    idle = [m for m in models if not m.busy]
    if policy == "lfu":
        return sorted(idle, key=lambda m: (m.use_count, m.last_used))
    if policy == "ttl":
        return sorted(idle, key=lambda m: m.loaded_at)
    return sorted(idle, key=lambda m: m.last_used)


def routine_evictions(
    models: list[CachedModel],
    policy: CachePolicy,
    now: float,
    memory_used_fraction: float,
    memory_total_mb: float,
) -> list[Eviction]:
    """What the periodic check unloads: idle timeouts, then cache size, then memory pressure."""
    chosen: dict[str, Eviction] = {}
    timeout = policy.idle_unload_timeout_s
    if timeout > 0:
        for model in models:
            if not model.busy and now - model.last_used >= timeout:
                chosen[model.model_id] = Eviction(model.model_id, "idle_timeout")
    remaining = [m for m in models if m.model_id not in chosen]
    order = [m for m in eviction_order(remaining, policy.eviction_policy)]
    while len(remaining) > policy.max_models_loaded and order:
        victim = order.pop(0)
        chosen[victim.model_id] = Eviction(victim.model_id, "cache_full")
        remaining.remove(victim)
    used = memory_used_fraction
    freed_total = sum(m.memory_mb for m in models if m.model_id in chosen)
    used -= freed_total / memory_total_mb if memory_total_mb else 0.0
    while used > policy.memory_pressure_threshold and order:
        victim = order.pop(0)
        chosen[victim.model_id] = Eviction(victim.model_id, "memory_pressure")
        used -= victim.memory_mb / memory_total_mb if memory_total_mb else 0.0
    return list(chosen.values())


def evictions_for_one_more(models: list[CachedModel], policy: CachePolicy) -> list[Eviction]:
    """Before a load: idle models to unload so the cache holds one more within its limit."""
    surplus = len(models) + 1 - policy.max_models_loaded
    if surplus <= 0:
        return []
    victims = eviction_order(models, policy.eviction_policy)[:surplus]
    return [Eviction(victim.model_id, "cache_full") for victim in victims]


def make_room(
    models: list[CachedModel], worker_id: str, needed_mb: float, policy: Policy
) -> list[Eviction] | None:
    """Idle models on `worker_id` whose unloading frees `needed_mb`, or None if none can."""
    victims: list[Eviction] = []
    freed = 0.0
    for model in eviction_order((m for m in models if m.worker_id == worker_id), policy):
        if freed >= needed_mb:
            break
        victims.append(Eviction(model.model_id, "make_room"))
        freed += model.memory_mb
    return victims if freed >= needed_mb else None
