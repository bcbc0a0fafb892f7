"""A real gateway process (uvicorn + its workers) on a free loopback port, for tests."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
from websockets.sync.client import ClientConnection, connect


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class GatewayProcess:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60.0)

    def events(self, sid: str | None = None) -> ClientConnection:
        query = f"?sid={sid}" if sid else ""
        return connect(f"ws://127.0.0.1:{self.port}/ws{query}", open_timeout=10)

    def workers(self) -> list[dict[str, Any]]:
        with self.client() as client:
            workers: list[dict[str, Any]] = client.get("/healthz").json()["workers"]
            return workers

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float, what: str) -> float:
        """Poll until `predicate` holds; returns the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if predicate():
                return time.monotonic() - started
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")

    def wait_listening(self, timeout_s: float = 60.0) -> None:
        """Until the HTTP server answers (its workers may not be up)."""

        def answers() -> bool:
            try:
                with self.client() as client:
                    client.get("/healthz")
            except httpx.HTTPError:
                return False
            return True

        self.wait_for(answers, timeout_s, "the gateway to listen")

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        def ready() -> bool:
            try:
                workers = self.workers()
            except httpx.HTTPError:
                return False
            return bool(workers) and all(w["state"] in ("ready", "busy") for w in workers)

        self.wait_for(ready, timeout_s, "the gateway and its workers")


def next_event(ws: ClientConnection, types: set[str], timeout_s: float = 30.0) -> dict[str, Any]:
    """The next event whose type is in `types`, skipping the others."""
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"no event of {sorted(types)} within {timeout_s} s")
        event: dict[str, Any] = json.loads(ws.recv(timeout=remaining))
        if event["t"] in types:
            return event


def stop_process(process: subprocess.Popen[bytes], grace_s: float = 15.0) -> None:
    """SIGTERM (the gateway drains and stops its workers), then SIGKILL past the grace."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_gateway(state_dir: Path, **env: str) -> Iterator[GatewayProcess]:
    """`python -m gateway` with `env` over the test defaults."""
    with gateway_process(state_dir, env) as gateway:
        yield gateway


@contextmanager
def running_pinned_gateway(state_dir: Path, cpus: set[int], **env: str) -> Iterator[GatewayProcess]:
    """The same, pinned to `cpus`: its workers inherit the affinity and plan their decoding
    from the cores it leaves them."""
    with gateway_process(state_dir, env, cpus=cpus) as gateway:
        yield gateway


@contextmanager
def gateway_process(
    state_dir: Path,
    env: Mapping[str, str],
    *,
    stderr: IO[bytes] | None = None,
    wait_workers: bool = True,
    cpus: set[int] | None = None,
    nofile: int | None = None,
) -> Iterator[GatewayProcess]:
    """As running_gateway; `stderr`: where its log lines (and its workers') go;
    `wait_workers=False` returns once it listens, ready workers or not; `cpus`: pinned;
    `nofile`: its file descriptor limit, soft and hard (as `ulimit -n` sets it)."""
    port = free_port()
    environment = {
        **os.environ,
        "LX_HOST": "127.0.0.1",
        "LX_PORT": str(port),
        "LX_STATE_DIR": str(state_dir),
        "LX_WORKER_DEVICES": "cpu",
        "LX_WORKER_CPU_THREADS": "2",
        "HF_HUB_OFFLINE": "1",
        "LX_LOG_LEVEL": "WARNING",
        **env,
    }

    def before_exec() -> None:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    process = subprocess.Popen(
        [sys.executable, "-m", "gateway"], env=environment, stderr=stderr, preexec_fn=before_exec
    )
    gateway = GatewayProcess(process, port)
    try:
        if wait_workers:
            gateway.wait_ready()
        else:
            gateway.wait_listening()
        yield gateway
    finally:
        stop_process(process)
