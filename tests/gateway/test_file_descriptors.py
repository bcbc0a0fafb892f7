"""The descriptor limit is raised to the hard one, and the connection cap leaves a reserve."""

from __future__ import annotations

import resource

from gateway.http.file_descriptors import FD_RESERVE, connection_cap, raise_descriptor_limit


def test_the_cap_is_the_setting_when_descriptors_are_plenty() -> None:
    assert connection_cap(1000, 65536) == 1000


def test_the_cap_leaves_the_reserve_and_the_refusals_below_the_limit() -> None:
    assert connection_cap(1000, 1024) == 1024 - FD_RESERVE - 32
    assert connection_cap(1000, 256) == 96
    assert connection_cap(1000, 100) == 1  # nothing left: one, and a warning


def test_the_soft_limit_is_raised_to_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    lowered = max(256, (hard if hard != resource.RLIM_INFINITY else 4096) // 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (lowered, hard))
    try:
        raised = raise_descriptor_limit()
        now = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    expected = hard if hard != resource.RLIM_INFINITY else 1 << 20
    assert raised == now == expected > lowered
