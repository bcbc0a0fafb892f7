"""One live stream in the worker: 16 kHz samples in, partial and final captions out.

The stream never decides when to decode: it says whether it has audio worth decoding
(`wants_decode`, `final_due`) and runs one decode of its current segment when the scheduler
asks (`decode`). Its clock is samples received, so its captions depend on the audio and on
when decodes ran, never on wall time.

Each decode hears the segment plus up to `context_ms` of audio before it (the end of the
previous finals, whose words are then skipped), with the finals before that as the prompt.

What a stream needs to go on elsewhere is small: the audio since its last final, the index
of its next segment and its prompt (`FinalCaption.resume`, `resume_state`,
`LiveStream.resumed`). The gateway keeps that audio, so a stream survives its worker.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from worker.live.agreement import LocalAgreement
from worker.live.decoder import Decoder
from worker.live.events import (
    FinalCaption,
    FinalReason,
    HypWord,
    LiveEvent,
    PartialCaption,
    ResumeState,
    join_words,
)
from worker.live.segmenter import (
    Decision,
    SegmentPolicy,
    bounded_prompt,
    decide,
    ms_to_samples,
    samples_to_ms,
    silent_segment_start,
    speech_in_segment,
    undecoded_speech,
    without_loop,
    without_made_up_tail,
)
from worker.live.vad import SileroWindows, VadSettings, VoiceActivity


class LiveStream:
    def __init__(
        self,
        decoder: Decoder,
        *,
        policy: SegmentPolicy | None = None,
        vad: VadSettings | None = None,
        resume: ResumeState | None = None,
        windows: SileroWindows | None = None,
    ) -> None:
        state = resume or ResumeState()
        self._decoder = decoder
        self.policy = policy or SegmentPolicy()
        self._vad = VoiceActivity(vad, offset=state.start_sample, windows=windows)
        self._agreement = LocalAgreement()
        self._audio = np.zeros(0, dtype=np.float32)
        self._buffer_start = state.start_sample
        self._segment_start = state.start_sample
        self._received = state.start_sample
        self._last_decoded = state.start_sample
        self._segment_index = state.segment_index
        self._last_end_ms = state.last_end_ms
        # What the gateway still holds starts here: the end of the last final.
        self._final_end_sample = state.start_sample
        # Every final so far, bounded (for a restart), and the finals whose audio left the
        # context (what the decoder is prompted with).
        self._prompt_all = state.prompt
        self._prompt_outside = state.prompt
        self._in_context: list[tuple[int, str]] = []  # (end sample, text) of recent finals
        self._partial_sent = False
        self._audio_ended = False

    @classmethod
    def resumed(
        cls,
        decoder: Decoder,
        state: ResumeState,
        audio: npt.NDArray[np.float32],
        *,
        policy: SegmentPolicy | None = None,
        vad: VadSettings | None = None,
    ) -> LiveStream:
        """The stream again, on a new worker: `audio` starts at `state.start_sample` (the
        audio before it, the earlier finals' context, is gone: the prompt stands for it)."""
        stream = cls(decoder, policy=policy, vad=vad, resume=state)
        stream.feed(audio)
        return stream

    # ------------------------------------------------------------ audio in

    def feed(self, samples: npt.NDArray[np.float32]) -> None:
        if self._audio_ended:
            raise ValueError("the stream's audio has ended")
        chunk = np.asarray(samples, dtype=np.float32).reshape(-1)
        self._audio = np.concatenate([self._audio, chunk])
        self._received += len(chunk)
        self._vad.push(chunk)
        tracker = self._vad.tracker
        if not speech_in_segment(tracker.runs, self._segment_start):
            # Silence: the segment starts just before where speech could start.
            self._segment_start = silent_segment_start(
                policy=self.policy,
                segment_start=self._segment_start,
                scored_until=tracker.scored_until,
                speaking=tracker.speaking,
            )
            self._last_decoded = max(self._last_decoded, self._segment_start)
            self._trim()

    def end_audio(self) -> None:
        """The client's `client.audio.end`: what is left becomes final on the next decode."""
        self._audio_ended = True

    # ------------------------------------------------------------ what the scheduler sees

    def decision(self) -> Decision:
        return decide(
            policy=self.policy,
            segment_start=self._segment_start,
            received=self._received,
            last_decoded=self._last_decoded,
            runs=self._vad.tracker.runs,
            audio_ended=self._audio_ended,
            pause_from=self._vad.tracker.pause_from,
        )

    def wants_decode(self) -> bool:
        return self.decision().kind != "none"

    def final_due(self) -> bool:
        """A final is waiting on the next decode (decode this stream first)."""
        return self.decision().kind == "final"

    @property
    def finished(self) -> bool:
        """The audio ended and every final is out."""
        return self._audio_ended and not self.wants_decode()

    @property
    def received_ms(self) -> int:
        return samples_to_ms(self._received)

    @property
    def buffered_ms(self) -> int:
        """Audio the stream holds: the current segment and its context."""
        return samples_to_ms(len(self._audio))

    @property
    def undecoded_ms(self) -> int:
        """Speech of the current segment no decode has seen (for fairness between streams)."""
        return samples_to_ms(
            undecoded_speech(
                segment_start=self._segment_start,
                received=self._received,
                last_decoded=self._last_decoded,
                runs=self._vad.tracker.runs,
                pause_from=self._vad.tracker.pause_from,
            )
        )

    def resume_state(self) -> ResumeState:
        return ResumeState(
            start_sample=self._final_end_sample,
            segment_index=self._segment_index,
            prompt=self._prompt_all,
            last_end_ms=self._last_end_ms,
        )

    # ------------------------------------------------------------ decoding

    def decode(self) -> list[LiveEvent]:
        """One decode of the current segment: a partial, a final, or nothing (the decoder
        heard no words yet, or nothing was worth decoding)."""
        decision = self.decision()
        if decision.kind == "none":
            return []
        final = decision.kind == "final"
        words = self._decode(decision.end, final)
        self._last_decoded = decision.end
        if not final:
            agreement = self._agreement.update(words)
            if not agreement.text:
                return []
            self._partial_sent = True
            return [
                PartialCaption(
                    segment_index=self._segment_index,
                    text=agreement.text,
                    stable_text=agreement.stable_text,
                    audio_ms=samples_to_ms(decision.end),
                )
            ]
        assert decision.reason is not None
        if decision.reason == "max_length":
            return self._final_at_length(words, decision)
        # The final is this last decode of the whole segment (with the wider beam), not the
        # committed partial words: it heard everything, so it is the better transcript.
        own = tuple(without_made_up_tail(self._agreement.after_context(words)))
        if decision.speech_end is not None:
            latest = samples_to_ms(decision.speech_end) + self.policy.after_speech_ms
            own = tuple(w for w in own if w.start_ms <= latest)
        self._agreement.reset(own)
        return self._finalize(own, decision.end, decision.reason)

    def _decode(self, end: int, final: bool) -> list[HypWord]:
        start = self._context_start()
        self._retire_context(start)
        audio = self._audio[start - self._buffer_start : end - self._buffer_start]
        offset_ms = samples_to_ms(start)
        end_ms = samples_to_ms(end)
        segment_ms = samples_to_ms(self._segment_start)
        words = []
        for word in without_loop(self._decoder(audio, self._prompt_outside, final)):
            begins = min(end_ms, offset_ms + word.start_ms)
            ends = min(end_ms, max(begins, offset_ms + word.end_ms))
            # A word over before the segment began was heard as context.
            if ends > segment_ms:
                words.append(replace(word, start_ms=begins, end_ms=ends))
        return words

    def _final_at_length(self, words: list[HypWord], decision: Decision) -> list[LiveEvent]:
        """The segment is as long as it may be: it ends after the words agreement committed
        (between the last of them and the next word); the rest starts the next segment."""
        own = self._agreement.after_context(words)
        agreement = self._agreement.update(words)
        committed = self._agreement.cut()
        if not committed:
            self._agreement.reset(own)
            return self._finalize(tuple(own), decision.end, "max_length")
        boundary_ms = committed[-1].end_ms
        if agreement.tail:
            boundary_ms = (boundary_ms + max(boundary_ms, agreement.tail[0].start_ms)) // 2
        cut = min(decision.end, max(self._segment_start, ms_to_samples(boundary_ms)))
        # The committed words, exactly: the next segment skips them as its context.
        return self._finalize(committed, cut, "max_length")

    def _finalize(
        self, words: tuple[HypWord, ...], cut: int, reason: FinalReason
    ) -> list[LiveEvent]:
        text = join_words(words)
        events: list[LiveEvent] = []
        # A segment that only ever heard noise gets no final, unless a partial showed it.
        if text or self._partial_sent:
            self._prompt_all = bounded_prompt([self._prompt_all or "", text], self._chars)
            self._in_context.append((cut, text))
            self._final_end_sample = cut
            events.append(self._final_caption(words, text, cut, reason))
            self._segment_index += 1
        self._segment_start = cut
        self._last_decoded = max(self._last_decoded, cut)
        self._partial_sent = False
        self._vad.tracker.forget_before(cut)
        self._trim()
        return events

    def _final_caption(
        self, words: tuple[HypWord, ...], text: str, cut: int, reason: FinalReason
    ) -> FinalCaption:
        # Finals never overlap and never run past the audio they cover.
        floor = max(self._last_end_ms, samples_to_ms(self._segment_start))
        ceiling = max(floor, samples_to_ms(cut))
        start = min(ceiling, max(floor, words[0].start_ms if words else floor))
        end = min(ceiling, max(start, words[-1].end_ms if words else ceiling))
        clamped = tuple(
            replace(
                w,
                start_ms=min(end, max(start, w.start_ms)),
                end_ms=min(end, max(start, w.end_ms)),
            )
            for w in words
        )
        self._last_end_ms = end
        after = ResumeState(
            start_sample=cut,
            segment_index=self._segment_index + 1,
            prompt=self._prompt_all,
            last_end_ms=end,
        )
        return FinalCaption(
            segment_index=self._segment_index,
            text=text,
            start_ms=start,
            end_ms=end,
            words=clamped,
            end_sample=cut,
            reason=reason,
            audio_ms=samples_to_ms(self._received),
            resume=after,
        )

    # ------------------------------------------------------------ context and buffer

    @property
    def _chars(self) -> int:
        return self.policy.prompt_chars

    def _context_start(self) -> int:
        wanted = self._segment_start - ms_to_samples(self.policy.context_ms)
        return max(self._buffer_start, wanted)

    def _retire_context(self, context_start: int) -> None:
        """Finals whose audio is no longer heard move into the prompt."""
        while self._in_context and self._in_context[0][0] <= context_start:
            _end, text = self._in_context.pop(0)
            self._prompt_outside = bounded_prompt([self._prompt_outside or "", text], self._chars)

    def _trim(self) -> None:
        keep_from = self._segment_start - ms_to_samples(self.policy.context_ms)
        if keep_from > self._buffer_start:
            self._audio = self._audio[keep_from - self._buffer_start :]
            self._buffer_start = keep_from
