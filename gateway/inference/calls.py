"""Inference requests to the worker that holds the model: load it on demand, call the
worker, count the use. Result caches live with the services that shape the answers."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from typing import Protocol

from gateway.models.manager import ModelManager
from gateway.models.records import ModelRecord
from protocol.errors import ServiceError
from protocol.log_lines import REQUEST_ID
from protocol.options import TranscribeOptions, TranslateOptions
from protocol.vocabulary import AudioEncoding
from protocol.wire.messages import (
    DetectedLanguage,
    DetectLanguage,
    FinalReply,
    GatewayMessage,
    LanguagesDetected,
    Segment,
    Transcribe,
    TranscribeResult,
    TranscribeSegment,
    Translate,
    TranslateResult,
    WorkClass,
)


class InferenceObserver(Protocol):
    """Told of each counted inference as it ends (the metrics: gateway/metrics/)."""

    def served(self, record: ModelRecord, reply: FinalReply) -> None: ...

    def failed(self, record: ModelRecord, error: ServiceError) -> None: ...


class InferenceService:
    def __init__(
        self,
        models: ModelManager,
        observer: InferenceObserver | None = None,
        max_audio_seconds: float = 0.0,
    ) -> None:
        self._models = models
        self._observer = observer
        self._max_audio_seconds = max_audio_seconds  # LX_MAX_AUDIO_SECONDS; 0: none

    async def transcribe(
        self,
        model_id: str,
        audio: bytes,
        encoding: AudioEncoding,
        sample_rate: int,
        options: TranscribeOptions,
        sid: str | None = None,
        *,
        count: bool = True,
        work_class: WorkClass | None = None,
    ) -> TranscribeResult:
        """`sample_rate` is that of raw samples (a container says its own); `work_class`
        None: the worker judges it from the audio's length."""
        record = await self._models.ensure_loaded(model_id, sid)
        request_id = self._models.link.new_request_id()
        message = Transcribe(
            request_id=request_id,
            model_id=model_id,
            audio_format=encoding,
            sample_rate=sample_rate,
            options=options,
            work_class=work_class,
            http_request_id=REQUEST_ID.get() or "",
            max_audio_seconds=self._max_audio_seconds,
        )
        reply = await self._call(record, message, request_id, audio, count=count)
        assert isinstance(reply, TranscribeResult)
        return reply

    async def transcribe_stream(
        self,
        model_id: str,
        audio: bytes,
        encoding: AudioEncoding,
        sample_rate: int,
        options: TranscribeOptions,
        sid: str | None = None,
    ) -> AsyncGenerator[Segment | TranscribeResult, None]:
        """As `transcribe`, yielding each segment as the worker decodes it, then the result.
        Closing the iterator early (or cancelling its reader) cancels the worker's decode,
        which then counts as neither served nor failed, as the worker counts it."""
        record = await self._models.ensure_loaded(model_id, sid)
        assert record.worker_id is not None
        request_id = self._models.link.new_request_id()
        message = Transcribe(
            request_id=request_id,
            model_id=model_id,
            audio_format=encoding,
            sample_rate=sample_rate,
            options=options,
            http_request_id=REQUEST_ID.get() or "",
            stream_segments=True,
            max_audio_seconds=self._max_audio_seconds,
        )
        started = time.perf_counter()
        self._models.begin_use(record)
        outcome: bool | None = None  # served, failed, or neither (the reader left)
        try:
            link = self._models.link
            async with link.stream(
                record.worker_id, message, audio, request_id=request_id
            ) as stream:
                async for partial in stream:
                    if isinstance(partial, TranscribeSegment):
                        yield partial.segment
                reply = stream.final
            outcome = True
        except ServiceError as error:
            outcome = False
            if self._observer is not None:
                self._observer.failed(record, error)
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            self._models.end_use(record, elapsed_ms, outcome is True, count=outcome is not None)
        assert isinstance(reply, TranscribeResult)
        if self._observer is not None:
            self._observer.served(record, reply)
        yield reply

    async def detect_languages(
        self, model_id: str, texts: list[str], candidates: list[str]
    ) -> list[DetectedLanguage]:
        """Language of each text, detected on the worker that holds `model_id`."""
        record = await self._models.ensure_loaded(model_id)
        assert record.worker_id is not None
        request_id = self._models.link.new_request_id()
        message = DetectLanguage(
            request_id=request_id,
            texts=texts,
            candidates=candidates,
            http_request_id=REQUEST_ID.get() or "",
        )
        reply = await self._models.link.request(record.worker_id, message, request_id=request_id)
        assert isinstance(reply, LanguagesDetected)
        return reply.languages

    async def translate(
        self,
        model_id: str,
        texts: list[str],
        source_language: str,
        target_language: str,
        options: TranslateOptions,
        sid: str | None = None,
        *,
        count: bool = True,
    ) -> TranslateResult:
        """Languages are the model's own codes (the caller maps ISO / BCP-47 / FLORES)."""
        record = await self._models.ensure_loaded(model_id, sid)
        request_id = self._models.link.new_request_id()
        message = Translate(
            request_id=request_id,
            model_id=model_id,
            texts=texts,
            source_language=source_language,
            target_language=target_language,
            options=options,
            http_request_id=REQUEST_ID.get() or "",
        )
        reply = await self._call(record, message, request_id, count=count)
        assert isinstance(reply, TranslateResult)
        return reply

    async def _call(
        self,
        record: ModelRecord,
        message: GatewayMessage,
        request_id: str,
        *payload: bytes,
        count: bool,
    ) -> FinalReply:
        """One request to the model's worker, counted in its status figures when `count`."""
        assert record.worker_id is not None
        started = time.perf_counter()
        self._models.begin_use(record)
        ok = False
        observer = self._observer if count else None
        try:
            reply = await self._models.link.request(
                record.worker_id, message, *payload, request_id=request_id
            )
            ok = True
        except ServiceError as error:
            if observer is not None:
                observer.failed(record, error)
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            self._models.end_use(record, elapsed_ms, ok, count=count)
        if observer is not None:
            observer.served(record, reply)
        return reply
