"""Clients that hang up mid transcription, against a real gateway and worker: their queued
work is dropped and their running decodes stop at the next segment, so the next client's
short clip is answered about as fast as on an idle service; the access log says 499.

This module's gateway caches no results (every request decodes) and logs at INFO, in
JSON, to a file the tests read.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.audio import LONG_CLIP, clip_path, short_clips
from tests.support.gateway_process import GatewayProcess, gateway_process
from tests.support.wav_samples import repeated_wav

pytestmark = pytest.mark.integration

MODEL = "openai/whisper-tiny.en"
TRANSCRIBE = f"/api/asr/transcribe?model_id={MODEL}"
HANG_UPS = 6


# About five minutes of speech: tens of seconds of decoding for each client on 2 cores.
LONG = repeated_wav(clip_path(LONG_CLIP), 8)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("abandoned")


@pytest.fixture(scope="module")
def log_file(folder: Path) -> Path:
    return folder / "gateway.log"


@pytest.fixture(scope="module")
def gateway(folder: Path, log_file: Path) -> Iterator[GatewayProcess]:
    env = {"LX_RESULT_CACHE_SIZE": "0", "LX_LOG_LEVEL": "INFO", "LX_LOG_FORMAT": "json"}
    with log_file.open("wb") as log, gateway_process(folder / "state", env, stderr=log) as gw:
        yield gw


def log_lines(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(errors="replace").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def short_clip_seconds(gateway: GatewayProcess) -> float:
    """Wall time of one short clip's transcription (fixtures differ: no shared answers)."""
    audio = clip_path(short_clips()[0]).read_bytes()
    with gateway.client() as client:
        started = time.perf_counter()
        answer = client.post(TRANSCRIBE, content=audio, headers={"content-type": "audio/wav"})
        elapsed = time.perf_counter() - started
    assert answer.status_code == 200, answer.text
    assert answer.json()["text"]
    return elapsed


def hang_up_after(gateway: GatewayProcess, request_id: str, audio: bytes) -> socket.socket:
    """Send a whole transcription request and keep the connection open (closed later)."""
    head = (
        f"POST {TRANSCRIBE} HTTP/1.1\r\nHost: 127.0.0.1:{gateway.port}\r\n"
        f"Content-Type: audio/wav\r\nContent-Length: {len(audio)}\r\n"
        f"X-Request-ID: {request_id}\r\n\r\n"
    ).encode()
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=30)
    sock.sendall(head + audio)
    return sock


def work_left(gateway: GatewayProcess) -> tuple[int, float]:
    """(transcriptions running on the worker, requests queued in its lanes), as its last
    heartbeat said."""
    with gateway.client() as client:
        workers = client.get("/api/workers").json()["workers"]
        text = client.get("/metrics").text
    running = sum(int(w.get("in_flight", 0)) for w in workers)
    queued = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "loquilex_queue_depth":
                queued += sample.value
    return running, queued


def test_clients_that_hang_up_leave_no_work_behind(gateway: GatewayProcess, log_file: Path) -> None:
    short_clip_seconds(gateway)  # the model is loaded and warm
    idle = min(short_clip_seconds(gateway) for _ in range(2))
    ids = [f"hangs-up-{n}" for n in range(HANG_UPS)]
    sockets = [hang_up_after(gateway, rid, LONG) for rid in ids]

    def all_running_or_queued() -> bool:
        running, queued = work_left(gateway)
        return running + queued >= HANG_UPS

    gateway.wait_for(all_running_or_queued, 60, "every long transcription to reach the worker")
    for sock in sockets:
        sock.close()

    def stopped() -> set[str]:
        return {
            line["request_id"]
            for line in log_lines(log_file)
            if line.get("process") == "worker"
            and line.get("request_id") in ids
            and any(said in line["message"] for said in ("stopped: it was", "cancelled before"))
        }

    # Each running decode stops at its next segment: seconds, not its minutes of audio.
    gateway.wait_for(lambda: stopped() == set(ids), 30, "the worker to drop every request")

    def nothing_left() -> bool:
        return work_left(gateway) == (0, 0.0)

    gateway.wait_for(nothing_left, 10, "the worker's heartbeat to show no work")
    after = short_clip_seconds(gateway)
    # A small factor of idle (and a second of slack for a loaded test machine); before
    # this, the abandoned decodes ran on and the clip waited behind minutes of audio.
    assert after < max(3 * idle, idle + 1.5), (idle, after)

    lines = log_lines(log_file)
    access = {
        line["request_id"]: line["status"]
        for line in lines
        if line.get("logger") == "gateway.access" and line.get("request_id") in ids
    }
    assert access == dict.fromkeys(ids, 499)
    finished = [
        line
        for line in lines
        if line.get("request_id") in ids and "transcribed" in line.get("message", "")
    ]
    assert finished == []


def test_a_client_that_waits_still_gets_its_answer(gateway: GatewayProcess) -> None:
    """The watcher cancels only for a client that left: one reading slowly is answered."""
    audio = clip_path(short_clips()[-1]).read_bytes()
    with httpx.Client(base_url=gateway.base_url, timeout=60) as client:
        answer = client.post(TRANSCRIBE, content=audio, headers={"content-type": "audio/wav"})
    assert answer.status_code == 200
    assert answer.json()["segments"]
