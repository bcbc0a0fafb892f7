"""How a worker batches, queues and threads its model work: one Struct, one definition.

The gateway reads each field from its LX_* variable (gateway/settings.py) and hands the
whole Struct to the worker it spawns as one JSON argument (`--tuning`); a worker started by
hand (a remote one) gets one command-line flag per field, made from this Struct. Ranges are
the fields' constraints, so all three check the same bounds. A new field needs a default,
its range and a description here, and nothing else.
"""

from __future__ import annotations

from typing import Annotated

import msgspec


class WorkerTuning(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    cpu_threads: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=1024,
            description="CPU threads per decode; 0: auto (speech: worker/decode_plan.py, "
            "translation: CTranslate2's default)",
        ),
    ] = 0
    batch_max_size: Annotated[
        int,
        msgspec.Meta(
            ge=1, le=1024, description="texts per translation batch of one model; 1: no batching"
        ),
    ] = 32
    batch_timeout_ms: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=10_000,
            description="milliseconds a translation waits for others to share its batch",
        ),
    ] = 5
    queue_limit: Annotated[
        int,
        msgspec.Meta(
            ge=1,
            le=100_000,
            description="requests waiting per model and class of work; more get QUEUE_FULL",
        ),
    ] = 256
    asr_concurrency: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=64,
            description="transcriptions of one model running at once; 0: auto, from the "
            "cores or the GPU (worker/decode_plan.py)",
        ),
    ] = 0
    asr_batch_size: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=64,
            description="windows of concurrent transcriptions of one model decoded in one "
            "call; 0: auto (1 on a CPU, where it does not pay; the concurrency on a GPU)",
        ),
    ] = 0
    asr_window_seconds: Annotated[
        int,
        msgspec.Meta(
            ge=30,
            le=3600,
            description="seconds of audio decoded and transcribed at once: a longer file goes "
            "window by window, so a transcription's memory stays that of one window "
            "(about 1 MB per second with tiny.en)",
        ),
    ] = 120


def tuning_to_json(tuning: WorkerTuning) -> str:
    return msgspec.json.encode(tuning).decode()


def tuning_from_json(text: str | bytes) -> WorkerTuning:
    """Raises msgspec.ValidationError (or DecodeError) naming the field that is out of range."""
    return msgspec.json.decode(text, type=WorkerTuning)
