"""MT batching benchmark: concurrent requests through a worker vs one by one through the
worker's own engine in this process, on the same machine in the same run.

    .venv/bin/python -m bench.mt_batching [--rounds 2] [--gateway] [--cache-dir DIR]

(a) baseline: the sentences one at a time through the production code in this process: the
    worker's `TranslationEngine` (its tokenisation, decoding and options; int8, all cores)
    called by `translate_together` with one request per call, as a lane runs a lone request;
(b) service: the same sentences as concurrent single-sentence Translate requests to a real
    `python -m worker` process over ZeroMQ (ipc://), sent back to back, replies awaited;
(c) with --gateway, also as concurrent `POST /api/mt/translate` requests to a real gateway
    (`python -m gateway`, the model found through LX_MODEL_DIRS, result cache off).

The model is the big copy model of tests/support/builders (d_model 1024, 12 + 12 layers,
int8): large enough that compute dominates, and its output equals its input, so both paths
are checked. It is built once (about 7 s) into the cache folder and reused.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.harness import gateway_with_model, machine, usable_cores
from protocol.options import TranslateOptions
from protocol.wire import messages as ipc
from tests.support.worker_peer import Peer, running_worker
from worker.engines.mt_batch import Outcome, translate_together
from worker.engines.translation import TranslationEngine

SOURCE, TARGET = "eng_Latn", "fra_Latn"
MODEL_ID = "big-copy"
_REPLY_TIMEOUT_S = 300.0
OPTIONS = TranslateOptions()  # the service's defaults: beam 4, up to 256 new tokens
_BUILT_STAMP = "BUILT"
_WORDS = (  # the English words of the copy model's tokenizer corpus
    "hello world this is a test the quick brown fox jumps over lazy dog please turn on "
    "kitchen lights weather today sunny warm we will meet again tomorrow morning market "
    "river street house water book friend family time people good new first last long great "
    "little own other old right big high small large next early young important public bad "
    "same able translate model speech service language"
)


@dataclass(frozen=True)
class Run:
    seconds: float
    outputs: list[str]
    batch_sizes: Counter[int] | None = None
    queue_ms: float | None = None


def sentences(count: int, seed: int = 7) -> list[str]:
    """Distinct English-like sentences of 8 to 16 words."""
    rng = random.Random(seed)
    vocabulary = _WORDS.split()
    found: list[str] = []
    while len(found) < count:
        words = rng.choices(vocabulary, k=rng.randint(8, 16))
        text = " ".join(words).capitalize() + "."
        if text not in found:
            found.append(text)
    return found


def big_copy_model(cache_dir: Path) -> Path:
    model_dir = cache_dir / "nllb-copy-big"
    if (model_dir / _BUILT_STAMP).is_file():
        return model_dir
    from tests.support.builders.nllb_copy import build_big_nllb_copy_model

    print(f"building the big copy model into {model_dir} (once) ...", flush=True)
    build_big_nllb_copy_model(model_dir)
    (model_dir / _BUILT_STAMP).write_text("ok\n")  # only a finished build is reused
    return model_dir


# ---------------------------------------------------------------- (a) one by one, in process


def translate_request(index: int, text: str) -> ipc.Translate:
    """The single-sentence request both (a) and (b) run."""
    return ipc.Translate(
        request_id=str(index),
        model_id=MODEL_ID,
        texts=[text],
        source_language=SOURCE,
        target_language=TARGET,
        options=OPTIONS,
    )


def one_by_one(model_dir: Path, texts: list[str], threads: int, rounds: int) -> Run:
    engine = TranslationEngine(str(model_dir), "cpu", "int8", threads)
    engine.warm_up()  # as the worker warms up at load
    requests = [translate_request(index, text) for index, text in enumerate(texts)]
    runs = []
    for _ in range(rounds):
        started = time.perf_counter()
        outcomes = [translate_together(engine, [request])[0] for request in requests]
        seconds = time.perf_counter() - started
        runs.append(Run(seconds, [_only_text(outcome) for outcome in outcomes]))
    return min(runs, key=lambda run: run.seconds)


def _only_text(outcome: Outcome) -> str:
    if outcome.outputs is None:
        raise RuntimeError(f"the engine failed: {outcome.error!r}")
    [output] = outcome.outputs
    return output.text


# ---------------------------------------------------------------- (b) through a worker


def through_worker(
    model_dir: Path, texts: list[str], threads: int, rounds: int, worker_args: list[str]
) -> Run:
    with (
        tempfile.TemporaryDirectory() as folder,
        running_worker(
            Path(folder), worker_args, cpu_threads=threads, heartbeat_interval_s=1.0
        ) as peer,
    ):
        loaded = peer.request(
            ipc.LoadModel(
                request_id="load",
                model_id=MODEL_ID,
                kind="mt",
                source=ipc.ModelSource(local_path=str(model_dir)),
                compute_type="int8",
            ),
            timeout_s=_REPLY_TIMEOUT_S,
        )
        assert isinstance(loaded, ipc.LoadResult), loaded
        runs = [_concurrent_round(peer, texts) for _ in range(rounds)]
    return min(runs, key=lambda run: run.seconds)


def _concurrent_round(peer: Peer, texts: list[str]) -> Run:
    started = time.perf_counter()
    for index, text in enumerate(texts):
        peer.send(translate_request(index, text))
    replies: dict[int, ipc.TranslateResult] = {}
    while len(replies) < len(texts):
        reply = peer.recv(timeout_s=_REPLY_TIMEOUT_S)
        if not isinstance(reply, ipc.TranslateResult):
            raise RuntimeError(f"the worker answered {reply!r}")
        replies[int(reply.request_id)] = reply
    seconds = time.perf_counter() - started
    ordered = [replies[i] for i in range(len(texts))]
    return Run(
        seconds,
        [reply.translations[0].text for reply in ordered],
        Counter(reply.batch_size for reply in ordered),
        statistics.mean(reply.queue_ms for reply in ordered),
    )


# ---------------------------------------------------------------- (c) through the gateway


def through_gateway(cache_dir: Path, texts: list[str], threads: int, rounds: int) -> Run:
    model_id = "local/nllb-copy-big"
    env = {"LX_MODEL_DIRS": str(cache_dir), "LX_RESULT_CACHE_SIZE": "0"}
    with (
        tempfile.TemporaryDirectory() as state,
        gateway_with_model(Path(state), model_id, threads, **env) as gateway,
    ):
        runs = [asyncio.run(_http_round(gateway.base_url, model_id, texts)) for _ in range(rounds)]
    return min(runs, key=lambda run: run.seconds)


async def _http_round(base_url: str, model_id: str, texts: list[str]) -> Run:
    limits = httpx.Limits(max_connections=len(texts))
    async with httpx.AsyncClient(base_url=base_url, timeout=600.0, limits=limits) as client:

        async def one(text: str) -> dict[str, Any]:
            body = {"text": text, "model_id": model_id, "source_language": "en"}
            response = await client.post(
                "/api/mt/translate", json={**body, "target_language": "fr"}
            )
            response.raise_for_status()
            answer: dict[str, Any] = response.json()
            return answer

        started = time.perf_counter()
        answers = await asyncio.gather(*(one(text) for text in texts))
        seconds = time.perf_counter() - started
    return Run(
        seconds,
        [answer["translations"][0]["text"] for answer in answers],
        queue_ms=statistics.mean(answer["timings"]["queue_ms"] for answer in answers),
    )


# ---------------------------------------------------------------- report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mt_batching", description=__doc__)
    parser.add_argument("--requests", type=int, default=64, help="single-sentence requests")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many rounds")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(os.environ.get("LX_BENCH_CACHE", Path.home() / ".cache" / "lx-bench")),
        help="where the big copy model is built once and reused",
    )
    parser.add_argument("--threads", type=int, default=usable_cores())
    parser.add_argument("--batch-max-size", type=int, default=32)
    parser.add_argument("--batch-timeout-ms", type=float, default=5.0)
    parser.add_argument("--gateway", action="store_true", help="also through the HTTP gateway")
    args = parser.parse_args(argv)

    print(f"machine: {machine()}; threads per model: {args.threads}")
    model_dir = big_copy_model(args.cache_dir)
    texts = sentences(args.requests)
    print(
        f"{len(texts)} sentences of 8-16 words; beam {OPTIONS.beam_size}; int8; best of "
        f"{args.rounds} rounds",
        flush=True,
    )

    raw = one_by_one(model_dir, texts, args.threads, args.rounds)
    worker_args = ["--batch-max-size", str(args.batch_max_size)]
    worker_args += ["--batch-timeout-ms", str(args.batch_timeout_ms)]
    service = through_worker(model_dir, texts, args.threads, args.rounds, worker_args)
    runs = {"raw": raw, "worker": service}
    if args.gateway:
        runs["gateway"] = through_gateway(args.cache_dir, texts, args.threads, args.rounds)
    for name, run in runs.items():
        if run.outputs != texts:
            raise SystemExit(f"{name}: the copy model's output differs from its input")

    raw_rate = len(texts) / raw.seconds
    service_rate = len(texts) / service.seconds
    print(f"(a) engine, one by one:          {raw.seconds:7.2f} s  {raw_rate:7.1f} sentences/s")
    print(
        f"(b) worker, {len(texts)} concurrent:       {service.seconds:7.2f} s  "
        f"{service_rate:7.1f} sentences/s"
    )
    assert service.batch_sizes is not None
    sizes = ", ".join(f"{size} x{count}" for size, count in sorted(service.batch_sizes.items()))
    print(f"    batch sizes (texts: requests): {sizes}; mean queue {service.queue_ms:.0f} ms")
    print(f"ratio (b)/(a): {service_rate / raw_rate:.2f}x (goal >= 3x)")
    if "gateway" in runs:
        http = runs["gateway"]
        http_rate = len(texts) / http.seconds
        print(
            f"(c) gateway, {len(texts)} concurrent HTTP:  {http.seconds:7.2f} s  "
            f"{http_rate:7.1f} sentences/s; mean queue {http.queue_ms:.0f} ms"
        )
        print(f"ratio (c)/(a): {http_rate / raw_rate:.2f}x")


if __name__ == "__main__":
    main()
