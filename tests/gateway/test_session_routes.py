"""Sessions and their model configuration over HTTP, persisted across app restarts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.support.app_client import LOOPBACK_URL
from tests.support.envelope import error_of


def _session(client: TestClient, body: dict[str, Any] | None = None) -> str:
    response = client.post("/api/sessions", json=body) if body else client.post("/api/sessions")
    assert response.status_code == 201, response.text
    sid: str = response.json()["session_id"]
    assert re.fullmatch(r"sess_[0-9a-f]{16}", sid)
    return sid


def test_new_session_has_the_default_config(client: TestClient) -> None:
    sid = _session(client)
    config = client.get(f"/api/sessions/{sid}/models/config").json()
    assert config["asr"]["model_id"] == "openai/whisper-tiny.en"
    assert config["asr"]["parameters"]["beam_size"] == 5
    assert config["mt"]["model_id"] == "facebook/nllb-200-distilled-600M"
    assert config["mt"]["compute_config"]["device"] == "auto"


def test_initial_config_is_merged_into_the_defaults(client: TestClient) -> None:
    sid = _session(client, {"config": {"mt": {"target_language": "de"}}})
    config = client.get(f"/api/sessions/{sid}/models/config").json()
    assert config["mt"]["target_language"] == "de"
    assert config["mt"]["parameters"]["beam_size"] == 4


def test_put_changing_one_field_returns_the_whole_config(client: TestClient) -> None:
    sid = _session(client)
    before = client.get(f"/api/sessions/{sid}/models/config").json()
    response = client.put(
        f"/api/sessions/{sid}/models/config", json={"mt": {"target_language": "es"}}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    expected = {**before, "mt": {**before["mt"], "target_language": "es"}}
    assert body["config"] == expected
    assert body["restart_required"] is False
    assert "estimated_restart_time_ms" not in body
    assert client.get(f"/api/sessions/{sid}/models/config").json() == expected


def test_deep_merge_keeps_sibling_parameters(client: TestClient) -> None:
    sid = _session(client)
    body = client.put(
        f"/api/sessions/{sid}/models/config", json={"asr": {"parameters": {"beam_size": 2}}}
    ).json()
    assert body["config"]["asr"]["parameters"]["beam_size"] == 2
    assert body["config"]["asr"]["parameters"]["best_of"] == 5
    assert body["restart_required"] is False


def test_model_change_requires_restart(client: TestClient) -> None:
    sid = _session(client)
    body = client.put(
        f"/api/sessions/{sid}/models/config", json={"asr": {"model_id": "openai/whisper-base"}}
    ).json()
    assert body["restart_required"] is True


@pytest.mark.parametrize(
    ("patch", "status", "code", "field"),
    [
        (
            {"asr": {"parameters": {"beam_sise": 2}}},
            400,
            "CONFIGURATION_ERROR",
            "asr.parameters.beam_sise",
        ),
        (
            {"asr": {"parameters": {"beam_size": "two"}}},
            400,
            "CONFIGURATION_ERROR",
            "asr.parameters.beam_size",
        ),
        (
            {"asr": {"parameters": {"beam_size": 99}}},
            400,
            "CONFIGURATION_ERROR",
            "asr.parameters.beam_size",
        ),
        (
            {"asr": {"compute_config": {"compute_type": "float16"}}},
            400,
            "UNSUPPORTED_DEVICE",
            "asr.compute_config.compute_type",
        ),
        (
            {"mt": {"compute_config": {"device": "cuda"}}},
            400,
            "UNSUPPORTED_DEVICE",
            "mt.compute_config.device",
        ),
        ({"mt": {"model_id": "facebook/nllb-9000"}}, 404, "MODEL_NOT_FOUND", "mt.model_id"),
        ({"mt": {"target_language": "klingon"}}, 400, "CONFIGURATION_ERROR", "mt.target_language"),
    ],
)
def test_malformed_put_is_refused_and_changes_nothing(
    client: TestClient, patch: dict[str, Any], status: int, code: str, field: str
) -> None:
    sid = _session(client)
    before = client.get(f"/api/sessions/{sid}/models/config").json()
    error = error_of(client.put(f"/api/sessions/{sid}/models/config", json=patch), status, code)
    assert error["details"]["field"] == field
    assert client.get(f"/api/sessions/{sid}/models/config").json() == before


def test_unknown_session_is_404_everywhere(client: TestClient) -> None:
    missing = "sess_0000000000000000"
    error_of(client.get(f"/api/sessions/{missing}"), 404, "SESSION_NOT_FOUND")
    error_of(client.get(f"/api/sessions/{missing}/models/config"), 404, "SESSION_NOT_FOUND")
    error_of(
        client.put(f"/api/sessions/{missing}/models/config", json={}), 404, "SESSION_NOT_FOUND"
    )
    error_of(client.delete(f"/api/sessions/{missing}"), 404, "SESSION_NOT_FOUND")
    error_of(client.get("/api/sessions/not-an-id"), 404, "SESSION_NOT_FOUND")


def test_delete_removes_the_session(client: TestClient) -> None:
    sid = _session(client)
    assert client.delete(f"/api/sessions/{sid}").status_code == 204
    error_of(client.get(f"/api/sessions/{sid}"), 404, "SESSION_NOT_FOUND")


def test_sessions_survive_an_app_restart(tmp_path: Path) -> None:
    settings = Settings(devices=(), state_dir=tmp_path)
    with TestClient(create_app(settings), base_url=LOOPBACK_URL) as first:
        sid = _session(first)
        first.put(f"/api/sessions/{sid}/models/config", json={"mt": {"target_language": "ja"}})
    with TestClient(create_app(settings), base_url=LOOPBACK_URL) as second:
        config = second.get(f"/api/sessions/{sid}/models/config").json()
    assert config["mt"]["target_language"] == "ja"
