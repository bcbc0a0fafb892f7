"""The WebSocket connection limits, in all and per client (gateway/http/websocket_limits.py)."""

from __future__ import annotations

from gateway.http.websocket_limits import ConnectionLimits


def test_per_client_cap_leaves_others_room() -> None:
    limits = ConnectionLimits(total=10, per_client=2)
    assert limits.acquire("10.0.0.1") is None
    assert limits.acquire("10.0.0.1") is None
    refused = limits.acquire("10.0.0.1")
    assert refused is not None and "LX_MAX_WEBSOCKETS_PER_CLIENT=2" in refused
    assert limits.acquire("10.0.0.2") is None
    assert limits.open_count() == 3
    limits.release("10.0.0.1")
    assert limits.acquire("10.0.0.1") is None  # a slot came back


def test_the_total_cap_holds_whoever_asks() -> None:
    limits = ConnectionLimits(total=3, per_client=5)
    for client in ("a", "b", "c"):
        assert limits.acquire(client) is None
    refused = limits.acquire("d")
    assert refused is not None and "LX_MAX_WEBSOCKETS=3" in refused
    limits.release("b")
    assert limits.open_count("b") == 0
    assert limits.acquire("d") is None
    assert limits.open_count() == 3
