"""The live-captions routes on the real app, in process and without a worker: the access
guard covers them (4401 without the token, Origin checks), an unknown session is told and
closed with 4404, and a stream that no worker can serve fails with the load's reason."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from gateway.app import create_app
from gateway.settings import Settings
from tests.support.app_client import LOOPBACK_URL, LOOPBACK_WS

TOKEN = "in-process-token-0123456789"
PATHS = ["/api/sessions/{sid}/stream", "/ws/{sid}"]
UNKNOWN = "sess_ffffffffffffffff"


def _client(tmp_path: Path, **changes: object) -> TestClient:
    settings = Settings(devices=(), state_dir=tmp_path, worker_ready_timeout_s=0.2)
    settings = dataclasses.replace(settings, **changes)  # type: ignore[arg-type]
    return TestClient(create_app(settings), base_url=LOOPBACK_URL)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path) as client:
        yield client


@pytest.mark.parametrize("path", PATHS)
def test_the_token_is_required(tmp_path: Path, path: str) -> None:
    with _client(tmp_path, api_token=TOKEN) as client:
        url = LOOPBACK_WS + path.format(sid=UNKNOWN)
        with client.websocket_connect(url) as ws, pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 4401
        offered = ["bearer", f"bearer.{TOKEN}"]
        with client.websocket_connect(url, subprotocols=offered) as ws:
            error = json.loads(ws.receive_text())  # past the guard: the route answers
            assert error["data"]["code"] == "SESSION_NOT_FOUND"


@pytest.mark.parametrize("path", PATHS)
def test_a_page_of_another_origin_is_refused(app: TestClient, path: str) -> None:
    url = LOOPBACK_WS + path.format(sid=UNKNOWN)
    origin = {"Origin": "https://elsewhere.example"}
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        app.websocket_connect(url, headers=origin),
    ):
        pass
    assert denied.value.status_code == 403


@pytest.mark.parametrize("sid", [UNKNOWN, "not-a-session-id"])
def test_an_unknown_session_is_told_and_closed_with_4404(app: TestClient, sid: str) -> None:
    with app.websocket_connect(f"{LOOPBACK_WS}/api/sessions/{sid}/stream") as ws:
        error = json.loads(ws.receive_text())
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert (error["t"], error["seq"], error["sid"]) == ("server.error", None, sid)
    assert error["data"]["code"] == "SESSION_NOT_FOUND"
    assert closed.value.code == 4404


def test_a_stream_no_worker_can_serve_says_why_and_closes(app: TestClient) -> None:
    sid = app.post("/api/sessions").json()["session_id"]
    with app.websocket_connect(f"{LOOPBACK_WS}/ws/{sid}") as ws:
        ws.send_text(json.dumps({"t": "client.hello", "data": {"agent": "test"}}))
        welcome = json.loads(ws.receive_text())
        assert (welcome["t"], welcome["seq"]) == ("server.welcome", 0)
        ws.send_bytes(b"\x00\x00" * 1600)  # held until a worker takes the stream
        messages = []
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                messages.append(json.loads(ws.receive_text()))
    assert closed.value.code == 1011
    last = messages[-1]
    # No worker serves any device here: the load's own error, not a retry loop.
    assert last["t"] == "server.error" and last["data"]["code"] == "UNSUPPORTED_DEVICE"
    assert last["seq"] is not None  # the stream's last word, kept for a resume
    numbered = [m["seq"] for m in messages if m["seq"] is not None]
    assert numbered == list(range(1, len(numbered) + 1))
    assert [m["data"]["stage"] for m in messages if m["t"] == "status"] == ["loading"]
