"""Slow and idle connections on a real gateway: half-sent heads are closed, idle keep-alive
is closed, and past LX_MAX_CONNECTIONS a new client gets 503 instead of a held socket."""

from __future__ import annotations

import json
import select
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
    """Status, headers and body of the next response on `sock` (by its content-length)."""
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


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    """At most 40 connections, with heads and keep-alive given long enough to hold them."""
    env = {
        "LX_WORKER_DEVICES": "",
        "LX_REQUEST_HEAD_TIMEOUT_MS": "10000",
        "LX_KEEPALIVE_TIMEOUT_MS": "10000",
        "LX_MAX_CONNECTIONS": "40",
    }
    with gateway_process(tmp_path_factory.mktemp("capped"), env, wait_workers=False) as running:
        yield running


def _held_after_a_request(port: int) -> socket.socket:
    """A connection the server has surely accepted: it answered on it, and keeps it open."""
    sock = _connect(port)
    sock.sendall(FULL_REQUEST)
    status, _, _ = _answer(sock)
    assert status == 200
    return sock


def test_past_the_connection_cap_a_new_client_gets_503_then_is_served_again(
    capped: GatewayProcess,
) -> None:
    held = [_held_after_a_request(capped.port) for _ in range(40)]
    try:
        with _connect(capped.port) as extra:
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
        with capped.client() as client:
            return client.get("/healthz").status_code == 200

    capped.wait_for(served, 10, "a client served once the held connections closed")


def test_a_flood_past_the_cap_holds_no_more_than_the_cap(capped: GatewayProcess) -> None:
    time.sleep(1)  # the server has seen the previous test's connections close
    flood = [_connect(capped.port) for _ in range(150)]
    try:
        # Each refusal waits a second for a request, then is closed; the kernel hands over
        # the last ones within a few seconds (the listen backlog is short on purpose).
        time.sleep(4.5)
        still = _closed_count_open(flood)
        assert still == 40, still
    finally:
        for sock in flood:
            sock.close()


def _closed_count_open(socks: list[socket.socket]) -> int:
    readable, _, _ = select.select(socks, [], [], 0)
    return len(socks) - len(readable)
