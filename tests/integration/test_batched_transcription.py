"""Concurrent transcriptions through a real gateway and worker batch, and change nothing.

The gateway (and so its worker) is pinned to one CPU, so the worker's decode plan has one
replica whatever machine runs this; `LX_ASR_CONCURRENCY=4` lets four transcriptions run at
once on it and `LX_ASR_BATCH_SIZE=4` turns batching on (off by default on a CPU, where it
does not pay): their windows wait together and share model calls. The result cache is off,
so every request is decoded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.audio import clip_path, short_clips
from tests.support.gateway_process import GatewayProcess, running_pinned_gateway

pytestmark = pytest.mark.integration

TINY = "openai/whisper-tiny.en"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    one_cpu = {min(os.sched_getaffinity(0))}
    env = {
        "LX_ASR_CONCURRENCY": "4",
        "LX_ASR_BATCH_SIZE": "4",
        "LX_WORKER_CPU_THREADS": "0",
        "LX_RESULT_CACHE_SIZE": "0",
        "LX_PRELOAD_MODELS": TINY,
    }
    with running_pinned_gateway(tmp_path_factory.mktemp("state"), one_cpu, **env) as process:
        process.wait_for(lambda: _loaded(process), 60.0, f"{TINY} preloaded")
        yield process


def _loaded(gateway: GatewayProcess) -> bool:
    return bool(_status(gateway)["status"] == "loaded")


def _status(gateway: GatewayProcess) -> dict[str, Any]:
    with gateway.client() as client:
        models = client.get("/api/models/status").json()["asr_models"]
    [found] = [m for m in models if m["model_id"] == TINY]
    return dict(found)


def _transcribe(gateway: GatewayProcess, name: str) -> dict[str, Any]:
    with gateway.client() as client:
        answer = client.post(
            "/api/asr/transcribe",
            params={"model_id": TINY},
            content=clip_path(name).read_bytes(),
            headers={"content-type": "audio/wav"},
        )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_status_says_how_the_worker_runs_the_model(gateway: GatewayProcess) -> None:
    decoding = _status(gateway)["decoding"]
    assert decoding == {
        "concurrency": 4,
        "threads_per_decode": 1,
        "replicas": 1,  # one CPU
        "max_batch_size": 4,
        "batch_encode": True,  # so that the windows meet
        "chosen": "LX_ASR_CONCURRENCY=4, LX_ASR_BATCH_SIZE=4 set, the rest auto",
        "bulk_slots": 1,  # long files leave three slots to clips
    }


def test_clips_give_the_same_texts_one_by_one_and_batched(gateway: GatewayProcess) -> None:
    names = short_clips()
    alone = {name: _transcribe(gateway, name) for name in names}
    assert all(body["timings"]["batch_size"] == 1 for body in alone.values())
    with ThreadPoolExecutor(len(names)) as pool:
        together = dict(zip(names, pool.map(lambda n: _transcribe(gateway, n), names), strict=True))
    for name in names:
        assert together[name]["text"] == alone[name]["text"], name
        assert together[name]["segments"] == alone[name]["segments"], name
    # Four at once on one replica: their windows shared model calls.
    assert max(body["timings"]["batch_size"] for body in together.values()) > 1
