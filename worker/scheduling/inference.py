"""Transcribe and Translate requests: checked, queued per model, run in batches, answered.

Called from the I/O thread (`translate`, `transcribe`), which never waits: a request that
cannot run (model not loaded, queue full) is answered at once; the rest run on the executor.
Translations of one model that arrive close together share one `translate_batch` call;
transcriptions of one model run `asr_concurrency` at a time, in arrival order.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import msgspec

from protocol.errors import ErrorCode, ServiceError
from protocol.vocabulary import ModelKind
from protocol.wire.messages import (
    ErrorReply,
    Transcribe,
    Translate,
    TranslateResult,
    Translation,
    WorkerMessage,
)
from worker.engines.audio import decode_audio
from worker.engines.mt_batch import Outcome, batch_key, translate_together
from worker.engines.translation import TranslationEngine
from worker.engines.whisper import WhisperEngine
from worker.models.cache import ModelCache, Tally
from worker.outbox import Outbox
from worker.scheduling.batcher import Pending
from worker.scheduling.lanes import LanePolicy, RequestQueues, Runner, Submit

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueueSettings:
    batch_max_size: int = 32  # texts per translate_batch call; 1 turns batching off
    batch_timeout_ms: float = 5.0  # how long a translation waits for others to join it
    queue_limit: int = 256  # requests waiting per model before QUEUE_FULL
    asr_concurrency: int = 1  # transcriptions of one model running at once


@dataclass(frozen=True)
class _Audio:
    request: Transcribe
    data: bytes


_ASR_QUEUE_CAP = 32


class InferenceQueues:
    def __init__(
        self, cache: ModelCache, outbox: Outbox, settings: QueueSettings, submit: Submit
    ) -> None:
        self._cache = cache
        self._outbox = outbox
        self._queues = RequestQueues(submit)
        limit = max(settings.queue_limit, 1)
        self._mt_policy = LanePolicy(
            max_batch_size=max(settings.batch_max_size, 1),
            batch_timeout_s=max(settings.batch_timeout_ms, 0.0) / 1000,
            # One batch at a time: the next one gathers while this one runs, and two
            # batches at once would only compete for the same cores.
            concurrency=1,
            limit=limit,
        )
        self._asr_policy = LanePolicy(
            max_batch_size=1,
            batch_timeout_s=0.0,
            concurrency=max(settings.asr_concurrency, 1),
            # Queued audio stays in memory: a tighter cap keeps a burst of large uploads
            # within _ASR_QUEUE_CAP x LX_MAX_UPLOAD_MB.
            limit=min(limit, _ASR_QUEUE_CAP),
        )

    def close(self) -> None:
        self._queues.close()

    # ------------------------------------------------------------ on the I/O thread

    def translate(self, request: Translate) -> None:
        size = max(len(request.texts), 1)
        pending = Pending(request, batch_key(request), size, time.monotonic())
        self._enqueue(
            request.request_id,
            request.model_id,
            "mt",
            pending,
            self._mt_policy,
            self._run_translations,
        )

    def transcribe(self, request: Transcribe, audio: bytes) -> None:
        pending = Pending(_Audio(request, audio), None, 1, time.monotonic())
        self._enqueue(
            request.request_id,
            request.model_id,
            "asr",
            pending,
            self._asr_policy,
            self._run_transcription,
        )

    def _enqueue(
        self,
        request_id: str,
        model_id: str,
        kind: ModelKind,
        pending: Pending[Translate] | Pending[_Audio],
        policy: LanePolicy,
        run: Runner,
    ) -> None:
        try:
            self._cache.require(model_id, kind)
            self._queues.put(model_id, pending, policy, run)
        except ServiceError as exc:
            self._outbox.send(error_reply(request_id, exc))

    # ------------------------------------------------------------ on executor threads

    def _run_translations(self, batch: list[Pending[Translate]]) -> None:
        started = time.monotonic()
        requests = [pending.item for pending in batch]
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
            self._outbox.send(self._transcribe(pending.item, queue_ms))

    def _transcribe(self, audio: _Audio, queue_ms: float) -> WorkerMessage:
        request = audio.request
        try:
            samples = decode_audio(audio.data, request.audio_format, request.sample_rate)
            with self._cache.use(request.model_id, WhisperEngine) as engine:
                result = engine.transcribe(samples, request)
        except Exception as exc:
            _log_unexpected(exc)
            return error_reply(request.request_id, exc)
        return msgspec.structs.replace(result, queue_ms=queue_ms)


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
