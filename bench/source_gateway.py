"""A real gateway started from a chosen source tree (this checkout, or another such as the
main branch's worktree, for a "before" figure taken in the same run), its pids, its
resident memory sampled while something runs, and the load average beside each figure."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.harness import load_model
from tests.support.gateway_process import free_port, stop_process

HERE = Path(__file__).resolve().parent.parent
_MB = 1024 * 1024


def load_average() -> str:
    """`uptime`'s load average (1, 5, 15 min)."""
    return "load " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Gateway:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, timeout_s: float = 600.0) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=timeout_s)

    def worker(self) -> dict[str, Any]:
        with self.client() as client:
            (found,) = client.get("/api/workers").json()["workers"]
        summary: dict[str, Any] = found
        return summary


@contextmanager
def gateway_from(source: Path, model_id: str, **env: str) -> Iterator[Gateway]:
    """`python -m gateway` run from `source` with one CPU worker and `model_id` loaded."""
    port = free_port()
    with tempfile.TemporaryDirectory() as state:
        environment = {
            **os.environ,
            "PYTHONPATH": str(source),
            "LX_HOST": "127.0.0.1",
            "LX_PORT": str(port),
            "LX_STATE_DIR": state,
            "LX_WORKER_DEVICES": "cpu",
            "LX_LOG_LEVEL": "WARNING",
            "HF_HUB_OFFLINE": "1",
            **env,
        }
        process = subprocess.Popen([sys.executable, "-m", "gateway"], cwd=source, env=environment)
        gateway = Gateway(process, port)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with gateway.client(5) as client:
                        load_model(client, model_id)
                    break
                except (httpx.HTTPError, RuntimeError):
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.5)
            yield gateway
        finally:
            stop_process(process)
