"""Whisper speech recognition through faster-whisper (CTranslate2).

The model runs `plan.replicas` decodes in parallel (`num_workers`), `plan.threads` threads
each. When more transcriptions run than it has replicas, its CTranslate2 calls go through
BatchingWhisper: interactive work's calls first, and, with `plan.max_batch_size` over 1,
windows of concurrent transcriptions share calls (batched_whisper.py says when).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from protocol.options import TranscribeOptions, check_options
from protocol.vocabulary import WHISPER_SAMPLE_RATE
from protocol.wire.messages import Segment, Transcribe, TranscribeResult, Word
from worker.decode_plan import DecodePlan
from worker.engines.batched_whisper import BatchingWhisper, decode_stats
from worker.engines.stopping import StopCheck, Stopped

# A temperature of 0 means "greedy, with faster-whisper's fallback ladder when decoding fails".
_FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def transcribe_kwargs(options: TranscribeOptions, multilingual: bool) -> dict[str, Any]:
    """faster-whisper's `transcribe` arguments for our options, in its own names (the one
    place that maps them; benchmarks use it too)."""
    temperature: tuple[float, ...] = (
        _FALLBACK_TEMPERATURES if options.temperature == 0.0 else (options.temperature,)
    )
    return {
        # English-only models take no language token.
        "language": options.language if multilingual else None,
        "task": options.task,
        "beam_size": options.beam_size,
        "best_of": options.best_of,
        "temperature": temperature,
        "compression_ratio_threshold": options.compression_ratio_threshold,
        "log_prob_threshold": options.logprob_threshold,
        "no_speech_threshold": options.no_speech_threshold,
        "condition_on_previous_text": options.condition_on_previous_text,
        "initial_prompt": options.initial_prompt,
        "word_timestamps": options.word_timestamps,
        "vad_filter": options.vad_filter,
    }


def import_library() -> None:
    """Import faster-whisper now (a worker does it once, off its I/O thread, so that its
    first speech load costs only the model's constructor)."""
    import faster_whisper  # noqa: F401


class WhisperEngine:
    def __init__(self, model_dir: str, device: str, compute_type: str, plan: DecodePlan) -> None:
        from faster_whisper import WhisperModel

        self.device = device
        self.plan = plan
        kind, _, index = device.partition(":")
        self._model: Any = WhisperModel(
            model_dir,
            device=kind,
            device_index=int(index or 0),
            compute_type=compute_type,
            cpu_threads=plan.threads,
            num_workers=plan.replicas,
            local_files_only=True,
        )
        self.multilingual: bool = bool(self._model.model.is_multilingual)
        if plan.max_batch_size > 1 or plan.concurrency > plan.replicas:
            # Calls can queue for a replica: order them (and batch them, if asked).
            self._model.model = BatchingWhisper(
                self._model.model,
                slots=plan.replicas,
                max_batch_size=plan.max_batch_size,
                batch_encode=plan.batch_encode,
                sot_id=int(self._model.hf_tokenizer.token_to_id("<|startoftranscript|>")),
            )

    @property
    def whisper_model(self) -> Any:
        """The faster-whisper `WhisperModel` (live streams decode with it directly)."""
        return self._model

    def warm_up(self) -> None:
        """One short decode so the first real request does not pay for lazy initialisation."""
        silence = np.zeros(WHISPER_SAMPLE_RATE, dtype=np.float32)  # one second
        options = TranscribeOptions(beam_size=1, best_of=1, language="en")
        self.transcribe(silence, Transcribe(request_id="warm-up", model_id="", options=options))

    def transcribe(
        self,
        audio: npt.NDArray[np.float32],
        request: Transcribe,
        should_stop: StopCheck | None = None,
        priority: int = 0,
        on_segment: Callable[[Segment], None] | None = None,
    ) -> TranscribeResult:
        """The reply to `request`, for its audio as 16 kHz samples (the caller adds how long
        the request queued). Raises Stopped when `should_stop` says so between two segments
        (each next segment is decoded only when asked for). Its model calls wait with
        `priority` (its class of work's) when they queue behind others'. `on_segment` hears
        each segment as soon as it is decoded."""
        options = request.options
        check_options(options)
        started = time.perf_counter()
        segments = []
        with decode_stats(priority) as stats:
            segments_iter, info = self._model.transcribe(
                audio, **transcribe_kwargs(options, self.multilingual)
            )
            for raw in segments_iter:
                segments.append(_segment(raw, options.word_timestamps))
                if on_segment is not None:
                    on_segment(segments[-1])
                if should_stop is not None and should_stop():
                    raise Stopped
        return TranscribeResult(
            request_id=request.request_id,
            model_id=request.model_id,
            device=self.device,
            text="".join(s.text for s in segments).strip(),
            language=str(info.language),
            language_probability=float(info.language_probability),
            duration=float(info.duration),
            segments=segments,
            inference_ms=round((time.perf_counter() - started) * 1000, 2),
            # The most requests any of its windows was decoded with (1: always alone).
            batch_size=max(stats.largest_batch, 1),
        )


def _segment(raw: Any, with_words: bool) -> Segment:
    # faster-whisper hands back numpy scalars: msgspec needs plain floats.
    words = None
    if with_words and raw.words is not None:
        words = [
            Word(
                start=float(w.start),
                end=float(w.end),
                word=str(w.word),
                probability=float(w.probability),
            )
            for w in raw.words
        ]
    return Segment(
        id=int(raw.id),
        start=float(raw.start),
        end=float(raw.end),
        text=str(raw.text),
        avg_logprob=float(raw.avg_logprob),
        no_speech_prob=float(raw.no_speech_prob),
        compression_ratio=float(raw.compression_ratio),
        words=words,
        seek=int(raw.seek),
        tokens=[int(t) for t in raw.tokens],
        temperature=float(raw.temperature or 0.0),
    )
