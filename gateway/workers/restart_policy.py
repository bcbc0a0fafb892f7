"""When to restart a worker that ended: exponential backoff with jitter, a crash-loop stop,
and a cool-down after which a stopped worker is tried again.

Jitter keeps workers that died together (a shared driver fault, an OOM storm) from
restarting in lockstep. A worker that ended `limit` times within `window_s` is in a crash
loop: restarting it at once would only burn the machine, so the policy says stop. Like
systemd's start limit, the stop is not forever: after a cool-down the worker gets a fresh
allowance of starts (the cause may have gone: a driver reloaded, memory freed, a file put
back). Each cool-down in a row is twice the last, up to a ceiling; a run that lasted
`stable_after_s` starts the count again.
"""

from __future__ import annotations

import random
from collections import deque


class RestartPolicy:
    def __init__(
        self,
        initial_s: float,
        max_s: float,
        limit: int,
        window_s: float,
        stable_after_s: float = 30.0,
        rng: random.Random | None = None,
        cooldown_s: float = 0.0,
        cooldown_max_s: float = 0.0,
    ) -> None:
        self._initial_s = initial_s
        self._max_s = max(max_s, initial_s)
        self._limit = limit
        self._window_s = window_s
        self._stable_after_s = stable_after_s
        self._rng = rng or random.Random()
        self._cooldown_s = cooldown_s
        self._cooldown_max_s = max(cooldown_max_s, cooldown_s)
        self._exits: deque[float] = deque()
        self._attempt = 0
        self._cooldowns = 0

    def next_delay(self, now: float, lived_s: float) -> float | None:
        """Seconds to wait before the next start, or None: a crash loop, stop restarting."""
        self._exits.append(now)
        while self._exits and self._exits[0] < now - self._window_s:
            self._exits.popleft()
        if lived_s >= self._stable_after_s:
            self._attempt = 0  # it ran fine for a while: this is a fresh failure
            self._cooldowns = 0
        if len(self._exits) >= self._limit:
            return None
        backoff = min(self._max_s, self._initial_s * 2.0**self._attempt)
        self._attempt += 1
        # "Equal jitter": at least half the backoff, so delays still grow.
        return backoff / 2 + self._rng.uniform(0, backoff / 2)

    def cooldown(self) -> float | None:
        """After a crash loop: seconds until the worker is tried again with a fresh
        allowance, or None when it is never retried by itself (no cool-down configured)."""
        if self._cooldown_s <= 0:
            return None
        delay = min(self._cooldown_max_s, self._cooldown_s * 2.0**self._cooldowns)
        self._cooldowns += 1
        self._exits.clear()
        self._attempt = 0
        return delay

    def reset(self) -> None:
        """An operator asked for a fresh start: forget past exits and cool-downs."""
        self._exits.clear()
        self._attempt = 0
        self._cooldowns = 0
