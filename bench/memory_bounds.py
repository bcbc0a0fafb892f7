"""Memory of one request, before and after the bounds of issue 13, in one run.

    .venv/bin/python -m bench.memory_bounds [--before /work/main] [--minutes 46]
                                            [--uploads 8] [--upload-mb 95] [--cap-mb 340]

Each scenario runs on a gateway from `--before` (another checkout: the code without the
bounds) and then from this checkout, and prints the peak RSS of the worker or the gateway
(psutil, every 5 ms) with the load average beside each figure:

1. a long WAV (`--minutes` of silence, 16 kHz mono: 46 min is 88 MB) transcribed: worker
   peak RSS (tiny.en, int8);
2. the same with the worker capped at `--cap-mb` (LX_WORKER_MEMORY_LIMIT_MB): its peak,
   the status, and whether the worker survived;
3. a FLAC of 60 minutes of silence (a few hundred kB) with LX_MAX_AUDIO_SECONDS=600 here:
   worker peak RSS, the status, seconds to the answer;
4. `--uploads` concurrent uploads of `--upload-mb` MB each: gateway peak RSS and statuses
   (LX_MAX_AUDIO_SECONDS=60 and a 600 MB worker cap, so the worker refuses them or ends
   early: the gateway's hold on the uploads is what is measured).
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from bench.harness import DEFAULT_ASR_MODEL, machine
from bench.source_gateway import HERE, Gateway, gateway_from, load_average
from tests.support.audio_formats import encode
from tests.support.peak_rss import PeakRss
from tests.support.wav_samples import silent_wav

TRANSCRIBE = f"/api/asr/transcribe?model_id={DEFAULT_ASR_MODEL}"


def post(gateway: Gateway, audio: bytes, content_type: str = "audio/wav") -> tuple[int, float]:
    started = time.perf_counter()
    with gateway.client() as client:
        try:
            answer = client.post(TRANSCRIBE, content=audio, headers={"content-type": content_type})
            status = answer.status_code
        except Exception:  # the worker died and the gateway with it, or the connection broke
            status = 0
    return status, time.perf_counter() - started


def long_file(source: Path, label: str, audio: bytes, **env: str) -> None:
    with gateway_from(source, DEFAULT_ASR_MODEL, **env) as gateway:
        before = gateway.worker()
        with PeakRss(before["pid"]) as rss:
            status, seconds = post(gateway, audio)
        time.sleep(1.5)  # a worker that passed its cap has exited by now
        survived = psutil.pid_exists(before["pid"]) and (
            psutil.Process(before["pid"]).status() != psutil.STATUS_ZOMBIE
        )
        print(
            f"  {label}: worker peak RSS {rss.peak_mb:.0f} MB (idle {rss.before_mb:.0f}), "
            f"status {status}, {seconds:.1f} s, worker survived: {survived}; {load_average()}"
        )


def uploads(source: Path, label: str, count: int, audio: bytes, **env: str) -> None:
    with gateway_from(source, DEFAULT_ASR_MODEL, **env) as gateway:
        with PeakRss(gateway.process.pid) as rss, ThreadPoolExecutor(count) as pool:
            results = list(pool.map(lambda _: post(gateway, audio), range(count)))
        statuses = sorted(status for status, _ in results)
        print(
            f"  {label}: gateway peak RSS {rss.peak_mb:.0f} MB (idle {rss.before_mb:.0f}), "
            f"statuses {statuses}; {load_average()}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, default=Path("/work/main"))
    parser.add_argument("--minutes", type=float, default=46)
    parser.add_argument("--uploads", type=int, default=8)
    parser.add_argument("--upload-mb", type=float, default=95)
    parser.add_argument("--cap-mb", type=int, default=340)
    parser.add_argument("--only", choices=("long", "cap", "bomb", "uploads"), action="append")
    args = parser.parse_args()
    sides = (("before", args.before), ("after", HERE))
    print(machine())
    only = set(args.only or ("long", "cap", "bomb", "uploads"))
    long_wav = silent_wav(args.minutes * 60)
    if "long" in only:
        print(f"1. one {args.minutes:g}-minute WAV ({len(long_wav) / 2**20:.0f} MB):")
        for label, source in sides:
            long_file(source, label, long_wav, LX_RESULT_CACHE_SIZE="0")
    if "cap" in only:
        print(f"2. the same, worker capped at {args.cap_mb} MB:")
        for label, source in sides:
            long_file(
                source,
                label,
                long_wav,
                LX_RESULT_CACHE_SIZE="0",
                LX_WORKER_MEMORY_LIMIT_MB=str(args.cap_mb),
            )
    if "bomb" in only:
        bomb = encode(silent_wav(3600), "flac")
        print(f"3. a {len(bomb) / 1024:.0f} kB FLAC of 60 min of silence:")
        for label, source in sides:
            env = {"LX_RESULT_CACHE_SIZE": "0", "LX_MAX_AUDIO_SECONDS": "600"}
            with gateway_from(source, DEFAULT_ASR_MODEL, **env) as gateway:
                with PeakRss(gateway.worker()["pid"]) as rss:
                    status, seconds = post(gateway, bomb, "audio/flac")
                print(
                    f"  {label}: worker peak RSS {rss.peak_mb:.0f} MB (idle "
                    f"{rss.before_mb:.0f}), status {status}, {seconds:.1f} s; {load_average()}"
                )
    if "uploads" in only:
        upload = silent_wav(args.upload_mb * 2**20 / 32_000)
        print(f"4. {args.uploads} concurrent uploads of {len(upload) / 2**20:.0f} MB:")
        for label, source in sides:
            uploads(
                source,
                label,
                args.uploads,
                upload,
                LX_RESULT_CACHE_SIZE="0",
                LX_MAX_AUDIO_SECONDS="60",
                # Before: a worker decoding several whole files at once would take GBs; the
                # cap ends it early. The upload held by the gateway is the same either way.
                LX_WORKER_MEMORY_LIMIT_MB="600",
            )


if __name__ == "__main__":
    main()
