"""`GET /metrics` of a real gateway parses as Prometheus text, and its numbers move when a
transcription runs, a model loads, an error is answered and a subscriber connects."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.gateway_process import GatewayProcess, running_gateway

pytestmark = pytest.mark.integration

TINY = "openai/whisper-tiny.en"
CLIP = Path(__file__).parent.parent / "fixtures" / "audio" / "kitchen_lights.wav"
TRANSCRIBE = "/api/asr/transcribe"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    # No result cache: every transcription here is one inference.
    state = tmp_path_factory.mktemp("state")
    with running_gateway(state, LX_RESULT_CACHE_SIZE="0") as process:
        yield process


def load_tiny(gateway: GatewayProcess) -> None:
    with gateway.client() as client:
        answer = client.post(f"/api/models/{TINY}/load")
        assert answer.status_code in (200, 202), answer.text

        def loaded() -> bool:
            models = client.get("/api/models/status").json()["asr_models"]
            return any(m["model_id"] == TINY and m["status"] == "loaded" for m in models)

        gateway.wait_for(loaded, 60.0, f"{TINY} to load")


def scrape(gateway: GatewayProcess) -> Samples:
    """Every sample of a scrape, by name and labels, parsed by prometheus-client's parser."""
    with gateway.client() as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def clip_seconds() -> float:
    with wave.open(str(CLIP)) as clip:
        return float(clip.getnframes() / clip.getframerate())


def test_a_transcription_moves_the_inference_and_request_figures(gateway: GatewayProcess) -> None:
    load_tiny(gateway)
    with gateway.client() as client:
        before = scrape(gateway)
        answer = client.post(
            TRANSCRIBE,
            params={"model_id": TINY},
            content=CLIP.read_bytes(),
            headers={"content-type": "audio/wav"},
        )
    assert answer.status_code == 200, answer.text
    after = scrape(gateway)
    model = {"model": TINY, "device": "cpu"}

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("loquilex_inference_duration_seconds_count", **model, kind="asr") == 1
    inference_s = answer.json()["timings"]["inference_ms"] / 1000
    assert moved("loquilex_inference_duration_seconds_sum", **model, kind="asr") == (
        pytest.approx(inference_s, rel=1e-3)
    )
    assert moved("loquilex_audio_seconds_total", **model) == pytest.approx(clip_seconds(), abs=0.01)
    request = {"route": TRANSCRIBE, "method": "POST", "status": "200"}
    assert moved("loquilex_http_request_duration_seconds_count", **request) == 1
    # Routes are templates: the load's path named the model, its label does not.
    routes = {dict(labels).get("route") for _, labels in after} - {None}
    assert "/api/models/{model_id:path}/load" in routes
    assert not any(TINY in route for route in routes if route)
    assert moved("loquilex_inference_queue_seconds_count", **model, kind="asr") == 1


def test_the_loaded_model_and_its_worker_are_reported(gateway: GatewayProcess) -> None:
    load_tiny(gateway)
    with gateway.client() as client:
        status = client.get("/api/models/status").json()
        worker = client.get("/api/workers/cpu").json()
    samples = scrape(gateway)
    [tiny] = [m for m in status["asr_models"] if m["model_id"] == TINY]
    assert value(samples, "loquilex_model_state", model=TINY, kind="asr", state="loaded") == 1
    assert value(samples, "loquilex_model_state", model=TINY, kind="asr", state="error") == 0
    memory = value(samples, "loquilex_model_memory_bytes", model=TINY, device="cpu", worker="cpu")
    assert memory == pytest.approx(tiny["memory_usage_mb"] * 1024 * 1024)
    assert memory > 0
    loads = value(samples, "loquilex_model_load_duration_seconds_count", model=TINY, device="cpu")
    assert loads == 1
    states = {
        dict(labels)["state"]: v
        for (name, labels), v in samples.items()
        if name == "loquilex_worker_state" and dict(labels)["worker"] == "cpu"
    }
    assert sum(states.values()) == 1
    assert states[worker["state"]] == 1
    assert value(samples, "loquilex_worker_restarts_total", worker="cpu") == 0
    assert value(samples, "loquilex_worker_resident_memory_bytes", worker="cpu") > 0
    assert value(samples, "process_resident_memory_bytes") > 0


def test_queue_depths_come_from_the_worker_heartbeats(gateway: GatewayProcess) -> None:
    load_tiny(gateway)
    with gateway.client() as client:
        answer = client.post(
            TRANSCRIBE,
            params={"model_id": TINY},
            content=CLIP.read_bytes(),
            headers={"content-type": "audio/wav"},
        )
        assert answer.status_code == 200, answer.text

    def lane_reported() -> bool:
        lanes = [dict(labels) for name, labels in scrape(gateway) if name == "loquilex_queue_depth"]
        return {"worker": "cpu", "model": TINY, "work_class": "interactive"} in lanes

    # The lane exists once the clip queued in it; the next heartbeat (1 s) reports it.
    gateway.wait_for(lane_reported, 10.0, "the interactive lane in a heartbeat")
    samples = scrape(gateway)
    lane = {"worker": "cpu", "model": TINY, "work_class": "interactive"}
    assert value(samples, "loquilex_queue_depth", **lane) == 0  # nothing waits now


def test_an_error_is_counted_by_its_code_and_route(gateway: GatewayProcess) -> None:
    before = scrape(gateway)
    with gateway.client() as client:
        assert client.post("/api/models/acme/no-such-model/load").status_code == 404
        assert client.get("/api/nothing-here").status_code == 404
    after = scrape(gateway)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("loquilex_errors_total", code="MODEL_NOT_FOUND") == 1
    assert moved("loquilex_errors_total", code="NOT_FOUND") == 1
    load = {"route": "/api/models/{model_id:path}/load", "method": "POST", "status": "404"}
    assert moved("loquilex_http_request_duration_seconds_count", **load) == 1
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert moved("loquilex_http_request_duration_seconds_count", **unmatched) == 1


def test_websocket_subscribers_are_counted_while_connected(gateway: GatewayProcess) -> None:
    assert value(scrape(gateway), "loquilex_websocket_subscribers") == 0
    with gateway.events():
        gateway.wait_for(
            lambda: value(scrape(gateway), "loquilex_websocket_subscribers") == 1,
            10.0,
            "the subscriber to be counted",
        )
    gateway.wait_for(
        lambda: value(scrape(gateway), "loquilex_websocket_subscribers") == 0,
        10.0,
        "the subscriber to be gone",
    )
