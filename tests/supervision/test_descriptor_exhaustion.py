"""A gateway under a low `ulimit -n` that clients try to exhaust: connections past the cap
are refused, the descriptors left serve ZeroMQ, a worker killed meanwhile comes back with
its model, and the gateway never aborts."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import time
from pathlib import Path

import psutil
import pytest

from tests.supervision.harness import AUDIO, FAST, MODEL
from tests.support.gateway_process import gateway_process

pytestmark = pytest.mark.integration

NOFILE = 256
# What the gateway computes from 256: less 128 kept for ZeroMQ and workers, less 32 refusals.
CAP = NOFILE - 128 - 32
FULL_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def _still_open(socks: list[socket.socket]) -> list[socket.socket]:
    """The sockets the server has not closed (a closed one reads as ready: EOF or reset)."""
    ready: set[socket.socket] = set()
    for start in range(0, len(socks), 200):
        chunk = socks[start : start + 200]
        readable, _, _ = select.select(chunk, [], [], 0)
        ready.update(readable)
    return [s for s in socks if s not in ready]


def _worker_pids(gateway_pid: int) -> list[int]:
    pids = []
    for child in psutil.Process(gateway_pid).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "worker" in " ".join(child.cmdline()):
                pids.append(child.pid)
        except psutil.Error:
            continue  # it ended while being looked at
    return pids


def test_the_gateway_survives_descriptor_exhaustion_while_a_worker_restarts(
    tmp_path: Path,
) -> None:
    env = {**FAST, "LX_REQUEST_HEAD_TIMEOUT_MS": "120000", "LX_KEEPALIVE_TIMEOUT_MS": "120000"}
    log_path = tmp_path / "gateway.log"
    with (
        log_path.open("wb") as log_file,
        gateway_process(tmp_path, env, stderr=log_file, nofile=NOFILE) as gateway,
    ):
        with gateway.client() as client:
            assert client.post(f"/api/models/{MODEL}/load", json={}).status_code == 202

            def loaded() -> bool:
                body = client.get("/api/models/status").json()
                return any(m["status"] == "loaded" for m in body["asr_models"])

            gateway.wait_for(loaded, 60, "the model loaded")
        (old_worker,) = _worker_pids(gateway.process.pid)

        flood = [socket.create_connection(("127.0.0.1", gateway.port), 10) for _ in range(400)]
        try:
            time.sleep(2.5)  # accepted, the refused ones closed after their grace second
            held = _still_open(flood)
            assert len(held) == CAP, len(held)
            fds = psutil.Process(gateway.process.pid).num_fds()
            assert fds <= NOFILE - 100, f"{fds} descriptors open: the reserve is not kept"

            # A new client is refused with an answer, not left to time out.
            with socket.create_connection(("127.0.0.1", gateway.port), 10) as extra:
                extra.settimeout(10)
                extra.sendall(FULL_REQUEST)
                answer = b""
                while chunk := extra.recv(65536):
                    answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 503")
            assert json.loads(body)["error"]["code"] == "TOO_MANY_CONNECTIONS"

            # The worker dies while every client slot is held; its restart needs pipes,
            # ZeroMQ sockets and model files.
            os.kill(old_worker, signal.SIGKILL)
            gateway.wait_for(
                lambda: bool(set(_worker_pids(gateway.process.pid)) - {old_worker}),
                30,
                "a new worker process",
            )
            time.sleep(3)
            assert gateway.process.poll() is None, "the gateway died"
            assert len(_still_open(held)) == CAP

            # Free a few slots to look: the worker is back with its model and serves.
            for sock in held[:4]:
                sock.close()
            with gateway.client() as client:

                def restored() -> bool:
                    worker = client.get("/api/workers/cpu").json()
                    return bool(worker["state"] == "ready" and worker["models"] == [MODEL])

                gateway.wait_for(restored, 60, "the worker back with its model")
                assert client.get("/api/workers/cpu").json()["restart_count"] == 1
                clip = (AUDIO / "kitchen_lights.wav").read_bytes()
                answer_ = client.post(
                    "/api/asr/transcribe",
                    params={"model_id": MODEL},
                    content=clip,
                    headers={"content-type": "audio/wav"},
                )
                assert answer_.status_code == 200, answer_.text
        finally:
            for sock in flood:
                sock.close()
        assert gateway.process.poll() is None
    log = log_path.read_text(errors="replace")
    assert "Assertion failed" not in log and "Too many open files" not in log
    assert "refusing connections" in log
