"""POST /api/models/{id}/download through a real gateway and worker, from a hub on loopback:
files fetched with byte progress and nothing loaded; on disk already: 200 with where;
offline: 409 DOWNLOAD_REQUIRED at once; a refusal of the hub: a failed event.

`loquilex-models models pull` online is checked here too, on the same hub (its other
commands, and a pull offline, are in tests/cli/).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection

from gateway.cli.tables import human_bytes
from tests.support.builders.fixtures import TINY_WHISPER_PHRASE
from tests.support.cli import run_cli
from tests.support.envelope import error_of
from tests.support.fake_hub import FakeHub, running_hub
from tests.support.gateway_process import GatewayProcess, next_event, running_gateway

pytestmark = pytest.mark.integration

AUDIO = Path(__file__).parent.parent / "fixtures" / "audio" / "sunny_day.wav"
SLOW = ("openai/whisper-base", "Systran/faster-whisper-base")
PULLED = ("openai/whisper-tiny", "Systran/faster-whisper-tiny")
GATED = ("openai/whisper-base.en", "Systran/faster-whisper-base.en")
NEVER_FETCHED = ("openai/whisper-small", "Systran/faster-whisper-small")  # catalog: 488 MB
DOWNLOAD_EVENTS = {
    "model.download.started",
    "model.download.progress",
    "model.download.completed",
    "model.download.failed",
}
ENDS = {"model.download.completed", "model.download.failed"}


@pytest.fixture(scope="module")
def hub(tiny_whisper: Path) -> Iterator[FakeHub]:
    with running_hub() as fake:
        fake.host(SLOW[1], tiny_whisper, mode="slow").slow_seconds = 0.7
        fake.host(PULLED[1], tiny_whisper, mode="slow").slow_seconds = 0.7
        fake.host(GATED[1], tiny_whisper, mode="gated")
        yield fake


@pytest.fixture(scope="module")
def hub_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hub-cache")


def _gateway(hub: FakeHub, cache: Path, state: Path, offline: bool) -> Any:
    flag = "1" if offline else "0"
    return running_gateway(
        state, HF_ENDPOINT=hub.url, HF_HUB_CACHE=str(cache), HF_HUB_OFFLINE=flag, LX_OFFLINE=flag
    )


@pytest.fixture(scope="module")
def online(
    hub: FakeHub, hub_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    with _gateway(hub, hub_cache, tmp_path_factory.mktemp("state"), offline=False) as process:
        yield process


def _download(
    gateway: GatewayProcess, ws: ClientConnection, model_id: str, sid: str
) -> tuple[Any, list[dict[str, Any]]]:
    """Ask for a download naming session `sid`; its answer and the events that follow."""
    with gateway.client() as client:
        answer = client.post(f"/api/models/{model_id}/download", params={"session_id": sid})
    assert answer.status_code == 202, answer.text
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["t"] not in ENDS:
        event = next_event(ws, DOWNLOAD_EVENTS)
        assert event["data"]["model_id"] == model_id, event  # a session sees its own
        seen.append(event)
    return answer, seen


def _status_of(gateway: GatewayProcess, model_id: str) -> str:
    with gateway.client() as client:
        statuses = client.get("/api/models/status").json()["asr_models"]
    (found,) = [s["status"] for s in statuses if s["model_id"] == model_id]
    return str(found)


def test_a_download_fetches_with_byte_progress_and_loads_nothing(
    online: GatewayProcess, hub: FakeHub, hub_cache: Path
) -> None:
    model_id, repo_id = SLOW
    sid = "sess_00000000000000d1"
    with online.events(sid) as ws:
        answer, events = _download(online, ws, model_id, sid)
    body = answer.json()
    assert body["status"] == "downloading" and body["repo_id"] == repo_id
    assert body["worker_id"] == "cpu"
    assert events[0]["t"] == "model.download.started"
    assert events[-1]["t"] == "model.download.completed", events[-1]
    assert all(e["sid"] == sid for e in events)
    total = hub.repos[repo_id].total_bytes
    progress = [e["data"] for e in events if e["t"] == "model.download.progress"]
    done = [p["downloaded_bytes"] for p in progress]
    assert {p["total_bytes"] for p in progress} == {total}
    assert done == sorted(set(done)) and done[-1] == total and len(done) >= 3, progress
    assert [p["progress"] for p in progress][-1] == 100.0
    completed = events[-1]["data"]
    assert completed["downloaded_bytes"] == completed["total_bytes"] == total
    folder = Path(completed["path"])
    assert folder.is_relative_to(hub_cache) and (folder / "model.bin").is_file()
    assert _status_of(online, model_id) == "not_loaded"  # downloaded, not loaded

    # Asked again: on disk, answered at once with where, and the hub hears nothing.
    asked = len(hub.requests)
    with online.client() as client:
        again = client.post(f"/api/models/{model_id}/download")
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "downloaded" and again.json()["location"] == "cached"
    assert Path(again.json()["path"]).resolve() == folder.resolve()
    assert len(hub.requests) == asked


def test_a_bundled_model_is_already_here(online: GatewayProcess) -> None:
    with online.client() as client:
        answer = client.post("/api/models/openai/whisper-tiny.en/download")
    assert answer.status_code == 200, answer.text
    assert answer.json()["location"] == "bundled"
    assert (Path(answer.json()["path"]) / "model.bin").is_file()


def test_a_refused_download_ends_with_a_failed_event(online: GatewayProcess) -> None:
    model_id, repo_id = GATED
    sid = "sess_00000000000000d2"
    with online.events(sid) as ws:
        _, events = _download(online, ws, model_id, sid)
    failed = events[-1]
    assert failed["t"] == "model.download.failed"
    assert failed["data"]["error_code"] == "LICENSE_ERROR"
    assert failed["data"]["details"]["repo_id"] == repo_id
    assert any("HF_TOKEN" in tip for tip in failed["data"]["suggestions"])


def test_an_unknown_model_is_404(online: GatewayProcess) -> None:
    with online.client() as client:
        answer = client.post("/api/models/openai/whisper-nope/download")
    error = error_of(answer, 404, "MODEL_NOT_FOUND")
    assert "openai/whisper-tiny.en" in error["details"]["suggested_alternatives"]


def test_pull_shows_the_bytes_and_the_model_then_loads_from_the_cache(
    online: GatewayProcess, hub: FakeHub
) -> None:
    model_id, repo_id = PULLED
    pulled = run_cli("models", "pull", model_id, url=online.base_url)
    assert pulled.returncode == 0, pulled.stderr
    total = hub.repos[repo_id].total_bytes
    lines = [line for line in pulled.stderr.splitlines() if line.startswith(f"download {model_id}")]
    assert len(lines) >= 2 and "downloading" in lines[-1], pulled.stderr
    assert "100.0%" in lines[-1] and "[" + "#" * 24 + "]" in lines[-1]
    assert lines[-1].endswith(f"{human_bytes(total)} / {human_bytes(total)}")
    assert f"downloaded {model_id}" in pulled.stdout

    again = run_cli("models", "pull", model_id, "--json", url=online.base_url)
    assert again.returncode == 0, again.stderr
    assert again.json()["status"] == "downloaded" and again.json()["location"] == "cached"

    # What was pulled loads without the hub.
    asked = len(hub.requests_for(repo_id))
    with online.client() as client:
        answer = client.post(
            "/api/asr/transcribe",
            params={"model_id": model_id},
            content=AUDIO.read_bytes(),
            headers={"content-type": "audio/wav"},
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["text"] == TINY_WHISPER_PHRASE
    assert not [r for r in hub.requests_for(repo_id)[asked:] if "/resolve/" in r]


def test_offline_a_missing_model_is_refused_at_once(
    hub: FakeHub, hub_cache: Path, tmp_path: Path
) -> None:
    with _gateway(hub, hub_cache, tmp_path, offline=True) as offline:
        asked = len(hub.requests)
        started = time.monotonic()
        with offline.client() as client:
            answer = client.post(f"/api/models/{NEVER_FETCHED[0]}/download")
        assert time.monotonic() - started < 5.0
        error = error_of(answer, 409, "DOWNLOAD_REQUIRED")
        assert error["details"]["repo_id"] == NEVER_FETCHED[1]
        assert error["details"]["offline"] is True and error["details"]["size_mb"] == 488.0
        assert any("hf download" in tip for tip in error["details"]["suggestions"])
        assert len(hub.requests) == asked, "offline, the hub hears nothing"
