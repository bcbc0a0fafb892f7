"""The access middleware on the real app, in process (no worker): token, CORS, Origin and
Host guards, request ids, WebSocket limits and model ids that would leave a folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from gateway.app import create_app
from gateway.settings import Settings
from tests.support.app_client import LOOPBACK_URL, LOOPBACK_WS
from tests.support.audio import clip_path, short_clips
from tests.support.envelope import error_of

TOKEN = "in-process-token-0123456789"
ALLOWED = "https://captions.example"
WS = f"{LOOPBACK_WS}/ws"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _app(tmp_path: Path, **changes: object) -> TestClient:
    settings = Settings(
        devices=(), state_dir=tmp_path, worker_ready_timeout_s=0.2, cors_origins=(ALLOWED,)
    )
    return TestClient(create_app(_replace(settings, changes)), base_url=LOOPBACK_URL)


def _replace(settings: Settings, changes: dict[str, object]) -> Settings:
    import dataclasses

    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[TestClient]:
    with _app(tmp_path, api_token=TOKEN) as client:
        yield client


@pytest.fixture
def open_app(tmp_path: Path) -> Iterator[TestClient]:
    with _app(tmp_path) as client:
        yield client


def test_http_needs_the_token(guarded: TestClient) -> None:
    missing = guarded.get("/api/workers")
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    error_of(missing, missing.status_code, "UNAUTHORIZED")
    wrong = guarded.get("/api/workers", headers={"Authorization": "Bearer not-the-token-at-all"})
    assert wrong.status_code == 401
    error_of(wrong, wrong.status_code, "UNAUTHORIZED")
    assert guarded.get("/api/workers", headers=AUTH).status_code == 200
    assert guarded.get("/openapi.json").status_code == 401  # every route but the probes


def test_probes_need_no_token(guarded: TestClient) -> None:
    assert guarded.get("/healthz").status_code == 200
    ready = guarded.get("/readyz")  # no worker here: not ready, but answered
    assert ready.status_code == 503
    error_of(ready, ready.status_code, "WORKER_UNAVAILABLE")


def test_websocket_without_the_token_is_closed_4401(guarded: TestClient) -> None:
    with guarded.websocket_connect(WS) as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive_text()
    assert closed.value.code == 4401
    with (
        guarded.websocket_connect(WS, subprotocols=["bearer", "bearer.wrong"]) as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_text()
    assert closed.value.code == 4401


def test_websocket_token_by_header_or_subprotocol(guarded: TestClient) -> None:
    with guarded.websocket_connect(WS, headers=AUTH) as ws:
        assert ws.accepted_subprotocol is None
    offered = ["bearer", f"bearer.{TOKEN}"]
    with guarded.websocket_connect(WS, subprotocols=offered) as ws:
        assert ws.accepted_subprotocol == "bearer"  # never the token itself


def test_preflight_from_an_allowed_origin_passes_without_a_token(guarded: TestClient) -> None:
    answer = guarded.options(
        "/api/models/openai/whisper-tiny.en/unload",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ALLOWED
    assert "authorization" in answer.headers["access-control-allow-headers"].lower()


def test_preflight_from_another_origin_is_refused(guarded: TestClient) -> None:
    answer = guarded.options(
        "/api/models/openai/whisper-tiny.en/unload",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert answer.status_code == 403
    assert "access-control-allow-origin" not in answer.headers
    error_of(answer, answer.status_code, "ORIGIN_NOT_ALLOWED")


def test_a_refused_preflight_header_is_in_the_envelope(guarded: TestClient) -> None:
    answer = guarded.options(
        "/api/mt/translate",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "x-not-allowed",
        },
    )
    assert answer.status_code == 400
    error_of(answer, answer.status_code, "INVALID_REQUEST")
    assert answer.json()["error"]["details"]["refused"] == ["headers"]


def test_cross_origin_simple_post_is_refused_without_a_token(open_app: TestClient) -> None:
    # text/plain needs no preflight; without a token the Origin check is the only guard.
    refused = open_app.post(
        "/api/models/openai/whisper-tiny.en/unload",
        content=b"{}",
        headers={"Origin": "https://evil.example", "Content-Type": "text/plain"},
    )
    assert refused.status_code == 403
    error_of(refused, refused.status_code, "ORIGIN_NOT_ALLOWED")
    # Without an Origin (curl, SDKs) the request reaches the route: nothing is loaded here.
    reached = open_app.post("/api/models/openai/whisper-tiny.en/unload")
    assert reached.status_code == 409
    error_of(reached, reached.status_code, "MODEL_NOT_LOADED")
    allowed = open_app.post(
        "/api/models/openai/whisper-tiny.en/unload", headers={"Origin": ALLOWED}
    )
    assert allowed.status_code == 409
    assert allowed.headers["access-control-allow-origin"] == ALLOWED


def test_cross_origin_reads_pass_but_cannot_be_read_by_the_page(open_app: TestClient) -> None:
    answer = open_app.get("/api/workers", headers={"Origin": "https://evil.example"})
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers


def test_websocket_from_another_origin_is_refused(open_app: TestClient) -> None:
    with pytest.raises(WebSocketDenialResponse) as denied:
        open_app.websocket_connect(WS, headers={"Origin": "https://evil.example"}).__enter__()
    assert denied.value.status_code == 403
    error_of(denied.value, denied.value.status_code, "ORIGIN_NOT_ALLOWED")
    with open_app.websocket_connect(WS, headers={"Origin": ALLOWED}) as ws:
        assert ws.accepted_subprotocol is None


def test_a_foreign_host_is_refused_but_probes_answer(open_app: TestClient) -> None:
    refused = open_app.get("/api/workers", headers={"Host": "rebound.attacker.example"})
    assert refused.status_code == 421
    error_of(refused, refused.status_code, "HOST_NOT_ALLOWED")
    assert open_app.get("/api/workers", headers={"Host": "localhost:8000"}).status_code == 200
    assert open_app.get("/healthz", headers={"Host": "10.3.4.5:8000"}).status_code == 200
    with pytest.raises(WebSocketDenialResponse) as denied:
        open_app.websocket_connect(WS, headers={"Host": "rebound.attacker.example"}).__enter__()
    assert denied.value.status_code == 421


def test_request_ids_are_honoured_when_sane_and_echoed(open_app: TestClient) -> None:
    assert (
        open_app.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    for insane in ("has space", "x" * 200, "semi;colon"):
        echoed = open_app.get("/healthz", headers={"X-Request-ID": insane}).headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", echoed), echoed
    first = open_app.get("/healthz").headers["x-request-id"]
    assert first != open_app.get("/healthz").headers["x-request-id"]


def test_the_websocket_limit_closes_1013(tmp_path: Path) -> None:
    with (
        _app(tmp_path, max_websockets_per_client=1) as client,
        client.websocket_connect(WS),
        client.websocket_connect(WS) as second,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        second.receive_text()
    assert closed.value.code == 1013
    assert "LX_MAX_WEBSOCKETS_PER_CLIENT=1" in (closed.value.reason or "")


TRAVERSAL = ["../../etc/passwd", "local/../../x", "/etc/passwd", "a\\..\\b", "local/a\x00b"]


@pytest.mark.parametrize("bad", TRAVERSAL)
def test_model_ids_that_leave_a_folder_are_400_everywhere(open_app: TestClient, bad: str) -> None:
    from urllib.parse import quote

    path_id = quote(bad, safe="")  # so the client sends the dots and slashes as they are
    audio = clip_path(short_clips()[0]).read_bytes()  # real audio: only the id is wrong
    answers = [
        open_app.post(f"/api/models/{path_id}/load"),
        open_app.post(f"/api/models/{path_id}/unload"),
        open_app.post(f"/api/models/{path_id}/health-check"),
        open_app.get(f"/api/languages/mt/{path_id}"),
        open_app.post(
            "/api/asr/transcribe",
            params={"model_id": bad},
            content=audio,
            headers={"Content-Type": "audio/wav"},
        ),
        open_app.post(
            "/api/mt/translate", json={"text": "hi", "target_language": "fr", "model_id": bad}
        ),
        open_app.post(
            "/v1/audio/transcriptions",
            files={"file": ("a.wav", audio, "audio/wav")},
            data={"model": bad},
        ),
    ]
    for answer in answers:
        assert answer.status_code == 400, (answer.request.url, answer.text)
        error = error_of(answer, 400, "INVALID_REQUEST")
        assert error["details"]["model_id"] == bad
    session = open_app.post("/api/sessions").json()["session_id"]
    config = open_app.put(f"/api/sessions/{session}/models/config", json={"asr": {"model_id": bad}})
    assert error_of(config, 400, "INVALID_REQUEST")["details"]["field"] == "asr.model_id"


def test_refusals_are_counted_as_errors(guarded: TestClient) -> None:
    guarded.get("/api/workers")
    guarded.get("/api/workers", headers={**AUTH, "Host": "rebound.attacker.example"})
    scrape = guarded.get("/metrics", headers=AUTH).text
    assert 'loquilex_errors_total{code="UNAUTHORIZED"} 1.0' in scrape
    assert 'loquilex_errors_total{code="HOST_NOT_ALLOWED"} 1.0' in scrape
