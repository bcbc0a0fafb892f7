"""Control plane benchmark: latency, throughput and server CPU of the status route and of
one gateway -> worker round trip, under concurrency, against a bare-route baseline.

    .venv/bin/python -m bench.control_plane [--concurrency 16] [--requests 2000] [--rounds 3]

The HTTP load comes from a real load generator, `hey` (Debian: `apt-get install -y hey`),
run with `-c --concurrency -n --requests -o csv`, so the client is neither this process nor
Python. Three targets:

- baseline: a bare Starlette route (a fixed small JSON body) served by the gateway's own
  uvicorn setup (gateway/http/server.py) in a process of its own;
- `GET /api/models/status` of a real gateway (`python -m gateway`, one CPU worker, the
  bundled tiny.en loaded);
- the raw gateway -> worker round trip: the gateway's `WorkerLink` in this process, bound to
  a temporary ipc:// endpoint, with a real `python -m worker` (tiny.en loaded) answering
  StatusRequest with StatusReply (`--concurrency` asyncio tasks; no HTTP).

Rounds rotate the order of the targets. For each target: the median over rounds of p50,
p99 and requests per second (the rounds' min-max), and CPU time per request (user +
system, from /proc/<pid>/stat through psutil, before and after each round) of the process
that answers and, for the gateway, of its worker as well; the load average at each round.
The ratio that matters is the status route's server CPU per request over the baseline's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import os
import shutil
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
    # One round of `requests` from `concurrency` clients: hey for a URL, else this call.
    url: str | None
    call: Call | None
    server_pid: int  # the process that answers: its CPU time per request is reported
    runs: list[LoadRun] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)  # server CPU per request, per round
    helper_cpu_us: list[float] = field(default_factory=list)  # its children's (the worker)
    loads: list[float] = field(default_factory=list)  # 1-minute load average after each round

    async def round(self, concurrency: int, requests: int, max_seconds: float) -> LoadRun:
        if self.url is not None:
            return await hey(self.url, concurrency, requests, max_seconds)
        assert self.call is not None
        return await under_load(self.call, concurrency, requests, max_seconds)

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
    from gateway.settings import Settings

    async def ping(request: Request) -> Response:
        return Response(_TRIVIAL_BODY, media_type="application/json")

    serve(Starlette(routes=[Route("/ping", ping)]), Settings(port=port, shutdown_timeout_s=5.0))


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


async def hey(url: str, concurrency: int, requests: int, max_seconds: float) -> LoadRun:
    """One `hey` run: every request's latency (its CSV output) and the run's wall time."""
    command = ["hey", "-n", str(requests), "-c", str(concurrency), "-o", "csv"]
    process = await asyncio.create_subprocess_exec(
        *command, url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), max_seconds + 30)
    except TimeoutError:
        process.kill()
        raise
    rows = list(csv.DictReader(io.StringIO(out.decode())))
    failed = [row for row in rows if row["status-code"] != "200"]
    if process.returncode != 0 or not rows or failed:
        raise RuntimeError(f"hey {url}: rc {process.returncode}, {len(failed)} failed, {err!r}")
    latencies = [float(row["response-time"]) * 1000 for row in rows]
    seconds = max(float(row["offset"]) + float(row["response-time"]) for row in rows)
    return LoadRun(latencies, seconds)


# ---------------------------------------------------------------- run and report


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def children_cpu_seconds(pid: int) -> float:
    """Of the processes a server started (a gateway's workers), user + system."""
    return sum(cpu_seconds(child.pid) for child in psutil.Process(pid).children(recursive=True))


async def measure(
    trivial: tuple[str, int], gateway: tuple[str, int], folder: Path, args: argparse.Namespace
) -> list[Target]:
    async with (
        httpx.AsyncClient(base_url=gateway[0], timeout=30.0) as service,
        raw_worker(folder, args.threads) as (link, worker_pid),
    ):
        status_bytes = len((await service.get("/api/models/status")).content)
        targets = [
            Target(
                f"bare route, HTTP ({len(_TRIVIAL_BODY)} B)",
                f"{trivial[0]}/ping",
                None,
                trivial[1],
            ),
            Target(
                f"GET /api/models/status, HTTP ({status_bytes} B)",
                f"{gateway[0]}/api/models/status",
                None,
                gateway[1],
            ),
            Target("StatusRequest round trip, ZeroMQ", None, status_round_trip(link), worker_pid),
        ]
        for target in targets:  # warm-up: connections, first-call costs
            await target.round(args.concurrency, args.warmup, args.max_seconds)
        for round_ in range(args.rounds):
            shift = round_ % len(targets)
            for target in targets[shift:] + targets[:shift]:
                server_before = cpu_seconds(target.server_pid)
                helpers_before = children_cpu_seconds(target.server_pid)
                run = await target.round(args.concurrency, args.requests, args.max_seconds)
                per_request = 1e6 / len(run.latencies_ms)
                target.runs.append(run)
                server = cpu_seconds(target.server_pid) - server_before
                helpers = children_cpu_seconds(target.server_pid) - helpers_before
                target.cpu_us.append(server * per_request)
                target.helper_cpu_us.append(helpers * per_request)
                target.loads.append(os.getloadavg()[0])
                print(
                    f"  round {round_ + 1}: {target.name}: {run.rate:.0f}/s, "
                    f"server {server * per_request:.0f} us/request, "
                    f"load average {target.loads[-1]:.2f}",
                    flush=True,
                )
    return targets


def report(targets: list[Target], requests: int, concurrency: int) -> None:
    print()
    print(
        "| target | p50 ms | p99 ms | requests/s | server CPU us/request "
        "| its worker's CPU us/request | load average |"
    )
    print("|---|---|---|---|---|---|---|")
    for target in targets:
        # hey sends n / c requests from each of its c clients.
        expected = requests - requests % concurrency if target.url else requests
        short = [len(run.latencies_ms) for run in target.runs if len(run.latencies_ms) < expected]
        print(
            f"| {target.name} | {target.spread(lambda r: r.p(50)).show(2)} "
            f"| {target.spread(lambda r: r.p(99)).show(2)} "
            f"| {target.spread(lambda r: r.rate).show(0)} "
            f"| {Spread.of(target.cpu_us).show(0)} | {Spread.of(target.helper_cpu_us).show(0)} "
            f"| {Spread.of(target.loads).show(2)} |"
            + (f" (time limit: only {short} requests)" if short else "")
        )
    baseline, status, _ = targets

    def ratio(figure: Callable[[LoadRun], float]) -> float:
        return status.spread(figure).median / baseline.spread(figure).median

    cpu = Spread.of(status.cpu_us).median / Spread.of(baseline.cpu_us).median
    with_worker = (
        Spread.of([a + b for a, b in zip(status.cpu_us, status.helper_cpu_us, strict=True)]).median
        / Spread.of(baseline.cpu_us).median
    )
    print(
        f"status route / bare route: p50 x{ratio(lambda r: r.p(50)):.2f}, "
        f"p99 x{ratio(lambda r: r.p(99)):.2f}, requests/s x{ratio(lambda r: r.rate):.2f}, "
        f"server CPU per request x{cpu:.2f} (x{with_worker:.2f} with its worker's)"
    )
    print(
        "CPU: user+system time over the round, per request, of the answering process (bare "
        "server, gateway, raw worker) and of the gateway's worker; the client is hey (HTTP) "
        "or this process (the ZeroMQ round trip)"
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
    if shutil.which("hey") is None:
        parser.error("needs the load generator hey: apt-get install -y hey")

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
    report(targets, args.requests, args.concurrency)


if __name__ == "__main__":
    main()
