"""Control plane benchmark: latency and throughput of the status route and of one
gateway -> worker round trip, under concurrency, against a trivial-route baseline.

    .venv/bin/python -m bench.control_plane [--concurrency 16] [--requests 2000] [--rounds 3]

Three targets, each hit by `--concurrency` tasks sharing `--requests` requests per round
(each task waits for its answer before sending the next):

- baseline: one httpx.AsyncClient against a trivial Starlette route (a fixed small JSON body)
  served by the gateway's own uvicorn setup in a separate process;
- `GET /api/models/status` of a real gateway (`python -m gateway`, one CPU worker, the
  bundled tiny.en loaded), through the same kind of client;
- the raw gateway -> worker round trip: the gateway's `WorkerLink` in this process, bound to
  a temporary ipc:// endpoint, with a real `python -m worker` (tiny.en loaded) answering
  StatusRequest with StatusReply.

Rounds rotate the order of the targets; the table shows the median over rounds of each
round's p50, p99 and requests per second, with the rounds' min-max.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bench.harness import (
    DEFAULT_ASR_MODEL,
    LoadRun,
    Spread,
    gateway_with_model,
    machine,
    under_load,
    usable_cores,
)
from gateway.workers.link import WorkerLink
from protocol.wire.messages import (
    Hello,
    LoadModel,
    ModelSource,
    StatusReply,
    StatusRequest,
    WorkerMessage,
)
from tests.support.gateway_process import free_port

_WORKER_ID = "bench-cpu"
_TRIVIAL_BODY = b'{"status":"ok"}'

Call = Callable[[], Awaitable[None]]


@dataclass
class Target:
    name: str
    call: Call
    server_pid: int  # the process that answers: its CPU time per request is reported
    runs: list[LoadRun] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)  # server CPU per request, per round
    client_cpu_us: list[float] = field(default_factory=list)  # this process's, likewise

    def spread(self, figure: Callable[[LoadRun], float]) -> Spread:
        return Spread.of([figure(run) for run in self.runs])


# ---------------------------------------------------------------- the baseline server


def serve_trivial(port: int) -> None:
    """The baseline app: one route, a fixed body, the gateway's uvicorn configuration."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from gateway.http.server import serve

    async def ping(request: Request) -> Response:
        return Response(_TRIVIAL_BODY, media_type="application/json")

    serve(Starlette(routes=[Route("/ping", ping)]), "127.0.0.1", port, 5.0)


@contextlib.contextmanager
def trivial_server() -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [sys.executable, "-m", "bench.control_plane", "--serve-trivial", str(port)]
    process = subprocess.Popen(command)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base_url}/ping", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the baseline server did not start")
            time.sleep(0.05)
        yield base_url, process.pid
    finally:
        _end(process)


def _end(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ---------------------------------------------------------------- the raw worker link


@contextlib.asynccontextmanager
async def raw_worker(folder: Path, threads: int) -> AsyncIterator[tuple[WorkerLink, int]]:
    """The gateway's WorkerLink in this process and a real worker connected to it."""
    hello = asyncio.Event()

    def on_message(worker_id: str, message: WorkerMessage) -> None:
        if isinstance(message, Hello):
            hello.set()

    link = WorkerLink(f"ipc://{folder}/bench-workers.sock", on_message)
    link.start()
    command = [sys.executable, "-m", "worker", "--device", "cpu", "--id", _WORKER_ID]
    command += ["--connect", link.endpoint, "--parent-pid", str(os.getpid())]
    command += ["--cpu-threads", str(threads)]
    process = await asyncio.create_subprocess_exec(
        *command, env={**os.environ, "LX_LOG_LEVEL": "WARNING"}
    )
    try:
        await asyncio.wait_for(hello.wait(), 60)
        request_id = link.new_request_id()
        load = LoadModel(
            request_id=request_id,
            model_id=DEFAULT_ASR_MODEL,
            kind="asr",
            source=ModelSource(bundled=True),
            compute_type="int8",
            cpu_threads=threads,
        )
        await asyncio.wait_for(link.request(_WORKER_ID, load, request_id=request_id), 120)
        yield link, process.pid
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
        await link.close()


def status_round_trip(link: WorkerLink) -> Call:
    async def call() -> None:
        request_id = link.new_request_id()
        message = StatusRequest(request_id=request_id)
        reply = await link.request(_WORKER_ID, message, request_id=request_id)
        if not isinstance(reply, StatusReply):
            raise RuntimeError(f"the worker answered {reply!r}")

    return call


def http_get(client: httpx.AsyncClient, path: str) -> Call:
    async def call() -> None:
        response = await client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:200]}")

    return call


# ---------------------------------------------------------------- run and report


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


async def measure(
    trivial: tuple[str, int], gateway: tuple[str, int], folder: Path, args: argparse.Namespace
) -> list[Target]:
    limits = httpx.Limits(
        max_connections=args.concurrency, max_keepalive_connections=args.concurrency
    )
    async with (
        httpx.AsyncClient(base_url=trivial[0], limits=limits, timeout=30.0) as baseline,
        httpx.AsyncClient(base_url=gateway[0], limits=limits, timeout=30.0) as service,
        raw_worker(folder, args.threads) as (link, worker_pid),
    ):
        status_bytes = len((await service.get("/api/models/status")).content)
        targets = [
            Target(
                f"trivial route, HTTP ({len(_TRIVIAL_BODY)} B)",
                http_get(baseline, "/ping"),
                trivial[1],
            ),
            Target(
                f"GET /api/models/status, HTTP ({status_bytes} B)",
                http_get(service, "/api/models/status"),
                gateway[1],
            ),
            Target("StatusRequest round trip, ZeroMQ", status_round_trip(link), worker_pid),
        ]
        for target in targets:  # warm-up: connections, first-call costs
            await under_load(target.call, args.concurrency, args.warmup, args.max_seconds)
        for round_ in range(args.rounds):
            shift = round_ % len(targets)
            for target in targets[shift:] + targets[:shift]:
                server_before = cpu_seconds(target.server_pid)
                client_before = cpu_seconds(os.getpid())
                run = await under_load(
                    target.call, args.concurrency, args.requests, args.max_seconds
                )
                per_request = 1e6 / len(run.latencies_ms)
                target.runs.append(run)
                server = cpu_seconds(target.server_pid) - server_before
                client = cpu_seconds(os.getpid()) - client_before
                target.cpu_us.append(server * per_request)
                target.client_cpu_us.append(client * per_request)
            print(f"  round {round_ + 1}/{args.rounds} done", flush=True)
    return targets


def report(targets: list[Target], requests: int) -> None:
    print()
    print(
        f"{'target':<42}{'p50 ms':<22}{'p99 ms':<24}{'requests/s':<20}"
        f"{'CPU us/request: server':<24}client"
    )
    for target in targets:
        short = [len(run.latencies_ms) for run in target.runs if len(run.latencies_ms) < requests]
        print(
            f"{target.name:<42}{target.spread(lambda r: r.p(50)).show(2):<22}"
            f"{target.spread(lambda r: r.p(99)).show(2):<24}"
            f"{target.spread(lambda r: r.rate).show(0):<20}"
            f"{Spread.of(target.cpu_us).show(0):<24}{Spread.of(target.client_cpu_us).show(0)}"
            + (f"  (time limit: only {short} requests)" if short else "")
        )
    baseline, status, _ = targets

    def ratio(figure: Callable[[LoadRun], float]) -> float:
        return status.spread(figure).median / baseline.spread(figure).median

    cpu = Spread.of(status.cpu_us).median / Spread.of(baseline.cpu_us).median
    print(
        f"status route / trivial route: p50 x{ratio(lambda r: r.p(50)):.2f}, "
        f"p99 x{ratio(lambda r: r.p(99)):.2f}, requests/s x{ratio(lambda r: r.rate):.2f}, "
        f"server CPU per request x{cpu:.2f}"
    )
    print(
        "CPU: user+system time over the round, per request, of the answering process (server: "
        "baseline server, gateway without its worker, raw worker) and of this one (client: "
        "httpx, or the WorkerLink for the round trip)"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.control_plane",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=2000, help="per target and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=200, help="requests per target, untimed")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="per target and round")
    parser.add_argument("--threads", type=int, default=usable_cores(), help="workers' cpu_threads")
    parser.add_argument("--serve-trivial", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_trivial:
        serve_trivial(args.serve_trivial)
        return
    if min(args.concurrency, args.requests, args.rounds, args.threads) < 1:
        parser.error("--concurrency, --requests, --rounds and --threads must be at least 1")

    print(f"machine: {machine()}")
    print(
        f"concurrency {args.concurrency}; {args.requests} requests per target and round; "
        f"{args.rounds} rounds (order rotated); {args.warmup} warm-up requests per target",
        flush=True,
    )
    with (
        tempfile.TemporaryDirectory(prefix="lx-bench-") as folder,
        trivial_server() as trivial,
        gateway_with_model(Path(folder) / "state", DEFAULT_ASR_MODEL, args.threads) as gateway,
    ):
        service = (gateway.base_url, gateway.process.pid)
        targets = asyncio.run(measure(trivial, service, Path(folder), args))
    report(targets, args.requests)


if __name__ == "__main__":
    main()
