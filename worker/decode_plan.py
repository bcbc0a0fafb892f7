"""How a worker runs the transcriptions of one model: a plain decision from its cores or GPU.

- `concurrency`: transcriptions of one model running at once (the lanes' decode slots);
- `threads`: CTranslate2 threads per decode (`intra_threads`, faster-whisper's `cpu_threads`);
- `replicas`: decodes that really run in parallel (`inter_threads`, faster-whisper's
  `num_workers`): without them one model serialises its concurrent decodes;
- `max_batch_size`, `batch_encode`: windows of concurrent transcriptions that share one
  CTranslate2 call (engines/batched_whisper.py); 1: every call runs alone;
- `bulk_slots`: how many of the `concurrency` slots long files (`bulk`) may hold: with
  more slots than replicas, bulk work fills the replicas and no more, so interactive work
  always finds a slot and its calls go first (at window boundaries) even while long files
  run.

On a CPU (measured on 2 cores with tiny.en, bench/README.md "ASR parallelism"): one thread
per decode is faster than two even for a single request, and two decodes of one thread each
give about twice the throughput of one decode of two threads. So every core gets a decode
of its own, up to `CPU_MAX_REPLICAS` decodes; more cores than that go to threads per decode
(a lone request then still uses several). Twice as many transcriptions as replicas run at
once, long files on at most the replicas: a clip that arrives while long files fill every
replica still starts, and its calls go before theirs at their next window (the oldest
transcription's calls go first among equals, so this costs no latency). Batching is off:
the encoder's 30 s window already fills its GEMMs (stacking windows saves nothing), the
decoder's share of the work is small, and windows only meet when the encoder is stacked
too, which makes each wait for the others; measured, it saved no CPU beyond the noise.

On a GPU, `threads` only serve CTranslate2's CPU side; two replicas keep the device busy
while Python prepares the next windows, and batches (encoder too) are what a GPU is for;
long files may hold half the slots. This has not been measured yet (no GPU was lent to
this project's sessions).

`LX_ASR_CONCURRENCY`, `LX_WORKER_CPU_THREADS` and `LX_ASR_BATCH_SIZE` (0: auto) override
what they name; the rest follows from them. A batch size above 1 on a CPU stacks the
encoder's calls too (else concurrent windows would never wait together).
"""

from __future__ import annotations

from dataclasses import dataclass

CPU_MAX_REPLICAS = 4
# Transcriptions per replica running at once: room for interactive work beside long files.
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
    bulk_slots: int = 0  # 0: as many as `concurrency`

    @property
    def bulk_limit(self) -> int:
        return self.bulk_slots or self.concurrency

    def describe(self) -> str:
        batching = (
            "no batching" if self.max_batch_size <= 1 else f"batches of {self.max_batch_size}"
        )
        encode = " (encoder too)" if self.batch_encode and self.max_batch_size > 1 else ""
        bulk = "" if self.bulk_limit >= self.concurrency else f" ({self.bulk_limit} for long files)"
        return (
            f"{self.concurrency} transcriptions at once{bulk} on {self.replicas} replicas of "
            f"{self.threads} thread(s), {batching}{encode}; {self.chosen}"
        )


def plan_decoding(
    device: str,
    cores: int,
    *,
    concurrency: int = 0,
    threads: int = 0,
    batch_size: int = 0,
    device_memory_mb: float | None = None,
) -> DecodePlan:
    """The plan for one model on `device` (`cpu`, `cuda:N`) of a worker with `cores` usable
    CPU cores; `concurrency`, `threads` and `batch_size` other than 0 are the operator's
    and stay."""
    cores = max(cores, 1)
    chosen = _chosen(concurrency, threads, batch_size)
    if device.startswith("cuda"):
        small = device_memory_mb is not None and device_memory_mb < _GPU_SMALL_MB
        wanted = concurrency or (_GPU_CONCURRENCY // 2 if small else _GPU_CONCURRENCY)
        replicas = min(wanted, _GPU_REPLICAS)
        return DecodePlan(
            concurrency=wanted,
            threads=threads or _GPU_THREADS,
            replicas=replicas,
            max_batch_size=batch_size or wanted,
            batch_encode=True,
            chosen=chosen,
            # Batches, not replicas, are a GPU's capacity: long files may fill half of them.
            bulk_slots=max(wanted // 2, 1),
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
        max_batch_size=batch_size or 1,
        batch_encode=batch_size > 1,
        chosen=chosen,
        bulk_slots=_bulk_slots(wanted, replicas),
    )


def _bulk_slots(concurrency: int, replicas: int) -> int:
    # With no slot beyond the replicas, capping bulk would leave a replica idle.
    return min(replicas, concurrency - 1) if concurrency > replicas else concurrency


def _chosen(concurrency: int, threads: int, batch_size: int) -> str:
    figures = (
        ("LX_ASR_CONCURRENCY", concurrency),
        ("LX_WORKER_CPU_THREADS", threads),
        ("LX_ASR_BATCH_SIZE", batch_size),
    )
    named = [f"{name}={value}" for name, value in figures if value]
    return ", ".join(named) + " set, the rest auto" if named else "auto"
