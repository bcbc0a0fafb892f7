"""A config change applied immediately loads the new model now, with the session's sid."""

from __future__ import annotations

import pytest

from tests.integration.conftest import CACHED_MODEL
from tests.support.gateway_process import GatewayProcess, next_event

pytestmark = pytest.mark.integration


def test_apply_immediately_loads_the_new_model_with_session_events(
    gateway: GatewayProcess,
) -> None:
    with gateway.client() as client:
        sid = client.post("/api/sessions").json()["session_id"]
        with gateway.events(sid) as ws:
            answer = client.put(
                f"/api/sessions/{sid}/models/config",
                json={"asr": {"model_id": CACHED_MODEL}, "apply_immediately": True},
            )
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["restart_required"] is True
            assert body["estimated_restart_time_ms"] > 0
            assert body["config"]["asr"]["model_id"] == CACHED_MODEL
            started = next_event(ws, {"model.load.started"})
            completed = next_event(ws, {"model.load.completed", "model.load.failed"})
    assert started["sid"] == sid
    assert started["data"]["model_id"] == CACHED_MODEL
    assert completed["t"] == "model.load.completed", completed
    assert completed["sid"] == sid


def test_decoding_change_does_not_load_anything(gateway: GatewayProcess) -> None:
    with gateway.client() as client:
        sid = client.post("/api/sessions").json()["session_id"]
        body = client.put(
            f"/api/sessions/{sid}/models/config",
            json={"asr": {"parameters": {"beam_size": 1}}, "apply_immediately": True},
        ).json()
    assert body["restart_required"] is False
    assert "estimated_restart_time_ms" not in body


def test_every_session_that_asks_for_a_load_under_way_sees_its_events(
    gateway: GatewayProcess,
) -> None:
    model = "openai/whisper-tiny.en"
    with gateway.client() as client:
        first, second = (client.post("/api/sessions").json()["session_id"] for _ in range(2))
        with gateway.events(first) as ws_first, gateway.events(second) as ws_second:
            started = client.post(f"/api/models/{model}/load", params={"session_id": first})
            joined = client.post(f"/api/models/{model}/load", params={"session_id": second})
            assert started.json()["status"] == "loading"
            assert joined.json()["status"] == "loading"
            for ws in (ws_first, ws_second):
                done = next_event(ws, {"model.load.completed", "model.load.failed"})
                assert done["t"] == "model.load.completed"
                assert done["data"]["model_id"] == model
                assert done["sid"] == first  # the load is the first session's
