"""Real gateways and workers for the supervision tests: short timeouts, logs kept, no orphans."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
from websockets.sync.client import ClientConnection

from tests.support.gateway_process import GatewayProcess, free_port, stop_process

MODEL = "openai/whisper-tiny.en"
AUDIO = Path(__file__).parent.parent / "fixtures" / "audio"
REFERENCES: dict[str, str] = json.loads((AUDIO / "references.json").read_text())

# Fast liveness: a heartbeat every 100 ms, hung after 1.5 s of silence; quick restarts.
FAST = {
    "LX_WORKER_HEARTBEAT_INTERVAL_MS": "100",
    "LX_WORKER_HEARTBEAT_TIMEOUT_MS": "1500",
    "LX_WORKER_RESTART_BACKOFF_MS": "50",
    "LX_WORKER_RESTART_BACKOFF_MAX_MS": "200",
    # Every request must reach a worker: no cached results.
    "LX_RESULT_CACHE_SIZE": "0",
}


@dataclass
class Gateway(GatewayProcess):
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker(self, worker_id: str) -> dict[str, Any]:
        with self.client() as client:
            answer = client.get(f"/api/workers/{worker_id}")
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def state_of(self, worker_id: str) -> str:
        state: str = self.worker(worker_id)["state"]
        return state

    def wait_state(self, worker_id: str, states: set[str], timeout_s: float = 10.0) -> float:
        return self.wait_for(
            lambda: self.state_of(worker_id) in states, timeout_s, f"{worker_id} in {states}"
        )

    def transcribe(self, name: str = "kitchen_lights.wav", model: str = MODEL) -> httpx.Response:
        with self.client() as client:
            return client.post(
                "/api/asr/transcribe",
                params={"model_id": model},
                content=(AUDIO / name).read_bytes(),
                headers={"content-type": "audio/wav"},
            )

    def load(self, model: str = MODEL, **body: Any) -> httpx.Response:
        with self.client() as client:
            return client.post(f"/api/models/{model}/load", json=body)

    def model_status(self, model: str = MODEL) -> str:
        with self.client() as client:
            body = client.get("/api/models/status").json()
        (found,) = [m for m in body["asr_models"] if m["model_id"] == model]
        status: str = found["status"]
        return status

    def worker_pids(self) -> list[int]:
        """Every worker process this gateway started (its children running `-m worker`)."""
        try:
            children = psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []
        return [c.pid for c in children if "worker" in " ".join(c.cmdline())]


def collect(
    ws: ClientConnection, until: Callable[[dict[str, Any]], bool], timeout_s: float
) -> list[dict[str, Any]]:
    """Events up to and including the first for which `until` holds."""
    deadline = time.monotonic() + timeout_s
    seen: list[dict[str, Any]] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(
                f"condition not met in {timeout_s} s; saw {[e['t'] for e in seen]}"
            )
        try:
            event: dict[str, Any] = json.loads(ws.recv(timeout=remaining))
        except TimeoutError:
            raise AssertionError(
                f"condition not met in {timeout_s} s; saw {[e['t'] for e in seen]}"
            ) from None
        seen.append(event)
        if until(event):
            return seen


def is_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def gateway_running(
    tmp_path: Path, ready: Callable[[Gateway], bool] | None = None, **env: str
) -> Iterator[Gateway]:
    """A gateway with FAST liveness; `ready` says when it is up (default: all workers ready)."""
    port = free_port()
    log_path = tmp_path / f"gateway-{port}.log"
    environment = {
        **os.environ,
        "LX_HOST": "127.0.0.1",
        "LX_PORT": str(port),
        "LX_STATE_DIR": str(tmp_path / "state"),
        "LX_WORKER_DEVICES": "cpu",
        "LX_WORKER_CPU_THREADS": "2",
        "HF_HUB_OFFLINE": "1",
        "LX_LOG_LEVEL": "WARNING",
        **FAST,
        **env,
    }
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway"], env=environment, stderr=log_file
        )
    gateway = Gateway(process, port, log_path)
    seen_pids: set[int] = set()
    try:
        if ready is None:
            gateway.wait_ready(30)
        else:
            gateway.wait_for(lambda: _answers(gateway) and ready(gateway), 30, "the gateway")
        yield gateway
    finally:
        seen_pids.update(gateway.worker_pids())
        stop_process(process)
        for pid in seen_pids:  # never leave a worker behind, whatever the test did
            _kill_quietly(pid)


def _answers(gateway: Gateway) -> bool:
    try:
        with gateway.client() as client:
            return client.get("/healthz").status_code == 200
    except httpx.HTTPError:
        return False


def start_worker(*args: str, log_path: Path | None = None, **env: str) -> subprocess.Popen[bytes]:
    """A worker started by hand (a remote one), its log in `log_path`."""
    command = [sys.executable, "-m", "worker", "--heartbeat-interval", "0.1", *args]
    command += ["--cpu-threads", "2"]
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "LX_LOG_LEVEL": "INFO", **env}
    if log_path is None:
        return subprocess.Popen(command, env=environment)
    with log_path.open("wb") as log_file:
        return subprocess.Popen(command, stderr=log_file, env=environment)


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGCONT)
    process.kill()
    process.wait()
