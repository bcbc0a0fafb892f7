"""A full model queue answers 503 with Retry-After, and the service keeps serving."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.gateway_process import GatewayProcess, running_gateway

pytestmark = pytest.mark.integration

AUDIO = Path(__file__).parent.parent / "fixtures" / "audio"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    env = {"LX_QUEUE_LIMIT": "1", "LX_RESULT_CACHE_SIZE": "0"}
    with running_gateway(tmp_path_factory.mktemp("state"), **env) as process:
        yield process


def test_a_burst_past_the_queue_limit_gets_503_with_retry_after(gateway: GatewayProcess) -> None:
    audio = (AUDIO / "long_story.wav").read_bytes()
    with gateway.client() as client:  # load first, so the burst meets a ready model
        warm = client.post("/api/asr/transcribe", content=(AUDIO / "sunny_day.wav").read_bytes())
        assert warm.status_code == 200
    answers: list[Any] = []

    def send() -> None:
        with gateway.client() as client:
            answers.append(client.post("/api/asr/transcribe", content=audio))

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(a.status_code for a in answers)
    # One runs, one waits in the queue of one; the others are refused at once.
    assert codes.count(200) >= 2 and codes.count(503) >= 1, codes
    refused = next(a for a in answers if a.status_code == 503)
    assert refused.json()["error"]["code"] == "QUEUE_FULL"
    assert int(refused.headers["retry-after"]) >= 1
    with gateway.client() as client:
        again = client.post(
            "/api/asr/transcribe", content=(AUDIO / "kitchen_lights.wav").read_bytes()
        )
    assert again.status_code == 200
