"""Downloads through a real gateway and worker from a hub on loopback (HF_ENDPOINT).

The catalog's repositories are served by the fake hub with the suite's tiny Whisper inside:
`openai/whisper-base` downloads slowly, `openai/whisper-base.en` is gated and the transfer of
`openai/whisper-tiny` is cut short mid-file (test_downloads.py drops the connection instead; here
the shorter body spares huggingface_hub's one-second wait before it retries a dropped one).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection

from tests.support.builders.fixtures import TINY_WHISPER_PHRASE
from tests.support.envelope import error_of
from tests.support.fake_hub import FakeHub, running_hub
from tests.support.gateway_process import GatewayProcess, next_event, running_gateway

pytestmark = pytest.mark.integration

AUDIO = Path(__file__).parent.parent / "fixtures" / "audio" / "sunny_day.wav"
DOWNLOADED = ("openai/whisper-base", "Systran/faster-whisper-base")
GATED = ("openai/whisper-base.en", "Systran/faster-whisper-base.en")
BROKEN = ("openai/whisper-tiny", "Systran/faster-whisper-tiny")
NEVER_FETCHED = ("openai/whisper-small", "Systran/faster-whisper-small")  # catalog: 488 MB
OUTCOME = {"model.load.completed", "model.load.failed"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, tiny_whisper: Path) -> Iterator[FakeHub]:
    with running_hub() as fake:
        fake.host(DOWNLOADED[1], tiny_whisper, mode="slow").slow_seconds = 0.7
        fake.host(GATED[1], tiny_whisper, mode="gated")
        fake.host(BROKEN[1], tiny_whisper, mode="short")
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


def _load(gateway: GatewayProcess, ws: ClientConnection, model_id: str) -> list[dict[str, Any]]:
    """Ask for a load; the progress events and the outcome that follow, in order."""
    with gateway.client() as client:
        assert client.post(f"/api/models/{model_id}/load").status_code == 202
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["t"] not in OUTCOME:
        event = next_event(ws, OUTCOME | {"model.load.progress"})
        if event["data"]["model_id"] == model_id:
            seen.append(event)
    return seen


def _transcribe(gateway: GatewayProcess, model_id: str) -> Any:
    with gateway.client() as client:
        return client.post(
            "/api/asr/transcribe",
            params={"model_id": model_id},
            content=AUDIO.read_bytes(),
            headers={"content-type": "audio/wav"},
        )


def test_a_model_downloads_with_byte_progress_then_transcribes(
    online: GatewayProcess, hub: FakeHub
) -> None:
    model_id, repo_id = DOWNLOADED
    with online.events() as ws:
        events = _load(online, ws, model_id)
    assert events[-1]["t"] == "model.load.completed", events[-1]
    downloads = [e["data"] for e in events if e["data"].get("stage") == "downloading"]
    total = hub.repos[repo_id].total_bytes
    assert {d["total_bytes"] for d in downloads} == {total}
    done = [d["downloaded_bytes"] for d in downloads]
    assert done == sorted(set(done)) and done[-1] == total
    assert len(done) >= 3, downloads  # at the start, at least once while it ran, at the end
    percents = [e["data"]["progress"] for e in events[:-1]]
    assert percents == sorted(percents), "overall progress never goes back"
    answer = _transcribe(online, model_id)
    assert answer.status_code == 200, answer.text
    assert answer.json()["text"] == TINY_WHISPER_PHRASE  # the downloaded weights answered


def test_a_gated_repository_fails_with_license_error(online: GatewayProcess) -> None:
    model_id, repo_id = GATED
    with online.events() as ws:
        failed = _load(online, ws, model_id)[-1]
    assert failed["t"] == "model.load.failed"
    assert failed["data"]["error_code"] == "LICENSE_ERROR"
    assert repo_id in failed["data"]["error_message"]
    tips = " ".join(failed["data"]["suggestions"])
    assert f"huggingface.co/{repo_id}" in tips and "HF_TOKEN" in tips
    error = error_of(_transcribe(online, model_id), 403, "LICENSE_ERROR")
    assert error["details"]["repo_id"] == repo_id


def test_a_broken_download_leaves_nothing_that_an_offline_gateway_would_load(
    online: GatewayProcess, hub: FakeHub, hub_cache: Path, tmp_path: Path
) -> None:
    model_id, repo_id = BROKEN
    with online.events() as ws:
        failed = _load(online, ws, model_id)[-1]
    assert failed["t"] == "model.load.failed"
    assert failed["data"]["error_code"] == "DOWNLOAD_REQUIRED"
    assert repo_id in failed["data"]["error_message"]
    assert "Retry the load" in failed["data"]["suggestions"][0]
    storage = hub_cache / f"models--{repo_id.replace('/', '--')}"
    assert not list(storage.rglob("*.incomplete")) and not list(storage.rglob("model.bin"))

    with _gateway(hub, hub_cache, tmp_path, offline=True) as offline:
        asked = len(hub.requests)
        started = time.monotonic()
        broken = error_of(_transcribe(offline, model_id), 409, "DOWNLOAD_REQUIRED")
        assert broken["details"]["repo_id"] == repo_id
        assert broken["details"]["size_bytes"] == hub.repos[repo_id].total_bytes
        never = error_of(_transcribe(offline, NEVER_FETCHED[0]), 409, "DOWNLOAD_REQUIRED")
        assert time.monotonic() - started < 5.0
        assert never["details"]["repo_id"] == NEVER_FETCHED[1]
        assert never["details"]["size_mb"] == 488.0  # the catalog's figure
        assert never["details"]["offline"] is True
        # The model downloaded online loads offline from the cache.
        assert _transcribe(offline, DOWNLOADED[0]).json()["text"] == TINY_WHISPER_PHRASE
        assert len(hub.requests) == asked, "offline, the hub hears nothing"
