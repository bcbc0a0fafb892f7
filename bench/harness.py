"""What the ASR overhead and control plane benchmarks share: machine info, summaries of
repeated timings, a real gateway with its model loaded, and a bounded concurrent load loop."""

from __future__ import annotations

import asyncio
import math
import os
import platform
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.gateway_process import GatewayProcess, running_gateway

DEFAULT_ASR_MODEL = "openai/whisper-tiny.en"  # the bundled one: no download


def usable_cores() -> int:
    return len(os.sched_getaffinity(0))


def machine() -> str:
    """CPU model (from /proc/cpuinfo), usable cores, load average and Python version."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{cpu}; {usable_cores()} usable cores (of {os.cpu_count()}); load average {load}; "
        f"Python {platform.python_version()}"
    )


@dataclass(frozen=True)
class Spread:
    """The median of repeated measurements, and their smallest and largest."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))

    def show(self, digits: int = 0, unit: str = "") -> str:
        return f"{self.median:.{digits}f}{unit} ({self.low:.{digits}f}-{self.high:.{digits}f})"


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


# ---------------------------------------------------------------- a real gateway


@contextmanager
def gateway_with_model(
    state_dir: Path, model_id: str, threads: int, **env: str
) -> Iterator[GatewayProcess]:
    """`python -m gateway` with one CPU worker (`threads` per model), `model_id` loaded."""
    settings = {"LX_WORKER_CPU_THREADS": str(threads), "LX_LOG_LEVEL": "WARNING", **env}
    with running_gateway(state_dir, **settings) as gateway:
        with gateway.client() as client:
            load_model(client, model_id)
        yield gateway


def load_model(client: httpx.Client, model_id: str, timeout_s: float = 120.0) -> None:
    """Ask for a load and wait for it: a load already done answers 200 `loaded`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = client.post(f"/api/models/{model_id}/load")
        if response.status_code == 200:
            return
        if response.status_code != 202:
            raise RuntimeError(f"loading {model_id}: {response.status_code} {response.text}")
        time.sleep(0.2)
    raise TimeoutError(f"{model_id} did not load within {timeout_s} s")


# ---------------------------------------------------------------- concurrent load


@dataclass(frozen=True)
class LoadRun:
    latencies_ms: list[float]
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


async def under_load(
    call: Callable[[], Awaitable[None]], concurrency: int, requests: int, max_seconds: float
) -> LoadRun:
    """`requests` calls from `concurrency` tasks, each waiting for its answer before the next;
    stops early (with what it has) once `max_seconds` have passed."""
    latencies: list[float] = []
    issued = 0
    started = time.perf_counter()
    deadline = started + max_seconds

    async def client() -> None:
        nonlocal issued
        while issued < requests and time.perf_counter() < deadline:
            issued += 1
            begun = time.perf_counter()
            await call()
            latencies.append((time.perf_counter() - begun) * 1000)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    if not latencies:
        raise RuntimeError("no request finished")
    return LoadRun(latencies, seconds)
