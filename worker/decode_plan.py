"""How a worker runs the transcriptions of one model: a plain decision from its cores or GPU.

- `concurrency`: transcriptions of one model running at once (the lanes' decode slots);
- `threads`: CTranslate2 threads per decode (`intra_threads`, faster-whisper's `cpu_threads`);
- `replicas`: decodes that really run in parallel (`inter_threads`, faster-whisper's
  `num_workers`): without them one model serialises its concurrent decodes;
- `max_batch_size`, `batch_encode`: windows of concurrent transcriptions that share one
  CTranslate2 call (engines/batched_whisper.py); 1: every call runs alone.

On a CPU (measured on 2 cores with tiny.en, bench/README.md "ASR parallelism"): one thread
per decode is faster than two even for a single request, and two decodes of one thread each
give about twice the throughput of one decode of two threads. So every core gets a decode
of its own, up to `CPU_MAX_REPLICAS` decodes; more cores than that go to threads per decode
(a lone request then still uses several). Twice as many transcriptions as replicas run at
once, so that while the replicas work the windows of the others gather into batches.
Encoder calls are never stacked on a CPU (one 30 s window already fills its GEMMs: no gain,
only waiting); decoder calls are.

On a GPU, `threads` only serve CTranslate2's CPU side; two replicas keep the device busy
while Python prepares the next windows, and batches (encoder too) are what a GPU is for.
This has not been measured yet (no GPU was lent to this project's sessions).

`LX_ASR_CONCURRENCY` and `LX_WORKER_CPU_THREADS` (0: auto) override what they name; the
rest follows from them.
"""

from __future__ import annotations

from dataclasses import dataclass

CPU_MAX_REPLICAS = 4
# Transcriptions per replica running at once: one decoding, one gathering its next batch.
_REQUESTS_PER_REPLICA = 2
_GPU_REPLICAS = 2
_GPU_CONCURRENCY = 8
_GPU_THREADS = 1
# A GPU with less memory than this runs fewer decodes at once (each holds its activations).
_GPU_SMALL_MB = 8 * 1024


@dataclass(frozen=True)
class DecodePlan:
    concurrency: int
    threads: int
    replicas: int
    max_batch_size: int
    batch_encode: bool
    chosen: str  # which figures were set by hand, or "auto"

    def describe(self) -> str:
        batching = (
            "no batching" if self.max_batch_size <= 1 else f"batches of {self.max_batch_size}"
        )
        encode = " (encoder too)" if self.batch_encode and self.max_batch_size > 1 else ""
        return (
            f"{self.concurrency} transcriptions at once on {self.replicas} replicas of "
            f"{self.threads} thread(s), {batching}{encode}; {self.chosen}"
        )


def plan_decoding(
    device: str,
    cores: int,
    *,
    concurrency: int = 0,
    threads: int = 0,
    device_memory_mb: float | None = None,
) -> DecodePlan:
    """The plan for one model on `device` (`cpu`, `cuda:N`) of a worker with `cores` usable
    CPU cores; `concurrency` and `threads` other than 0 are the operator's and stay."""
    cores = max(cores, 1)
    chosen = _chosen(concurrency, threads)
    if device.startswith("cuda"):
        small = device_memory_mb is not None and device_memory_mb < _GPU_SMALL_MB
        wanted = concurrency or (_GPU_CONCURRENCY // 2 if small else _GPU_CONCURRENCY)
        return DecodePlan(
            concurrency=wanted,
            threads=threads or _GPU_THREADS,
            replicas=min(wanted, _GPU_REPLICAS),
            max_batch_size=wanted,
            batch_encode=True,
            chosen=chosen,
        )
    # Threads per decode follow from the cores alone, not from a concurrency set by hand:
    # on 2 cores a lone decode is fastest with one thread.
    per_decode = threads or max(cores // min(cores, CPU_MAX_REPLICAS), 1)
    # Threads set by hand: as many replicas as the cores hold; else at most the cap.
    replicas = max(cores // per_decode, 1) if threads else min(cores, CPU_MAX_REPLICAS)
    if concurrency:
        replicas = min(replicas, concurrency)
    wanted = concurrency or replicas * _REQUESTS_PER_REPLICA
    return DecodePlan(
        concurrency=wanted,
        threads=per_decode,
        replicas=replicas,
        max_batch_size=max(wanted // replicas, 1) if wanted > replicas else 1,
        batch_encode=False,
        chosen=chosen,
    )


def _chosen(concurrency: int, threads: int) -> str:
    named = [
        f"{name}={value}"
        for name, value in (("LX_ASR_CONCURRENCY", concurrency), ("LX_WORKER_CPU_THREADS", threads))
        if value
    ]
    return ", ".join(named) + " set, the rest auto" if named else "auto"
