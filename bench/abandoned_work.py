"""Clients that hang up mid transcription, before and after issue 13's cancellation, in one run.

    .venv/bin/python -m bench.abandoned_work [--before /work/main] [--clients 20]
                                             [--hang-up-after 1.0] [--long-copies 8]

On a gateway from `--before` (the code without cancellation) and then from this checkout
(result cache off): the median latency of a short clip on the idle service (3 runs); then
`--clients` clients each send `long_story.wav` repeated `--long-copies` times (8: 5 min)
and hang up `--hang-up-after` seconds later; then the latency of the next short clip, and
how long until the worker's heartbeat shows nothing running or queued. The load average is
printed beside each figure.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bench.harness import DEFAULT_ASR_MODEL, machine
from bench.source_gateway import HERE, Gateway, gateway_from, load_average
from tests.support.audio import LONG_CLIP, clip_path, short_clips
from tests.support.wav_samples import repeated_wav

TRANSCRIBE = f"/api/asr/transcribe?model_id={DEFAULT_ASR_MODEL}"


def short_clip(gateway: Gateway) -> float:
    audio = clip_path(short_clips()[0]).read_bytes()
    started = time.perf_counter()
    with gateway.client() as client:
        answer = client.post(TRANSCRIBE, content=audio, headers={"content-type": "audio/wav"})
    answer.raise_for_status()
    return time.perf_counter() - started


def work_left(gateway: Gateway) -> float:
    with gateway.client() as client:
        workers = client.get("/api/workers").json()["workers"]
        text = client.get("/metrics").text
    queued = sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "loquilex_queue_depth"
    )
    return sum(float(w.get("in_flight", 0)) for w in workers) + queued


def hang_ups(gateway: Gateway, audio: bytes, clients: int, after_s: float) -> None:
    head = (
        f"POST {TRANSCRIBE} HTTP/1.1\r\nHost: 127.0.0.1:{gateway.port}\r\n"
        f"Content-Type: audio/wav\r\nContent-Length: {len(audio)}\r\n\r\n"
    ).encode()
    sockets = []
    for _ in range(clients):
        sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=60)
        sock.sendall(head + audio)
        sockets.append(sock)
    time.sleep(after_s)
    for sock in sockets:
        sock.close()


def run(label: str, source: Path, args: argparse.Namespace, audio: bytes) -> None:
    with gateway_from(source, DEFAULT_ASR_MODEL, LX_RESULT_CACHE_SIZE="0") as gateway:
        short_clip(gateway)  # warm
        idle = statistics.median(short_clip(gateway) for _ in range(3))
        print(f"  {label}: idle short clip {idle:.2f} s; {load_average()}")
        hang_ups(gateway, audio, args.clients, args.hang_up_after)
        hung_up = time.perf_counter()
        after = short_clip(gateway)
        print(
            f"  {label}: next short clip after {args.clients} hang-ups {after:.2f} s "
            f"({after / idle:.1f}x idle); {load_average()}"
        )
        while work_left(gateway) > 0 and time.perf_counter() - hung_up < 900:
            time.sleep(0.25)
        print(
            f"  {label}: worker idle {time.perf_counter() - hung_up:.1f} s after the hang-ups; "
            f"{load_average()}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, default=Path("/work/main"))
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--hang-up-after", type=float, default=1.0)
    parser.add_argument("--long-copies", type=int, default=8)
    args = parser.parse_args()
    audio = repeated_wav(clip_path(LONG_CLIP), args.long_copies)
    print(machine())
    print(
        f"{args.clients} clients hang up {args.hang_up_after:g} s into {len(audio) / 32e3:.0f} s:"
    )
    for label, source in (("before", args.before), ("after", HERE)):
        run(label, source, args, audio)


if __name__ == "__main__":
    main()
