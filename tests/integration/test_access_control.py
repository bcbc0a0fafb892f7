"""Token, CORS, Origin and Host guards, request ids in both processes' JSON logs, and model
ids that would leave a folder, on a real gateway and worker (loopback only)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.support.audio import clip_path
from tests.support.envelope import error_of
from tests.support.gateway_process import GatewayProcess, gateway_process

pytestmark = pytest.mark.integration

TOKEN = "integration-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
APP_ORIGIN = "http://captions.localhost:5173"
TINY = "openai/whisper-tiny.en"


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs") / "gateway.stderr"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, logs: Path) -> Iterator[GatewayProcess]:
    env = {
        "LX_API_TOKEN": TOKEN,
        "LX_CORS_ORIGINS": APP_ORIGIN,
        "LX_LOG_FORMAT": "json",
        "LX_LOG_LEVEL": "INFO",
    }
    with (
        logs.open("wb") as stderr,
        gateway_process(tmp_path_factory.mktemp("state"), env, stderr=stderr) as gateway,
    ):
        yield gateway


def _client(gateway: GatewayProcess, **headers: str) -> httpx.Client:
    return httpx.Client(base_url=gateway.base_url, timeout=60.0, headers=headers)


def _ws(gateway: GatewayProcess, **options: Any) -> ClientConnection:
    ws: ClientConnection = connect(f"ws://127.0.0.1:{gateway.port}/ws", open_timeout=10, **options)
    return ws


def _close_code(ws: ClientConnection) -> int | None:
    """How the gateway closed the socket, or None if it stays open."""
    try:
        ws.recv(timeout=1.0)
    except TimeoutError:
        return None
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    raise AssertionError("no event was expected")


def test_http_routes_need_the_token(guarded: GatewayProcess) -> None:
    with _client(guarded) as anonymous:
        missing = anonymous.get("/api/models/status")
        error_of(missing, 401, "UNAUTHORIZED")
        assert missing.headers["www-authenticate"] == "Bearer"
        wrong = anonymous.get("/api/models/status", headers={"Authorization": "Bearer nope"})
        error_of(wrong, 401, "UNAUTHORIZED")
        error_of(anonymous.post(f"/api/models/{TINY}/unload"), 401, "UNAUTHORIZED")
    with _client(guarded, **AUTH) as client:
        assert client.get("/api/models/status").status_code == 200


def test_probes_are_open(guarded: GatewayProcess) -> None:
    with _client(guarded) as anonymous:
        assert anonymous.get("/healthz").json()["status"] == "ok"
        ready = anonymous.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"


def test_the_websocket_needs_the_token(guarded: GatewayProcess) -> None:
    with _ws(guarded) as ws:
        assert _close_code(ws) == 4401
    with _ws(guarded, additional_headers={"Authorization": "Bearer nope"}) as ws:
        assert _close_code(ws) == 4401
    with _ws(guarded, additional_headers=AUTH) as ws:
        assert _close_code(ws) is None
    offered = [Subprotocol("bearer"), Subprotocol(f"bearer.{TOKEN}")]
    with _ws(guarded, subprotocols=offered) as ws:  # how a browser passes it
        assert ws.subprotocol == "bearer"
        assert _close_code(ws) is None


def test_preflight_from_an_allowed_origin_passes_and_from_another_not(
    guarded: GatewayProcess,
) -> None:
    asks = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    with _client(guarded) as anonymous:
        allowed = anonymous.options(
            f"/api/models/{TINY}/load", headers={"Origin": APP_ORIGIN, **asks}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
        other = anonymous.options(
            f"/api/models/{TINY}/load", headers={"Origin": "http://evil.example", **asks}
        )
        error_of(other, 403, "ORIGIN_NOT_ALLOWED")
        assert "access-control-allow-origin" not in other.headers
    # The page's real request after the preflight: the answer is readable by it.
    with _client(guarded, **AUTH) as client:
        status = client.get("/api/models/status", headers={"Origin": APP_ORIGIN})
        assert status.headers["access-control-allow-origin"] == APP_ORIGIN


def test_a_foreign_host_is_refused(guarded: GatewayProcess) -> None:
    with _client(guarded, **AUTH) as client:
        refused = client.get("/api/models/status", headers={"Host": "rebind.attacker.example"})
        error_of(refused, 421, "HOST_NOT_ALLOWED")
        assert client.get("/api/models/status", headers={"Host": "localhost"}).status_code == 200


def _log_lines(logs: Path) -> list[dict[str, Any]]:
    lines = []
    for raw in logs.read_text(encoding="utf-8", errors="replace").splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


def test_the_request_id_is_in_the_gateway_and_worker_log_lines(
    guarded: GatewayProcess, logs: Path
) -> None:
    request_id = "trace-7f3a9c"
    audio = clip_path("kitchen_lights.wav").read_bytes()
    with _client(guarded, **AUTH) as client:
        answer = client.post(
            "/api/asr/transcribe",
            params={"model_id": TINY},
            content=audio,
            headers={"Content-Type": "audio/wav", "X-Request-ID": request_id},
        )
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-request-id"] == request_id

    def mine() -> list[dict[str, Any]]:
        return [line for line in _log_lines(logs) if line.get("request_id") == request_id]

    deadline = time.monotonic() + 10
    while not any(line["logger"] == "gateway.access" for line in mine()):
        assert time.monotonic() < deadline, "no access line for the request"
        time.sleep(0.1)
    access = next(line for line in mine() if line["logger"] == "gateway.access")
    assert (access["method"], access["path"], access["status"]) == (
        "POST",
        "/api/asr/transcribe",
        200,
    )
    assert access["process"] == "gateway"
    assert isinstance(access["duration_ms"], float) and access["duration_ms"] > 0
    worker_lines = [line for line in mine() if line["process"] == "worker"]
    assert any(line["message"].startswith("transcribed ") for line in worker_lines), worker_lines
    assert all({"time", "level", "logger", "message", "pid"} <= set(line) for line in mine())
    assert "model_id" not in access["message"]  # query strings are never logged


@pytest.mark.parametrize("bad", ["../../etc/passwd", "local/../../x", "/etc/passwd", "a\x00b"])
def test_model_ids_that_leave_a_folder_are_refused(guarded: GatewayProcess, bad: str) -> None:
    with _client(guarded, **AUTH) as client:
        load = client.post(f"/api/models/{quote(bad, safe='')}/load")
        assert error_of(load, 400, "INVALID_REQUEST")["details"]["model_id"] == bad
        transcribe = client.post(
            "/api/asr/transcribe",
            params={"model_id": bad},
            content=b"RIFF",
            headers={"Content-Type": "audio/wav"},
        )
        assert error_of(transcribe, 400, "INVALID_REQUEST")["details"]["model_id"] == bad
