"""A long transcription as a run of shorter ones, one per window of audio (audio_windows.py).

Each window is transcribed on its own, and its segments are moved to where the window lies
in the whole audio (times, words, `seek`) and numbered on from the previous window's. What
Whisper carries from one 30 s window to the next inside faster-whisper is carried here
across windows: the end of the text so far as the prompt (when `condition_on_previous_text`,
as faster-whisper does; only segments that are likely speech, decoded at a low temperature),
and the language the first window detected. Audio that is one window
is transcribed exactly as before: the same call with the same samples.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import msgspec

from protocol.wire.messages import Segment, Transcribe, TranscribeResult, Word
from worker.engines.audio_windows import Window
from worker.engines.stopping import StopCheck, Stopped
from worker.engines.whisper import WhisperEngine

# Characters of the text so far given as the next window's prompt: a sentence or two,
# what continuity needs. A long prompt of repeated text (silence heard as " You" again and
# again) made the model repeat itself into its temperature fallback: 4x slower, measured.
_PROMPT_CHARS = 200
# Segments decoded above this temperature are not carried (faster-whisper's own
# `prompt_reset_on_temperature`), nor segments that are most likely no speech.
_PROMPT_MAX_TEMPERATURE = 0.5
_FRAMES_PER_SECOND = 100  # faster-whisper's `seek` counts 10 ms feature frames


def transcribe_windows(
    engine: WhisperEngine,
    windows: Iterable[Window],
    request: Transcribe,
    should_stop: StopCheck | None = None,
    priority: int = 0,
    on_segment: Callable[[Segment], None] | None = None,
) -> TranscribeResult:
    """The reply to `request` for its audio as consecutive windows (engine.transcribe says
    what the arguments do); Stopped between two segments or two windows."""
    merged: TranscribeResult | None = None
    segments: list[Segment] = []
    for window in windows:
        if window.last and merged is None:  # one window: the whole file as before
            return engine.transcribe(window.samples, request, should_stop, priority, on_segment)
        if should_stop is not None and should_stop():
            raise Stopped
        asked = request if merged is None else _next_request(request, merged, segments)
        first_id = len(segments)

        def shifted(segment: Segment, window: Window = window, first_id: int = first_id) -> Segment:
            return _shift(segment, window.offset_s, first_id)

        hear = None if on_segment is None else (lambda s: on_segment(shifted(s)))
        result = engine.transcribe(window.samples, asked, should_stop, priority, hear)
        segments += [shifted(s) for s in result.segments]
        merged = _merge(merged, result, window, segments)
    assert merged is not None, "audio_windows.windows yields at least one window"
    return merged


def _next_request(
    request: Transcribe, merged: TranscribeResult, segments: list[Segment]
) -> Transcribe:
    options = request.options
    prompt = None
    if options.condition_on_previous_text:
        heard = (
            s.text
            for s in segments
            if s.no_speech_prob < options.no_speech_threshold
            and s.temperature <= _PROMPT_MAX_TEMPERATURE
        )
        prompt = "".join(heard)[-_PROMPT_CHARS:].strip() or None
    language = options.language or merged.language
    return msgspec.structs.replace(
        request,
        options=msgspec.structs.replace(options, initial_prompt=prompt, language=language),
    )


def _merge(
    merged: TranscribeResult | None,
    result: TranscribeResult,
    window: Window,
    segments: list[Segment],
) -> TranscribeResult:
    first = merged or result
    return msgspec.structs.replace(
        first,
        text="".join(s.text for s in segments).strip(),
        duration=round(window.offset_s + result.duration, 6),
        segments=list(segments),
        inference_ms=round((merged.inference_ms if merged else 0.0) + result.inference_ms, 2),
        batch_size=max(first.batch_size, result.batch_size),
    )


def _shift(segment: Segment, offset_s: float, first_id: int) -> Segment:
    if offset_s == 0.0 and first_id == 0:
        return segment
    words = None
    if segment.words is not None:
        words = [
            Word(
                start=round(w.start + offset_s, 3),
                end=round(w.end + offset_s, 3),
                word=w.word,
                probability=w.probability,
            )
            for w in segment.words
        ]
    return msgspec.structs.replace(
        segment,
        id=segment.id + first_id,
        start=round(segment.start + offset_s, 3),
        end=round(segment.end + offset_s, 3),
        words=words,
        seek=segment.seek + round(offset_s * _FRAMES_PER_SECOND),
    )
