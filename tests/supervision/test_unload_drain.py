"""An unload waits for every transcription it accepted, queued or running, then unloads:
the README's "in-flight work is drained first", on a real gateway and worker."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.supervision.harness import MODEL, REFERENCES, Gateway, gateway_running
from tests.support.gateway_process import next_event

pytestmark = pytest.mark.integration


def _timed(gateway: Gateway, name: str) -> tuple[httpx.Response, float]:
    answer = gateway.transcribe(name)
    return answer, time.monotonic()


def test_an_unload_drains_its_queue_before_it_unloads(tmp_path: Path) -> None:
    # One transcription at a time: one runs, the others wait in the worker's queue.
    with gateway_running(tmp_path, LX_ASR_CONCURRENCY="1") as gateway:
        with gateway.events() as ws:
            assert gateway.load().status_code == 202
            next_event(ws, {"model.load.completed"}, timeout_s=60)
        names = ["long_story.wav", *["kitchen_lights.wav"] * 7]
        with ThreadPoolExecutor(len(names)) as threads:
            accepted: list[Future[tuple[httpx.Response, float]]] = [
                threads.submit(_timed, gateway, names[0])
            ]
            gateway.wait_for(lambda: gateway.worker("cpu")["in_flight"] == 1, 15, "one running")
            accepted += [threads.submit(_timed, gateway, name) for name in names[1:]]
            gateway.wait_for(lambda: gateway.worker("cpu")["in_flight"] == 8, 15, "8 accepted")
            with gateway.client() as client:
                unload = client.post(f"/api/models/{MODEL}/unload")
            unloaded_at = time.monotonic()
            answers = [future.result(timeout=120) for future in accepted]
        assert unload.status_code == 200, unload.text
        assert unload.json()["status"] == "unloaded"
        statuses = [answer.status_code for answer, _ in answers]
        assert statuses == [200] * 8, [a.text for a, _ in answers if a.status_code != 200]
        for (answer, _), name in zip(answers, names, strict=True):
            expected = REFERENCES[name].lower().split()[:3]
            assert answer.json()["text"].lower().split()[:3] == expected
        # It answered only once the last of them had been answered.
        assert unloaded_at >= max(finished for _, finished in answers)
        assert gateway.model_status() != "loaded"
        assert gateway.worker("cpu")["models"] == []
