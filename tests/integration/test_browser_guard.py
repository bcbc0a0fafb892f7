"""Without a token the Origin check is the only guard against web pages: a cross-origin
`text/plain` POST (a "simple" request, never preflighted) must not unload a model, and a
page's WebSocket needs an allowed origin. Plus the per-client WebSocket cap."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin

from tests.support.envelope import error_of
from tests.support.gateway_process import GatewayProcess, running_gateway

pytestmark = pytest.mark.integration

APP_ORIGIN = "http://captions.localhost:5173"
EVIL_ORIGIN = "http://evil.example"
TINY = "openai/whisper-tiny.en"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    env = {"LX_CORS_ORIGINS": APP_ORIGIN, "LX_MAX_WEBSOCKETS_PER_CLIENT": "2"}
    with running_gateway(tmp_path_factory.mktemp("state"), **env) as process:
        yield process


def _status(gateway: GatewayProcess, model_id: str) -> str:
    with gateway.client() as client:
        body = client.get("/api/models/status").json()
    by_id = {m["model_id"]: m for m in body["asr_models"]}
    status: str = by_id[model_id]["status"]
    return status


def test_a_cross_origin_simple_post_does_not_unload(gateway: GatewayProcess) -> None:
    with gateway.client() as client:
        assert client.post(f"/api/models/{TINY}/load").status_code in (200, 202)
        gateway.wait_for(lambda: _status(gateway, TINY) == "loaded", 60, "tiny.en loaded")
        refused = client.post(
            f"/api/models/{TINY}/unload",
            content=b"{}",
            headers={"Origin": EVIL_ORIGIN, "Content-Type": "text/plain"},
        )
        error_of(refused, 403, "ORIGIN_NOT_ALLOWED")
        restart = client.post("/api/workers/cpu/restart?force=true", headers={"Origin": "null"})
        error_of(restart, 403, "ORIGIN_NOT_ALLOWED")
        assert _status(gateway, TINY) == "loaded"
        assert client.get("/api/workers/cpu").json()["restart_count"] == 0
        # The allowed origin may, and so may a client that sends no Origin (curl, SDKs).
        allowed = client.post(
            f"/api/models/{TINY}/unload",
            headers={"Origin": APP_ORIGIN, "Content-Type": "text/plain"},
        )
        assert allowed.status_code == 200, allowed.text
        assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
        assert _status(gateway, TINY) != "loaded"


def test_a_page_websocket_needs_an_allowed_origin(gateway: GatewayProcess) -> None:
    url = f"ws://127.0.0.1:{gateway.port}/ws"
    with pytest.raises(InvalidStatus) as refused:
        connect(url, origin=Origin(EVIL_ORIGIN), open_timeout=10)
    assert refused.value.response.status_code == 403
    with (
        connect(url, origin=Origin(APP_ORIGIN), open_timeout=10) as ws,
        pytest.raises(TimeoutError),
    ):
        ws.recv(timeout=0.5)  # open, and quiet


def test_one_client_gets_at_most_its_cap_of_websockets(gateway: GatewayProcess) -> None:
    url = f"ws://127.0.0.1:{gateway.port}/ws"
    with connect(url, open_timeout=10), connect(url, open_timeout=10):
        with connect(url, open_timeout=10) as third, pytest.raises(ConnectionClosed) as closed:
            third.recv(timeout=5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1013
        assert "LX_MAX_WEBSOCKETS_PER_CLIENT=2" in closed.value.rcvd.reason
    # Closed ones give their slot back.
    with connect(url, open_timeout=10) as again, pytest.raises(TimeoutError):
        again.recv(timeout=0.5)
