"""Transcribe and Translate requests: checked, queued per model and class, run, answered.

Called from the I/O thread (`translate`, `transcribe`, `cancel`), which never waits: a
request that cannot run (model not loaded, lane full) is answered at once; the rest run on
the executor. Translations of one model that arrive close together share one
`translate_batch` call (one lane per model, as before classes of work); transcriptions of
one model run as many at a time as its decode plan says (worker/decode_plan.py: from the
cores or the GPU, or `asr_concurrency`), over its two lanes, and the windows of those
that run together share CTranslate2 calls (engines/batched_whisper.py), the calls of
higher-priority work first:

- `interactive` (priority over bulk): health probes, short clips;
- `bulk`: long files.

Live caption streams decode on the same slots from a third lane, `live`, at the interactive
priority (live_streams.py).

The class of a transcription is the one the gateway names on the request (`work_class`),
else the worker's judgement from the audio's size: raw PCM of at most
`INTERACTIVE_MAX_SECONDS` (its byte count gives the exact duration), or a container of at
most as many bytes as that PCM would take (exact for 16 kHz mono WAV; compressed audio
holds more per byte, so a small compressed file may be longer: a misjudged class costs
only waiting time, and the starvation rule of priorities.py bounds that). Anything larger
is bulk.

A transcription that asks for `stream_segments` also sends each segment as a
TranscribeSegment partial reply as soon as faster-whisper yields it.

`cancel` drops a request that still waits, without a reply; a transcription that runs is
asked to stop between two segments, and then sends no reply either (the gateway stopped
waiting). A translation batch that runs is shared by others and always finishes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from protocol.errors import ErrorCode, ServiceError
from protocol.log_lines import request_logging
from protocol.vocabulary import ModelKind
from protocol.wire.messages import (
    ErrorReply,
    LaneDepth,
    Segment,
    Transcribe,
    TranscribeSegment,
    Translate,
    TranslateResult,
    Translation,
    WorkClass,
    WorkerMessage,
)
from protocol.wire.tuning import WorkerTuning
from worker.engines.audio import decode_audio
from worker.engines.mt_batch import Outcome, batch_key, translate_together
from worker.engines.stopping import Stopped
from worker.engines.translation import TranslationEngine
from worker.engines.whisper import WhisperEngine
from worker.models.cache import ModelCache, Tally
from worker.outbox import Outbox
from worker.scheduling.batcher import Pending
from worker.scheduling.lanes import LanePolicy, RequestQueues, Runner, Submit

log = logging.getLogger(__name__)


INTERACTIVE_MAX_SECONDS = 30.0  # one Whisper window
_PCM_BYTES_PER_SECOND = 16_000 * 2  # pcm_s16le_16k
_INTERACTIVE_MAX_BYTES = int(INTERACTIVE_MAX_SECONDS * _PCM_BYTES_PER_SECOND)

_PRIORITY: dict[WorkClass, int] = {"interactive": 1, "bulk": 0}
_MT_CLASS: WorkClass = "interactive"


def work_class_of(request: Transcribe, audio_bytes: int) -> WorkClass:
    """The lane a transcription waits in (the rule of the module docstring)."""
    if request.work_class is not None:
        return request.work_class
    return "interactive" if audio_bytes <= _INTERACTIVE_MAX_BYTES else "bulk"


@dataclass(frozen=True)
class _Audio:
    request: Transcribe
    data: bytes
    stop: threading.Event
    priority: int  # its class of work's: its model calls wait with it


# Queued audio stays in memory: a tighter cap per lane keeps a burst of large uploads
# within _ASR_QUEUE_CAP x LX_MAX_UPLOAD_MB (interactive audio is small by its rule).
_ASR_QUEUE_CAP = 32


class InferenceQueues:
    def __init__(
        self, cache: ModelCache, outbox: Outbox, tuning: WorkerTuning, submit: Submit
    ) -> None:
        self._cache = cache
        self._outbox = outbox
        self._queues = RequestQueues(submit)
        self._mt_policy = LanePolicy(
            max_batch_size=tuning.batch_max_size,
            batch_timeout_s=tuning.batch_timeout_ms / 1000,
            # One batch at a time: the next one gathers while this one runs, and two
            # batches at once would only compete for the same cores.
            concurrency=1,
            limit=tuning.queue_limit,
            priority=_PRIORITY[_MT_CLASS],
        )
        self._asr_limit = min(tuning.queue_limit, _ASR_QUEUE_CAP)
        # Transcriptions queued or running, by request id: the flag a Cancel sets.
        self._stops: dict[str, threading.Event] = {}
        self._stops_lock = threading.Lock()

    @property
    def lanes(self) -> RequestQueues:
        """The models' lanes (live streams decode through them too: live_streams.py)."""
        return self._queues

    def close(self) -> None:
        self._queues.close()

    # ------------------------------------------------------------ on the I/O thread

    def translate(self, request: Translate) -> None:
        size = max(len(request.texts), 1)
        rid = request.request_id
        pending = Pending(request, batch_key(request), size, time.monotonic(), rid)
        self._enqueue(
            request.model_id,
            "mt",
            pending,
            lambda: self._mt_policy,
            self._run_translations,
            _MT_CLASS,
        )

    def transcribe(self, request: Transcribe, audio: bytes) -> None:
        rid = request.request_id
        stop = threading.Event()
        work_class = work_class_of(request, len(audio))
        priority = _PRIORITY[work_class]
        item = _Audio(request, audio, stop, priority)
        pending = Pending(item, None, 1, time.monotonic(), rid)
        with self._stops_lock:
            self._stops[rid] = stop

        def policy() -> LanePolicy:
            # The model's lanes share the decode slots its plan gives it (decode_plan.py),
            # long files only some of them; windows of the transcriptions that run
            # together batch beneath them.
            plan = self._cache.plan_of(request.model_id)
            return LanePolicy(
                max_batch_size=1,
                batch_timeout_s=0.0,
                concurrency=plan.concurrency,
                limit=self._asr_limit,
                priority=priority,
                max_running=plan.bulk_limit if work_class == "bulk" else None,
            )

        if not self._enqueue(
            request.model_id, "asr", pending, policy, self._run_transcription, work_class
        ):
            self._forget(rid)

    def depths(self) -> list[LaneDepth]:
        return self._queues.depths()

    def cancel(self, request_id: str) -> None:
        """The gateway no longer waits for this request (the module docstring says how)."""
        dropped = self._queues.cancel(request_id)
        with self._stops_lock:
            stop = self._stops.pop(request_id, None) if dropped else self._stops.get(request_id)
        if stop is not None:
            stop.set()
        if dropped:
            log.info("request %s was cancelled before it ran", request_id)

    def _enqueue(
        self,
        model_id: str,
        kind: ModelKind,
        pending: Pending[Translate] | Pending[_Audio],
        policy: Callable[[], LanePolicy],
        run: Runner,
        work_class: WorkClass,
    ) -> bool:
        """Queue a request, or answer it at once with why it cannot wait; True if queued."""
        try:
            self._cache.require(model_id, kind)
            self._queues.put(model_id, pending, policy(), run, work_class)
        except ServiceError as exc:
            self._outbox.send(error_reply(pending.request_id, exc))
            return False
        return True

    def _forget(self, request_id: str) -> None:
        with self._stops_lock:
            self._stops.pop(request_id, None)

    # ------------------------------------------------------------ on executor threads

    def _run_translations(self, batch: list[Pending[Translate]]) -> None:
        started = time.monotonic()
        requests = [pending.item for pending in batch]
        # One batch may serve several HTTP requests: its lines name them all.
        ids = ",".join(dict.fromkeys(r.http_request_id for r in requests if r.http_request_id))
        with request_logging(ids):
            self._translate_batch(batch, requests, started)

    def _translate_batch(
        self, batch: list[Pending[Translate]], requests: list[Translate], started: float
    ) -> None:
        try:
            outcomes = self._translate(requests)
        except Exception as exc:  # the model went away (unloaded) while they waited
            _log_unexpected(exc)
            replies: list[WorkerMessage] = [error_reply(r.request_id, exc) for r in requests]
        else:
            replies = [
                _translate_reply(
                    pending.item, outcome, self._cache.device, _ms(started - pending.enqueued_at)
                )
                for pending, outcome in zip(batch, outcomes, strict=True)
            ]
        log.info(
            "translated %d texts of %d requests with %s in %.0f ms",
            sum(len(r.texts) for r in requests),
            len(requests),
            requests[0].model_id,
            _ms(time.monotonic() - started),
        )
        # Sent only now: the engine is no longer referenced, so an unload that follows a
        # reply frees it all.
        for reply in replies:
            self._outbox.send(reply)

    def _translate(self, requests: list[Translate]) -> list[Outcome]:
        tally = Tally(requests=len(requests))
        with self._cache.use(requests[0].model_id, TranslationEngine, tally) as engine:
            outcomes = translate_together(engine, requests)
            tally.failed = sum(outcome.error is not None for outcome in outcomes)
        return outcomes

    def _run_transcription(self, batch: list[Pending[_Audio]]) -> None:
        for pending in batch:
            queue_ms = _ms(time.monotonic() - pending.enqueued_at)
            try:
                with request_logging(pending.item.request.http_request_id):
                    reply = self._transcribe(pending.item, queue_ms)
            finally:
                self._forget(pending.request_id)
            if reply is not None:
                self._outbox.send(reply)

    def _transcribe(self, audio: _Audio, queue_ms: float) -> WorkerMessage | None:
        """The reply, or None when the request was cancelled (nobody waits for it)."""
        request = audio.request
        if audio.stop.is_set():
            return None
        tally = Tally()
        try:
            samples = decode_audio(audio.data, request.audio_format, request.sample_rate)
            with self._cache.use(request.model_id, WhisperEngine, tally) as engine:
                try:
                    result = engine.transcribe(
                        samples,
                        request,
                        audio.stop.is_set,
                        audio.priority,
                        self._segment_sender(request),
                    )
                except Stopped:
                    tally.requests = 0  # neither served nor failed
                    log.info("request %s stopped: it was cancelled", request.request_id)
                    return None
        except Exception as exc:
            _log_unexpected(exc)
            return error_reply(request.request_id, exc)
        log.info(
            "transcribed %.1f s of audio with %s in %.0f ms (queued %.0f ms)",
            result.duration,
            request.model_id,
            result.inference_ms,
            queue_ms,
        )
        return msgspec.structs.replace(result, queue_ms=queue_ms)

    def _segment_sender(self, request: Transcribe) -> Callable[[Segment], None] | None:
        """Sends each segment as a partial reply when the request streams its answer."""
        if not request.stream_segments:
            return None
        rid = request.request_id
        return lambda segment: self._outbox.send(TranscribeSegment(request_id=rid, segment=segment))


def _translate_reply(
    request: Translate, outcome: Outcome, device: str, queue_ms: float
) -> WorkerMessage:
    if outcome.outputs is None:
        assert outcome.error is not None
        return error_reply(request.request_id, outcome.error)
    scores = request.options.return_scores
    return TranslateResult(
        request_id=request.request_id,
        model_id=request.model_id,
        device=device,
        translations=[
            Translation(text=o.text, score=o.score if scores else None, tokens=o.tokens)
            for o in outcome.outputs
        ],
        inference_ms=outcome.inference_ms,
        queue_ms=queue_ms,
        batch_size=outcome.batch_size,
    )


def error_reply(request_id: str, exc: Exception) -> ErrorReply:
    """The reply for a failed request: its own code, or INFERENCE_ERROR for anything else."""
    if isinstance(exc, ServiceError):
        return ErrorReply(
            request_id=request_id, code=exc.code, message=exc.message, details=exc.details
        )
    return ErrorReply(
        request_id=request_id,
        code=ErrorCode.INFERENCE_ERROR,
        message=f"{type(exc).__name__}: {exc}",
    )


def _log_unexpected(exc: Exception) -> None:
    if not isinstance(exc, ServiceError):  # a bug or a fault of the engine
        log.error("inference failed", exc_info=exc)


def _ms(seconds: float) -> float:
    return round(max(seconds, 0.0) * 1000, 2)
