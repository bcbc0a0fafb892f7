"""Routes validate their input and answer in the error envelope (no workers needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.support.app_client import LOOPBACK_URL
from tests.support.envelope import error_of


def test_unknown_model_is_404_with_alternatives(client: TestClient) -> None:
    error = error_of(client.post("/api/models/openai/whisper-tiny.xx/load"), 404, "MODEL_NOT_FOUND")
    assert error["details"]["model_id"] == "openai/whisper-tiny.xx"
    assert "openai/whisper-tiny.en" in error["details"]["suggested_alternatives"]


def test_model_id_keeps_its_slash(client: TestClient) -> None:
    error = error_of(client.post("/api/models/acme/unknown-model/unload"), 404, "MODEL_NOT_FOUND")
    assert error["details"]["model_id"] == "acme/unknown-model"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"compute_config": {"device": "tpu"}}, "compute_config.device"),
        ({"compute_config": {"compute_type": "int4"}}, "compute_config.compute_type"),
        ({"priority": "urgent"}, "priority"),
        ({"preload_cache": "yes"}, "preload_cache"),
        ({"colour": "blue"}, None),
    ],
)
def test_bad_load_body_is_configurationerror_of(
    client: TestClient, body: dict[str, Any], field: str | None
) -> None:
    error = error_of(
        client.post("/api/models/openai/whisper-tiny.en/load", json=body),
        400,
        "CONFIGURATION_ERROR",
    )
    if field is not None:
        assert error["details"]["field"] == field


def test_malformed_json_is_invalid_request(client: TestClient) -> None:
    response = client.post(
        "/api/models/openai/whisper-tiny.en/load",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    error_of(response, 400, "INVALID_REQUEST")


def test_load_without_any_worker_is_unsupported_device(client: TestClient) -> None:
    response = client.post(
        "/api/models/openai/whisper-tiny.en/load", json={"compute_config": {"device": "cuda"}}
    )
    error = error_of(response, 400, "UNSUPPORTED_DEVICE")
    assert error["details"]["device"] == "cuda"


def test_unload_of_a_model_not_loaded_is_409(client: TestClient) -> None:
    error_of(client.post("/api/models/openai/whisper-tiny.en/unload"), 409, "MODEL_NOT_LOADED")


def test_unknown_route_and_wrong_method_use_the_envelope(client: TestClient) -> None:
    error_of(client.get("/api/nothing-here"), 404, "NOT_FOUND")
    error_of(client.get("/api/models/openai/whisper-tiny.en/load"), 405, "METHOD_NOT_ALLOWED")


def test_upload_over_the_limit_is_413(tmp_path: Path) -> None:
    settings = Settings(devices=(), state_dir=tmp_path, max_upload_mb=1.0)
    with TestClient(create_app(settings), base_url=LOOPBACK_URL) as small:
        response = small.post("/api/asr/transcribe", content=b"\0" * (1024 * 1024 + 1))
    error = error_of(response, 413, "PAYLOAD_TOO_LARGE")
    assert error["details"]["limit_bytes"] == 1024 * 1024


def test_status_lists_catalog_models_not_loaded(client: TestClient) -> None:
    response = client.get("/api/models/status")
    assert response.status_code == 200
    body = response.json()
    tiny = [m for m in body["asr_models"] if m["model_id"] == "openai/whisper-tiny.en"]
    assert tiny and tiny[0]["status"] == "not_loaded"
    assert tiny[0]["memory_usage_mb"] == 0
    # Never loaded, but bundled: the one check made (the disk) says a load can succeed.
    assert tiny[0]["health_check"]["status"] == "healthy"
    assert body["mt_models"], "translation models are listed too"
    resources = body["system_resources"]
    assert resources["memory_usage_mb"] > 0
    assert 0 <= resources["cpu_usage_percent"] <= 100


def test_healthz_is_degraded_without_workers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "workers": []}
