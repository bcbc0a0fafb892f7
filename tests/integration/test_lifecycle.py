"""Memory admission, shared loads and cache eviction on a real gateway and worker."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import CACHED_MODEL, CACHED_REPO
from tests.support.builders.fixtures import tiny_whisper_multilingual_model
from tests.support.gateway_process import GatewayProcess, next_event, running_gateway
from tests.support.hub_cache import place_in_hub_cache

pytestmark = pytest.mark.integration

TINY = "openai/whisper-tiny.en"
LIMIT_MB = 400  # room for one tiny Whisper on top of the worker itself, not for two


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    hub_cache = tmp_path_factory.mktemp("hub")
    place_in_hub_cache(hub_cache, CACHED_REPO, tiny_whisper_multilingual_model(tmp_path_factory))
    env = {
        "HF_HUB_CACHE": str(hub_cache),
        "LX_WORKER_MEMORY_LIMIT_MB": str(LIMIT_MB),
        "LX_CACHE_CHECK_INTERVAL_MS": "100",
    }
    with running_gateway(tmp_path_factory.mktemp("state"), **env) as process:
        yield process


def _statuses(gateway: GatewayProcess) -> dict[str, dict[str, Any]]:
    with gateway.client() as client:
        body = client.get("/api/models/status").json()
    return {m["model_id"]: m for m in body["asr_models"] + body["mt_models"]}


def test_a_model_too_large_for_the_worker_is_refused_before_allocation(
    gateway: GatewayProcess,
) -> None:
    with gateway.events() as ws, gateway.client() as client:
        answer = client.post("/api/models/openai/whisper-large-v3/load")
        failed = next_event(ws, {"model.load.failed", "model.load.started"})
    assert answer.status_code == 507, answer.text
    error = answer.json()["error"]
    assert error["code"] == "INSUFFICIENT_MEMORY"
    details = error["details"]
    assert details["required_mb"] > details["available_mb"]
    assert details["available_mb"] < LIMIT_MB
    assert details["limit_mb"] == LIMIT_MB
    assert TINY in details["suggested_alternatives"]
    # The event says the same, and nothing was ever started on the worker.
    assert failed["t"] == "model.load.failed"
    assert failed["data"]["error_code"] == "INSUFFICIENT_MEMORY"
    assert failed["data"]["required_mb"] == details["required_mb"]
    assert any("int8" in s or "smaller" in s for s in failed["data"]["suggestions"])
    assert _statuses(gateway)["openai/whisper-large-v3"]["status"] == "error"


def test_two_clients_asking_at_once_share_one_load(gateway: GatewayProcess) -> None:
    answers: list[dict[str, Any]] = []

    def ask() -> None:
        with gateway.client() as client:
            answers.append(client.post(f"/api/models/{TINY}/load").json())

    with gateway.events() as ws:
        threads = [threading.Thread(target=ask) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        events = [next_event(ws, {"model.load.started", "model.load.completed"})]
        while events[-1]["t"] != "model.load.completed":
            events.append(next_event(ws, {"model.load.started", "model.load.completed"}))
    assert [a["status"] for a in answers] == ["loading", "loading"]
    assert [e["t"] for e in events] == ["model.load.started", "model.load.completed"]
    assert _statuses(gateway)[TINY]["status"] == "loaded"


def test_loading_past_the_limit_evicts_an_idle_model_first(gateway: GatewayProcess) -> None:
    assert _statuses(gateway)[TINY]["status"] == "loaded"
    with gateway.events() as ws, gateway.client() as client:
        answer = client.post(f"/api/models/{CACHED_MODEL}/load")
        assert answer.status_code == 202, answer.text
        evicted = next_event(ws, {"model.evicted"})
        completed = next_event(ws, {"model.load.completed", "model.load.failed"})
    assert evicted["data"]["model_id"] == TINY
    assert evicted["data"]["reason"] == "make_room"
    assert evicted["data"]["memory_freed_mb"] > 0
    assert completed["t"] == "model.load.completed"
    statuses = _statuses(gateway)
    assert statuses[TINY]["status"] == "not_loaded"
    assert statuses[CACHED_MODEL]["status"] == "loaded"
    assert json.dumps(statuses[CACHED_MODEL]["memory_usage_mb"]) != "0"
