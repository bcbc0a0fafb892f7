"""Live caption streams in the worker: StreamOpen, StreamAudio and StreamEnd in, captions out.

The I/O thread only files what arrives (`open`, `audio`, `end`, `cancel`): a stream's client
frames wait in its inbox as bytes. Everything else runs on executor threads, one thread at a
time per stream (the stream is `busy` meanwhile):

- feeding: the inbox's frames become 16 kHz samples (worker/live/pcm.py) and go into the
  stream's LiveStream (its VAD runs there); a bad frame ends that stream with INVALID_AUDIO;
- decoding: a live decode takes one of the model's decode slots, the slots file
  transcriptions use too (lanes.py), from the model's `live` lane, whose priority is the
  interactive lane's: over long files, beside short clips and probes. The lane holds one
  token per stream ready to decode; the token that gets a slot decodes the stream that
  live_order.py picks at that moment (a due final first, then the most undecoded speech,
  aged so that none starves), not the one that made the token.

Per stream the replies keep their order: its captions (CaptionPartial, CaptionFinal), then
exactly one final reply: StreamClosed once its audio ended and every final is out, or an
ErrorReply. A Cancel drops the stream without a reply; an unload of its model ends it with
MODEL_NOT_LOADED (`model_unloaded`).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from protocol.errors import ErrorCode, ServiceError
from protocol.log_lines import request_logging
from protocol.wire.messages import (
    CaptionFinal,
    CaptionPartial,
    CaptionWord,
    ErrorReply,
    LiveResume,
    StreamAudio,
    StreamClosed,
    StreamEnd,
    StreamOpen,
    WorkerMessage,
)
from protocol.wire.tuning import WorkerTuning
from worker.engines.batched_whisper import decode_stats
from worker.engines.whisper import WhisperEngine
from worker.live.decoder import DecodeSettings, WhisperDecoder
from worker.live.events import FinalCaption, HypWord, LiveEvent, PartialCaption, ResumeState
from worker.live.pcm import PcmToStream
from worker.live.stream import LiveStream
from worker.models.cache import ModelCache, Tally
from worker.outbox import Outbox
from worker.scheduling.batcher import Pending
from worker.scheduling.inference import error_reply
from worker.scheduling.lanes import LanePolicy, RequestQueues, Submit
from worker.scheduling.live_order import Candidate, choose, passed_over_after

log = logging.getLogger(__name__)

LIVE_CLASS = "live"
# The interactive lane's priority (inference.py): live decodes go before long files.
LIVE_PRIORITY = 1


class _BoundDecoder:
    """A stream's decoder: the model it decodes with is bound for each decode, while the
    decode holds the model (so an unload waits for it)."""

    def __init__(self, settings: DecodeSettings) -> None:
        self.settings = settings
        self._current: WhisperDecoder | None = None

    def bind(self, model: Any) -> None:
        self._current = WhisperDecoder(model, self.settings)

    def __call__(
        self, audio: npt.NDArray[np.float32], prompt: str | None, final: bool
    ) -> list[HypWord]:
        assert self._current is not None, "decode outside a held model"
        return self._current(audio, prompt, final)


@dataclass(eq=False)
class _Live:
    request: StreamOpen
    decoder: _BoundDecoder
    pcm: PcmToStream | None = None
    stream: LiveStream | None = None
    inbox: list[bytes] = field(default_factory=list)
    end_asked: bool = False  # the client ended its audio
    ended: bool = False  # ... and the stream was told
    busy: bool = False  # a thread feeds or decodes it now
    done: bool = False  # its final reply is decided (and sent, or `reply` waits for `busy`)
    reply: WorkerMessage | None = None
    skip_samples: int = 0  # of the held audio, what earlier finals already cover
    finals: int = 0
    passed_over: int = 0

    @property
    def request_id(self) -> str:
        return self.request.request_id

    @property
    def model_id(self) -> str:
        return self.request.model_id

    def candidate(self) -> Candidate | None:
        if self.busy or self.done or self.stream is None:
            return None
        stream = self.stream
        decision = stream.decision()
        if decision.kind == "none":
            return None
        return Candidate(
            key=self.request_id,
            final_due=decision.kind == "final",
            undecoded_ms=stream.undecoded_ms,
            cadence_ms=self.request.options.partial_every_ms,
            draining=self.ended,
            passed_over=self.passed_over,
        )


class LiveStreams:
    def __init__(
        self,
        cache: ModelCache,
        outbox: Outbox,
        queues: RequestQueues,
        tuning: WorkerTuning,
        submit: Submit,
    ) -> None:
        self._cache = cache
        self._outbox = outbox
        self._queues = queues
        self._submit = submit
        self._limit = tuning.queue_limit
        self._lock = threading.Lock()
        self._streams: dict[str, _Live] = {}
        self._tokens: dict[str, int] = {}  # live decode tokens queued, per model
        self._token_ids = itertools.count(1)

    # ------------------------------------------------------------ on the I/O thread

    def open(self, request: StreamOpen, payload: Sequence[bytes]) -> None:
        rid = request.request_id
        try:
            self._cache.require(request.model_id, "asr")
        except ServiceError as exc:
            self._outbox.send(error_reply(rid, exc))
            return
        options = request.options
        settings = DecodeSettings(
            beam_size=options.beam_size,
            final_beam_size=options.final_beam_size,
            language=options.language,
            task=options.task,
        )
        live = _Live(request=request, decoder=_BoundDecoder(settings))
        live.inbox.extend(frame for frame in payload if frame)
        live.end_asked = request.audio_ended
        with self._lock:
            open_already = self._streams.get(rid)
            if open_already is not None:
                # A gateway bug: that stream ends (its one final reply), no second one opens.
                self._finish(
                    open_already,
                    ErrorReply(
                        request_id=rid,
                        code=ErrorCode.INVALID_REQUEST,
                        message=f"Stream {rid} was opened twice on this worker.",
                    ),
                )
                return
            self._streams[rid] = live
            self._kick(live)
        log.info("stream %s opened on %s (sid %s)", rid, request.model_id, request.sid)

    def audio(self, message: StreamAudio, payload: Sequence[bytes]) -> None:
        with self._lock:
            live = self._streams.get(message.request_id)
            if live is None:
                return  # already ended, failed or cancelled: the gateway stops soon
            live.inbox.extend(frame for frame in payload if frame)
            self._kick(live)

    def end(self, message: StreamEnd) -> None:
        with self._lock:
            live = self._streams.get(message.request_id)
            if live is None:
                return
            live.end_asked = True
            self._kick(live)

    def cancel(self, request_id: str) -> bool:
        """Drop a stream without a reply; False if no such stream is open."""
        with self._lock:
            live = self._streams.get(request_id)
            if live is None:
                return False
            self._finish(live, None)
        log.info("stream %s was cancelled", request_id)
        return True

    # ------------------------------------------------------------ on executor threads

    def model_unloaded(self, model_id: str) -> None:
        """The model is gone: each of its streams ends with MODEL_NOT_LOADED."""
        with self._lock:
            for live in [s for s in self._streams.values() if s.model_id == model_id]:
                self._finish(
                    live,
                    ErrorReply(
                        request_id=live.request_id,
                        code=ErrorCode.MODEL_NOT_LOADED,
                        message=f"Model {model_id} was unloaded while the stream was open.",
                        details={"model_id": model_id},
                    ),
                )

    def _service(self, live: _Live) -> None:
        """Feed what waits in the stream's inbox (the stream is busy meanwhile)."""
        with request_logging(live.request.http_request_id):
            self._guarded(live, lambda: self._take_in(live))

    def _guarded(self, live: _Live, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as exc:
            if not isinstance(exc, ServiceError):
                log.error("stream %s failed", live.request_id, exc_info=exc)
            with self._lock:
                self._finish(live, error_reply(live.request_id, exc))
        finally:
            self._release(live)

    def _take_in(self, live: _Live) -> None:
        if live.stream is None:
            live.pcm, live.stream, live.skip_samples = _build(live)
        pcm, stream = live.pcm, live.stream
        assert pcm is not None
        while True:
            with self._lock:
                if live.done:
                    return
                frames, live.inbox = live.inbox, []
                end_now = live.end_asked and not live.ended and not frames
            if live.ended and frames:
                log.warning("stream %s: audio after its end was dropped", live.request_id)
                continue
            for frame in frames:
                self._feed(live, stream, pcm.convert(frame))
            if end_now:
                self._feed(live, stream, pcm.flush())
                stream.end_audio()
                live.ended = True
            if not frames:
                return

    @staticmethod
    def _feed(live: _Live, stream: LiveStream, samples: npt.NDArray[np.float32]) -> None:
        if live.skip_samples:
            dropped = min(live.skip_samples, len(samples))
            samples = samples[dropped:]
            live.skip_samples -= dropped
        if samples.size:
            stream.feed(samples)

    def _run_decode(self, batch: list[Pending[Any]]) -> None:
        """A decode slot for one of the model's streams (the token says which model)."""
        model_id = str(batch[0].item)
        with self._lock:
            self._tokens[model_id] = max(0, self._tokens.get(model_id, 0) - 1)
            live = self._pick(model_id)
            if live is None:
                return
            live.busy = True
        with request_logging(live.request.http_request_id):
            self._guarded(live, lambda: self._decode(live))

    def _decode(self, live: _Live) -> None:
        stream = live.stream
        assert stream is not None
        started = time.monotonic()
        with (
            self._cache.use(live.model_id, WhisperEngine, Tally()) as engine,
            decode_stats(LIVE_PRIORITY),
        ):
            live.decoder.bind(engine.whisper_model)
            events = stream.decode()
        log.debug(
            "stream %s: %d events in %.0f ms",
            live.request_id,
            len(events),
            (time.monotonic() - started) * 1000,
        )
        with self._lock:
            if live.done:
                return  # cancelled or failed meanwhile: its captions no longer count
            for event in events:
                self._outbox.send(_caption(live.request_id, event))
                live.finals += isinstance(event, FinalCaption)
        self._take_in(live)  # what arrived while it decoded

    # ------------------------------------------------------------ bookkeeping (under the lock)

    def _kick(self, live: _Live) -> None:
        """Have an executor thread take in what waits, unless one works on the stream."""
        if live.busy or live.done:
            return
        live.busy = True
        try:
            self._submit(lambda: self._service(live))
        except RuntimeError:  # the executor is shut down: the worker is ending
            live.busy = False

    def _release(self, live: _Live) -> None:
        with self._lock:
            live.busy = False
            if live.done:
                if live.reply is not None:
                    self._outbox.send(live.reply)
                    live.reply = None
                return
            if live.inbox or (live.end_asked and not live.ended):
                self._kick(live)
                return
            stream = live.stream
            if stream is not None and stream.finished:
                self._finish(
                    live,
                    StreamClosed(
                        request_id=live.request_id,
                        finals=live.finals,
                        audio_ms=stream.received_ms,
                    ),
                )
                return
            self._top_up(live.model_id)

    def _finish(self, live: _Live, reply: WorkerMessage | None) -> None:
        """Decide the stream's final reply (None: it ends unanswered); sent now, or by the
        thread that works on it once it is done."""
        if live.done:
            return
        live.done = True
        self._streams.pop(live.request_id, None)
        if live.busy:
            live.reply = reply
        elif reply is not None:
            self._outbox.send(reply)

    def _candidates(self, model_id: str) -> list[tuple[_Live, Candidate]]:
        pairs = []
        for live in self._streams.values():
            if live.model_id != model_id:
                continue
            candidate = live.candidate()
            if candidate is not None:
                pairs.append((live, candidate))
        return pairs

    def _pick(self, model_id: str) -> _Live | None:
        pairs = self._candidates(model_id)
        chosen = choose([candidate for _, candidate in pairs])
        if chosen is None:
            return None
        counts = passed_over_after([candidate for _, candidate in pairs], chosen)
        picked = None
        for live, candidate in pairs:
            live.passed_over = counts[candidate.key]
            if candidate.key == chosen.key:
                picked = live
        return picked

    def _top_up(self, model_id: str) -> None:
        """One queued token per stream ready to decode (each takes a decode slot)."""
        ready = sum(1 for _, c in self._candidates(model_id) if c.eligible)
        queued = self._tokens.get(model_id, 0)
        for _ in range(min(ready, self._limit) - queued):
            token = Pending(model_id, None, 1, time.monotonic(), f"live:{next(self._token_ids)}")
            try:
                self._queues.put(
                    model_id, token, self._policy(model_id), self._run_decode, LIVE_CLASS
                )
            except ServiceError as exc:
                if exc.code == ErrorCode.MODEL_NOT_LOADED:
                    for live, _ in self._candidates(model_id):
                        self._finish(live, error_reply(live.request_id, exc))
                return  # a full lane: the next release tops up again
            self._tokens[model_id] = self._tokens.get(model_id, 0) + 1

    def _policy(self, model_id: str) -> LanePolicy:
        plan = self._cache.plan_of(model_id)
        return LanePolicy(
            max_batch_size=1,
            batch_timeout_s=0.0,
            concurrency=plan.concurrency,
            limit=self._limit,
            priority=LIVE_PRIORITY,
        )


def _build(live: _Live) -> tuple[PcmToStream, LiveStream, int]:
    """The stream's converter and LiveStream (resumed where `resume` says), and how many
    samples of the held audio to drop: those before the resume point."""
    request = live.request
    pcm = PcmToStream(request.encoding, request.sample_rate)
    held_start = max(0, request.held_start_sample)
    resume = request.resume
    if resume is None:
        state = ResumeState(start_sample=held_start, prompt=request.options.initial_prompt)
    else:
        # Held audio that starts after the resume point: the audio between is gone.
        state = ResumeState(
            start_sample=max(resume.start_sample, held_start),
            segment_index=resume.segment_index,
            prompt=resume.prompt,
            last_end_ms=resume.last_end_ms,
        )
    stream = LiveStream(live.decoder, resume=state)
    return pcm, stream, state.start_sample - held_start


def _caption(request_id: str, event: LiveEvent) -> CaptionPartial | CaptionFinal:
    if isinstance(event, PartialCaption):
        return CaptionPartial(
            request_id=request_id,
            segment_index=event.segment_index,
            text=event.text,
            stable_text=event.stable_text,
            audio_ms=event.audio_ms,
        )
    after = event.resume
    return CaptionFinal(
        request_id=request_id,
        segment_index=event.segment_index,
        text=event.text,
        start_ms=event.start_ms,
        end_ms=event.end_ms,
        words=[
            CaptionWord(
                text=w.text, start_ms=w.start_ms, end_ms=w.end_ms, probability=w.probability
            )
            for w in event.words
        ],
        end_sample=event.end_sample,
        reason=event.reason,
        audio_ms=event.audio_ms,
        resume=LiveResume(
            start_sample=after.start_sample,
            segment_index=after.segment_index,
            prompt=after.prompt,
            last_end_ms=after.last_end_ms,
        ),
    )
