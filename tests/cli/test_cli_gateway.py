"""`loquilex-models` against a real gateway and worker on loopback, run as an operator
would run it (a subprocess, not a terminal: progress as plain lines on stderr)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli
from tests.support.envelope import error_of
from tests.support.gateway_process import GatewayProcess, free_port, running_gateway

pytestmark = pytest.mark.integration

MODEL = "openai/whisper-tiny.en"
AUDIO = Path(__file__).parent.parent / "fixtures" / "audio" / "sunny_day.wav"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    # An empty hub cache: nothing but the bundled model is on this "machine"; and every
    # transcription reaches the worker (no cached results).
    env = {"HF_HUB_CACHE": str(tmp_path_factory.mktemp("hub-cache")), "LX_RESULT_CACHE_SIZE": "0"}
    with running_gateway(tmp_path_factory.mktemp("state"), **env) as gw:
        yield gw


@pytest.fixture(scope="module")
def loaded(gateway: GatewayProcess) -> Any:
    """The CLI's own load of the default model (the first test checks its output)."""
    return run_cli("models", "load", MODEL, url=gateway.base_url)


def _transcribe(gateway: GatewayProcess) -> Any:
    with gateway.client() as client:
        return client.post(
            "/api/asr/transcribe",
            params={"model_id": MODEL},
            content=AUDIO.read_bytes(),
            headers={"content-type": "audio/wav"},
        )


def test_load_shows_each_stage_on_a_bar_and_ends_loaded(
    gateway: GatewayProcess, loaded: Any
) -> None:
    assert loaded.returncode == 0, loaded.stderr
    lines = [line for line in loaded.stderr.splitlines() if line.startswith(f"load {MODEL} [")]
    stages = [line.rsplit("%", 1)[1].strip() for line in lines]
    assert stages == ["starting", "resolving", "loading weights", "warming up"], loaded.stderr
    percents = [float(re.search(r"\]\s+([\d.]+)%", line).group(1)) for line in lines]  # type: ignore[union-attr]
    assert percents == sorted(percents) and percents[-1] == 80.0
    assert f"loaded {MODEL} on cpu (worker cpu)" in loaded.stdout
    with gateway.client() as client:
        statuses = client.get("/api/models/status").json()["asr_models"]
    assert [s["status"] for s in statuses if s["model_id"] == MODEL] == ["loaded"]

    again = run_cli("models", "load", MODEL, "--json", url=gateway.base_url)
    assert again.returncode == 0, again.stderr
    assert again.json()["status"] == "loaded" and again.json()["device"] == "cpu"
    assert again.stderr == ""  # already loaded: no bar, and --json prints none anyway


def test_status_json_lists_the_loaded_model(gateway: GatewayProcess, loaded: Any) -> None:
    status = run_cli("models", "status", "--json", url=gateway.base_url)
    assert status.returncode == 0, status.stderr
    (model,) = [m for m in status.json()["asr_models"] if m["model_id"] == MODEL]
    assert model["status"] == "loaded" and model["device"] == "cpu"
    assert model["memory_usage_mb"] > 0 and model["idle_for_s"] >= 0


def test_url_may_come_before_the_command(gateway: GatewayProcess, loaded: Any) -> None:
    status = run_cli("--url", gateway.base_url, "models", "status", "--json", LX_URL="")
    assert status.returncode == 0, status.stderr
    assert MODEL in [m["model_id"] for m in status.json()["asr_models"]]


def test_status_prints_a_table_of_what_is_loaded(gateway: GatewayProcess, loaded: Any) -> None:
    assert _transcribe(gateway).status_code == 200
    status = run_cli("models", "status", url=gateway.base_url)
    assert status.returncode == 0, status.stderr
    header, *rows = [line.split() for line in status.stdout.splitlines() if line.strip()]
    assert " ".join(header) == "MODEL STATUS DEVICE MEMORY IDLE FOR INFERENCES P95"
    rows = [row for row in rows if not set("".join(row)) <= {"─"}]  # the rule under the header
    (row,) = rows  # only loaded models, like `ollama ps`
    assert row[:3] == [MODEL, "loaded", "cpu"] and row[4] == "MB"
    assert re.fullmatch(r"\d+s", row[5]) and int(row[6]) >= 1 and row[8] == "ms"


def test_an_unknown_model_fails_with_its_code_and_alternatives(gateway: GatewayProcess) -> None:
    answer = run_cli("models", "load", "openai/whisper-nope", url=gateway.base_url)
    assert answer.returncode == 1
    assert "error MODEL_NOT_FOUND" in answer.stderr
    assert re.search(r"did you mean: .*openai/whisper-tiny\.en", answer.stderr), answer.stderr
    scripted = run_cli("models", "load", "openai/whisper-nope", "--json", url=gateway.base_url)
    assert scripted.returncode == 1
    error = scripted.json()["error"]
    assert error["code"] == "MODEL_NOT_FOUND"
    assert MODEL in error["details"]["suggested_alternatives"]


def test_a_load_refused_at_once_still_comes_with_suggestions(gateway: GatewayProcess) -> None:
    # No GPU worker here: refused before the load starts, its suggestions in the event.
    # (A model not loaded: a load of a loaded one joins it, whatever device it names.)
    answer = run_cli(
        "models", "load", "openai/whisper-base", "--device", "cuda:0", url=gateway.base_url
    )
    assert answer.returncode == 1
    assert "error UNSUPPORTED_DEVICE" in answer.stderr
    assert "Use device 'auto' to let the service place the model" in answer.stderr


def test_pull_offline_of_a_missing_model_is_download_required(gateway: GatewayProcess) -> None:
    pulled = run_cli("models", "pull", "openai/whisper-base", url=gateway.base_url)
    assert pulled.returncode == 1
    assert "error DOWNLOAD_REQUIRED" in pulled.stderr
    assert "hf download Systran/faster-whisper-base" in pulled.stderr  # a suggestion


def test_pull_of_the_bundled_model_says_where_it_is(gateway: GatewayProcess) -> None:
    pulled = run_cli("models", "pull", MODEL, url=gateway.base_url)
    assert pulled.returncode == 0, pulled.stderr
    assert f"{MODEL} is already on this machine (bundled)" in pulled.stdout


def test_drain_then_resume_serves_transcriptions_again(
    gateway: GatewayProcess, loaded: Any
) -> None:
    drained = run_cli("workers", "drain", "cpu", "--wait", url=gateway.base_url)
    assert drained.returncode == 0, drained.stderr
    assert "worker cpu (cpu): draining (drained)" in drained.stdout
    with gateway.client() as client:
        (worker,) = client.get("/api/workers").json()["workers"]
    assert worker["state"] == "draining" and worker["drained"] is True
    assert _transcribe(gateway).status_code == 503

    resumed = run_cli("workers", "resume", "cpu", url=gateway.base_url)
    assert resumed.returncode == 0, resumed.stderr
    assert "worker cpu (cpu): ready" in resumed.stdout
    answer = _transcribe(gateway)
    assert answer.status_code == 200 and answer.json()["text"].strip()
    with gateway.client() as client:
        assert client.get("/api/workers/cpu").json()["drained"] is False
        error_of(client.post("/api/workers/cpu/resume"), 409, "WORKER_NOT_DRAINING")

    twice = run_cli("workers", "resume", "cpu", url=gateway.base_url)
    assert twice.returncode == 1 and "error WORKER_NOT_DRAINING" in twice.stderr


def test_workers_list_shows_the_worker(gateway: GatewayProcess) -> None:
    listed = run_cli("workers", "list", url=gateway.base_url)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert rows[0][:3] == ["WORKER", "DEVICE", "STATE"]
    assert ["cpu", "cpu"] in [row[:2] for row in rows[1:]]


def test_an_unreachable_gateway_is_exit_3() -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    for args in (("models", "status"), ("models", "load", MODEL), ("workers", "list")):
        answer = run_cli(*args, url=nobody)
        assert answer.returncode == 3, (args, answer.stdout, answer.stderr)
        assert "cannot reach the gateway" in answer.stderr


def test_bad_usage_is_exit_2() -> None:
    assert run_cli("models", "load").returncode == 2  # no model id
    assert run_cli("models", "frobnicate").returncode == 2
    assert run_cli("models", "load", MODEL, "--priority", "urgent").returncode == 2
