"""Slow and idle connections on a real gateway: half-sent heads are closed, idle keep-alive
is closed, and past LX_MAX_CONNECTIONS a new client gets 503 instead of a held socket."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from tests.support.gateway_process import GatewayProcess, gateway_process

pytestmark = pytest.mark.integration

HALF_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
FULL_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.settimeout(10)
    return sock


def _closed_by_server(sock: socket.socket, within_s: float) -> float | None:
    """Seconds until the server closed `sock` (EOF or reset), None if it stayed open."""
    started = time.monotonic()
    sock.settimeout(within_s)
    try:
        while True:
            if not sock.recv(4096):
                return time.monotonic() - started
    except ConnectionResetError:
        return time.monotonic() - started
    except TimeoutError:
        return None


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one response read off `sock` until the server closes."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a response head: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return int(status_line.split()[1]), headers, body


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    env = {
        "LX_WORKER_DEVICES": "",  # the HTTP server is what is tested: no worker needed
        "LX_REQUEST_HEAD_TIMEOUT_MS": "1000",
        "LX_KEEPALIVE_TIMEOUT_MS": "700",
        "LX_MAX_CONNECTIONS": "40",
    }
    with gateway_process(tmp_path_factory.mktemp("slow"), env, wait_workers=False) as running:
        yield running


def test_half_sent_heads_are_closed_and_others_are_served(gateway: GatewayProcess) -> None:
    slow = [_connect(gateway.port) for _ in range(30)]
    try:
        for sock in slow:
            sock.sendall(HALF_HEAD)
        # Meanwhile a complete request is answered at once.
        with gateway.client() as client:
            assert client.get("/healthz").status_code == 200
        closed = [_closed_by_server(sock, within_s=5.0) for sock in slow]
    finally:
        for sock in slow:
            sock.close()
    assert all(s is not None for s in closed), f"{closed.count(None)} of 30 still open after 5 s"
    assert max(s for s in closed if s is not None) < 4.0


def test_a_head_dripped_byte_by_byte_gets_no_more_time(gateway: GatewayProcess) -> None:
    with _connect(gateway.port) as sock:
        started = time.monotonic()
        closed_after = None
        for byte in HALF_HEAD + b"a" * 200:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed_after = time.monotonic() - started
                break
            time.sleep(0.1)
        if closed_after is None:
            closed_after = (_closed_by_server(sock, 5.0) or 99) + time.monotonic() - started
    # One second of head time from the connection, not renewed by each byte.
    assert closed_after < 3.5, closed_after


def test_idle_keep_alive_connections_are_closed(gateway: GatewayProcess) -> None:
    with _connect(gateway.port) as sock:
        sock.sendall(FULL_REQUEST)
        data = sock.recv(65536)
        assert data.startswith(b"HTTP/1.1 200")
        idle = _closed_by_server(sock, within_s=5.0)
    assert idle is not None and 0.4 < idle < 3.0, idle


def test_past_the_connection_cap_a_new_client_gets_503_then_is_served_again(
    gateway: GatewayProcess,
) -> None:
    held = [_connect(gateway.port) for _ in range(40)]
    try:
        time.sleep(0.2)  # all 40 accepted by the server
        with _connect(gateway.port) as extra:
            extra.sendall(FULL_REQUEST)
            status, headers, body = _answer(extra)
    finally:
        for sock in held:
            sock.close()
    assert status == 503
    assert headers["retry-after"] == "1" and headers["connection"] == "close"
    error = json.loads(body)["error"]
    assert error["code"] == "TOO_MANY_CONNECTIONS"
    assert error["details"]["max_connections"] == 40

    def served() -> bool:
        with gateway.client() as client:
            return client.get("/healthz").status_code == 200

    gateway.wait_for(served, 10, "a client served once the held connections closed")


def test_a_flood_past_the_cap_is_bounded(gateway: GatewayProcess) -> None:
    # 40 held plus 32 refusals waiting for a request; beyond, closed at once.
    flood = [_connect(gateway.port) for _ in range(150)]
    try:
        time.sleep(0.5)
        closed = [_closed_by_server(sock, within_s=0.05) for sock in flood]
        open_now = closed.count(None)
        assert open_now <= 40 + 32 + 1, open_now
        # The refusals waiting for a request end after a second, the held ones at the head
        # timeout: nothing is left.
        time.sleep(1.5)
        still = [s for s, c in zip(flood, closed, strict=True) if c is None]
        remaining = [_closed_by_server(sock, within_s=0.05) for sock in still].count(None)
        assert remaining == 0, remaining
    finally:
        for sock in flood:
            sock.close()
