"""Starting what a deploy file starts, on this machine: its paths moved under a test folder,
its ports onto free loopback ports, nothing else changed."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.gateway_process import GatewayProcess, stop_process

VENV_BIN = str(Path(sys.executable).parent)
# What every process gets besides its own variables; the one addition to what the files
# set is HF_HUB_OFFLINE (tests never download).
BASE_ENV = {"PATH": f"{VENV_BIN}:/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
OFFLINE = {"HF_HUB_OFFLINE": "1"}


class PathMap:
    """Paths as the deploy file names them -> where they are on this machine."""

    def __init__(self) -> None:
        self._map: dict[str, str] = {}

    def add(self, inside: str, outside: Path | str, make: bool = True) -> Path:
        if make:
            Path(outside).mkdir(parents=True, exist_ok=True)
        self._map[inside] = str(outside)
        return Path(outside)

    def rewrite(self, text: str) -> str:
        # One pass, longest first, so a rewritten path is never rewritten again.
        if not self._map:
            return text
        names = "|".join(re.escape(k) for k in sorted(self._map, key=len, reverse=True))
        pattern = rf"(?<![\w/.-])({names})(?![\w.-])"
        return re.sub(pattern, lambda m: self._map[m.group(1)], text)

    def rewrite_all(self, values: Mapping[str, str]) -> dict[str, str]:
        return {k: self.rewrite(v) for k, v in values.items()}


def free_tcp_endpoint() -> tuple[str, int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return f"tcp://127.0.0.1:{port}", port


@contextmanager
def started(
    argv: list[str], env: Mapping[str, str], cwd: str | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(argv, env=dict(env), cwd=cwd)
    try:
        yield process
    finally:
        stop_process(process)


def worker_state(gateway: GatewayProcess, worker_id: str) -> str | None:
    try:
        workers = gateway.workers()
    except httpx.HTTPError:
        return None
    return next((w["state"] for w in workers if w["worker_id"] == worker_id), None)


def wait_worker_ready(
    gateway: GatewayProcess,
    worker_id: str,
    worker: subprocess.Popen[bytes],
    timeout_s: float = 90.0,
) -> None:
    def ready() -> bool:
        code = worker.poll()
        assert code is None, f"worker {worker_id} exited with {code} before it was ready"
        return worker_state(gateway, worker_id) in ("ready", "busy")

    gateway.wait_for(ready, timeout_s, f"worker {worker_id} ready at the gateway")


def run_check(command: list[str], env: Mapping[str, str]) -> int:
    """A healthcheck command, run the way the container engine runs it: its exit code."""
    return subprocess.run(command, env=dict(env), timeout=30, check=False).returncode
