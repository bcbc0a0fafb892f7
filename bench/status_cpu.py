"""Server CPU per request of gateway routes against a bare Starlette route, loaded by `hey`.

    .venv/bin/python -m bench.status_cpu [--requests 10000] [--concurrency 16] [--rounds 3]
                                         [--path /api/models/status ...] [--threads N]

`hey` (Debian package `hey`: `apt-get install -y hey`) sends `--requests` GETs from
`--concurrency` connections to each target in turn; the CPU time (user + system, from
`/proc/<pid>/stat`) of the process that answers, before and after, divided by the requests,
is its CPU per request. Targets: a bare Starlette route (a fixed 15-byte JSON body) served
by the gateway's own uvicorn setup in a process of its own, and each `--path` of a real
gateway (`python -m gateway`, one CPU worker, the bundled tiny.en loaded; its worker is
another process, so only the gateway's own CPU counts). Rounds rotate the order; the table
gives the median over rounds (min-max) and each path's ratio to the bare route.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.harness import DEFAULT_ASR_MODEL, gateway_with_model, machine, usable_cores
from tests.support.gateway_process import free_port

_BARE_BODY = b'{"status":"ok"}'
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def serve_bare(port: int) -> None:
    """One route, a fixed body, the gateway's uvicorn configuration."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from gateway.http.server import serve
    from gateway.settings import Settings

    async def ping(request: Request) -> Response:
        return Response(_BARE_BODY, media_type="application/json")

    serve(Starlette(routes=[Route("/ping", ping)]), Settings(port=port, shutdown_timeout_s=5.0))


@contextlib.contextmanager
def bare_server() -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [sys.executable, "-m", "bench.status_cpu", "--serve-bare", str(port)]
    process = subprocess.Popen(command)
    url = f"http://127.0.0.1:{port}/ping"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=1.0).status_code == 200:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the bare server did not start")
            time.sleep(0.05)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system time of one process (all its threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, field 3 on
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND


@dataclass
class Target:
    name: str
    url: str
    pid: int
    cpu_us: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)


def hey(url: str, requests: int, concurrency: int) -> float:
    """Run hey once; returns its requests per second; fails unless every answer was 200.
    (`requests` is a multiple of `concurrency`: hey sends requests // concurrency per
    connection.)"""
    command = ["hey", "-n", str(requests), "-c", str(concurrency), url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    codes = dict(re.findall(r"\[(\d+)\]\s+(\d+) responses", out))
    if codes != {"200": str(requests)}:
        raise RuntimeError(f"{url}: answers by status {codes}, expected {requests} x 200\n{out}")
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(rate.group(1)) if rate else 0.0


def measure(targets: list[Target], args: argparse.Namespace) -> None:
    for target in targets:  # warm-up: connections, first-call costs
        hey(target.url, args.warmup, args.concurrency)
    for round_ in range(args.rounds):
        shift = round_ % len(targets)
        for target in targets[shift:] + targets[:shift]:
            before = cpu_seconds(target.pid)
            target.rates.append(hey(target.url, args.requests, args.concurrency))
            target.cpu_us.append((cpu_seconds(target.pid) - before) * 1e6 / args.requests)
        print(f"  round {round_ + 1}/{args.rounds} done", flush=True)


def _spread(values: list[float], digits: int = 0) -> str:
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}-{max(values):.{digits}f})"
    )


def report(targets: list[Target]) -> None:
    bare = targets[0]
    print(f"\n{'target':<34}{'server CPU us/request':<26}{'requests/s':<22}ratio to bare")
    for target in targets:
        ratio = statistics.median(target.cpu_us) / statistics.median(bare.cpu_us)
        print(
            f"{target.name:<34}{_spread(target.cpu_us):<26}{_spread(target.rates):<22}x{ratio:.2f}"
        )
    print("CPU: user+system time of the answering process over each round, per request")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.status_cpu",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--requests", type=int, default=10000, help="per target and round")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=500, help="requests per target, untimed")
    parser.add_argument("--path", action="append", help="gateway routes to measure (GET)")
    parser.add_argument("--threads", type=int, default=usable_cores(), help="workers' cpu_threads")
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    if shutil.which("hey") is None:
        parser.error("needs `hey` on PATH (Debian: apt-get install -y hey)")
    if min(args.requests, args.concurrency, args.rounds, args.warmup) < 1:
        parser.error("--requests, --concurrency, --rounds and --warmup must be at least 1")
    # hey sends requests // concurrency on each connection.
    args.requests = max(args.requests // args.concurrency, 1) * args.concurrency
    args.warmup = max(args.warmup // args.concurrency, 1) * args.concurrency
    paths = args.path or ["/api/models/status"]
    print(f"machine: {machine()}")
    print(
        f"hey: {args.requests} requests per target and round, concurrency {args.concurrency}, "
        f"{args.rounds} rounds (order rotated)",
        flush=True,
    )
    with (
        tempfile.TemporaryDirectory(prefix="lx-bench-") as folder,
        bare_server() as (bare_url, bare_pid),
        gateway_with_model(Path(folder) / "state", DEFAULT_ASR_MODEL, args.threads) as gateway,
    ):
        pid = gateway.process.pid
        targets = [Target("bare Starlette route", bare_url, bare_pid)]
        targets += [Target(f"GET {path}", f"{gateway.base_url}{path}", pid) for path in paths]
        measure(targets, args)
    report(targets)


if __name__ == "__main__":
    main()
