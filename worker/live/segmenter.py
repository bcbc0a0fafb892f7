"""When a segment is final, what audio a decode sees, and the prompt from earlier finals
(plain code on sample counts and speech runs).

A segment is final at the end of speech (the VAD heard `min_silence_ms` of silence), at its
maximum length (a speaker who never pauses still gets finals, and the buffer stays inside
Whisper's 30 s window), or when the client ends the audio. Before speech starts, only a
little audio is kept so the first word's onset is not cut. What a decoder made up is
dropped: a word after the end of speech, an unlikely short word at the end, a loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from worker.live.events import FinalReason, HypWord
from worker.live.vad import SAMPLE_RATE, SpeechRun


def ms_to_samples(ms: int) -> int:
    return ms * SAMPLE_RATE // 1000


def samples_to_ms(samples: int) -> int:
    return samples * 1000 // SAMPLE_RATE


@dataclass(frozen=True)
class SegmentPolicy:
    max_segment_ms: int = 12_000
    # Audio kept before speech starts, and after it ends, in what the decoder sees.
    pre_speech_ms: int = 300
    post_speech_ms: int = 200
    # A word starting this long after the VAD's end of speech is not speech.
    after_speech_ms: int = 100
    # New speech since the last decode below this is not worth a partial decode.
    min_new_audio_ms: int = 100
    # The prompt: the end of the previous finals, at most this many characters.
    prompt_chars: int = 200
    # Audio before the segment every decode also hears (the end of the previous finals):
    # tiny.en makes clearly fewer errors on a sentence when it hears the one before.
    context_ms: int = 8_000


@dataclass(frozen=True)
class Decision:
    """What the next decode should do. `kind` "none": nothing worth decoding."""

    kind: Literal["none", "partial", "final"]
    # The audio to decode ends here (samples from the stream's start).
    end: int = 0
    reason: FinalReason | None = None
    # Where the VAD heard the speech end (an end-of-speech final): a word the decoder puts
    # after it was made up from silence ("Thank you.").
    speech_end: int | None = None


NOTHING = Decision("none")


def speech_in_segment(runs: Sequence[SpeechRun], segment_start: int) -> list[SpeechRun]:
    return [run for run in runs if run.end is None or run.end > segment_start]


def decide(
    *,
    policy: SegmentPolicy,
    segment_start: int,
    received: int,
    last_decoded: int,
    runs: Sequence[SpeechRun],
    audio_ended: bool,
    pause_from: int | None = None,
) -> Decision:
    """`pause_from`: the speaker has been silent since then (not long enough to end the
    run): audio after it is no reason for a partial, the final will come soon."""
    speech = speech_in_segment(runs, segment_start)
    if not speech or received <= segment_start:
        return NOTHING
    first = speech[0]
    if first.end is not None:
        end = min(received, first.end + ms_to_samples(policy.post_speech_ms))
        return Decision("final", end=end, reason="end_of_speech", speech_end=first.end)
    if audio_ended:
        # A pause going on when the audio ends is where the speech ended: a word the decoder
        # puts after it was made up from the silence.
        return Decision("final", end=received, reason="end_of_audio", speech_end=pause_from)
    if received - segment_start >= ms_to_samples(policy.max_segment_ms):
        return Decision("final", end=received, reason="max_length")
    fresh = undecoded_speech(
        segment_start=segment_start,
        received=received,
        last_decoded=last_decoded,
        runs=runs,
        pause_from=pause_from,
    )
    if fresh >= ms_to_samples(policy.min_new_audio_ms):
        return Decision("partial", end=received)
    return NOTHING


def undecoded_speech(
    *,
    segment_start: int,
    received: int,
    last_decoded: int,
    runs: Sequence[SpeechRun],
    pause_from: int | None = None,
) -> int:
    """Samples of speech in the segment that no decode has seen yet (not counting a pause
    going on now)."""
    speech = speech_in_segment(runs, segment_start)
    if not speech:
        return 0
    heard_until = received if pause_from is None else min(received, pause_from)
    return max(0, heard_until - max(last_decoded, speech[0].start, segment_start))


def silent_segment_start(
    *, policy: SegmentPolicy, segment_start: int, scored_until: int, speaking: bool
) -> int:
    """Where the segment starts while no speech is in it: the pre-speech margin before the
    audio the VAD has scored (what is not scored yet may hold the first word)."""
    if speaking:
        return segment_start
    return max(segment_start, scored_until - ms_to_samples(policy.pre_speech_ms))


def bounded_prompt(finals: Sequence[str], max_chars: int) -> str | None:
    """The end of the previous finals, cut at a word boundary, at most `max_chars` long."""
    text = " ".join(part.strip() for part in finals if part.strip())
    if len(text) > max_chars:
        cut_mid_word = text[-max_chars - 1] != " "
        text = text[-max_chars:]
        if cut_mid_word:
            space = text.find(" ")
            text = text[space + 1 :] if space >= 0 else ""
    return text.strip() or None


# Whisper's own test for a made-up word (word_anomaly_score in openai-whisper): unlikely and
# implausibly short. Decoding up to a pause, tiny.en often ends with one ("Thank you.").
_MADE_UP_PROBABILITY = 0.15
_MADE_UP_MS = 133
_TAIL_WORDS = 3


def without_made_up_tail(words: Sequence[HypWord]) -> list[HypWord]:
    """`words` without a trailing run that starts with a made-up word (in the last three)."""
    kept = list(words)
    for index in range(max(0, len(kept) - _TAIL_WORDS), len(kept)):
        word = kept[index]
        short = word.end_ms - word.start_ms < _MADE_UP_MS
        if short and word.probability < _MADE_UP_PROBABILITY:
            return kept[:index]
    return kept


# A phrase of at most _LOOP_PHRASE words said _LOOP_REPEATS times or more in a row, over at
# least _LOOP_WORDS words, is the decoder looping ("see you next time, see you next time,
# ..." over the silence at the end of the audio), not speech.
_LOOP_PHRASE = 6
_LOOP_REPEATS = 3
_LOOP_WORDS = 8


def without_loop(words: Sequence[HypWord]) -> list[HypWord]:
    """`words` up to where the decoder starts looping (all of them if it does not)."""
    keys = ["".join(ch for ch in word.text.lower() if ch.isalnum()) for word in words]
    for start in range(len(keys)):
        for size in range(1, _LOOP_PHRASE + 1):
            phrase = keys[start : start + size]
            if len(phrase) < size:
                break
            repeats = 1
            while keys[start + repeats * size : start + (repeats + 1) * size] == phrase:
                repeats += 1
            if repeats >= _LOOP_REPEATS and repeats * size >= _LOOP_WORDS:
                return list(words[:start])
    return list(words)
