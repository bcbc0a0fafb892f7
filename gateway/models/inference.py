"""Inference requests to the worker that holds the model, loading it on demand."""

from __future__ import annotations

import asyncio
import time

from gateway.models.manager import ModelManager
from gateway.models.records import ModelRecord
from gateway.models.result_cache import ResultCache, cache_key
from protocol.wire.messages import (
    DetectedLanguage,
    DetectLanguage,
    FinalReply,
    GatewayMessage,
    LanguagesDetected,
    Transcribe,
    TranscribeOptions,
    TranscribeResult,
    Translate,
    TranslateOptions,
    TranslateResult,
    WorkClass,
)

_HASH_INLINE_BYTES = 1 << 20


class InferenceService:
    def __init__(self, models: ModelManager, cache_size: int) -> None:
        self._models = models
        self._transcripts: ResultCache[TranscribeResult] = ResultCache(cache_size)

    async def transcribe(
        self,
        model_id: str,
        audio: bytes,
        audio_format: str,
        options: TranscribeOptions,
        sid: str | None = None,
        *,
        count: bool = True,
        work_class: WorkClass | None = None,
    ) -> TranscribeResult:
        """`work_class` None: the worker judges it from the audio's length."""
        started = time.perf_counter()
        params = (audio_format, options)
        # Hashing a large upload would stall the event loop: hash it on a thread.
        key = (
            await asyncio.to_thread(cache_key, model_id, audio, params)
            if len(audio) > _HASH_INLINE_BYTES
            else cache_key(model_id, audio, params)
        )
        cached = self._transcripts.get(key) if count else None
        if cached is not None:
            self._models.cache_hit(model_id, (time.perf_counter() - started) * 1000)
            return cached
        record = await self._models.ensure_loaded(model_id, sid)
        request_id = self._models.link.new_request_id()
        message = Transcribe(
            request_id=request_id,
            model_id=model_id,
            audio_format="pcm_s16le_16k" if audio_format == "pcm" else "container",
            options=options,
            work_class=work_class,
        )
        reply = await self._call(record, message, request_id, audio, count=count)
        assert isinstance(reply, TranscribeResult)
        if count:
            self._transcripts.put(key, reply)
        return reply

    async def detect_languages(
        self, model_id: str, texts: list[str], candidates: list[str]
    ) -> list[DetectedLanguage]:
        """Language of each text, detected on the worker that holds `model_id`."""
        record = await self._models.ensure_loaded(model_id)
        assert record.worker_id is not None
        request_id = self._models.link.new_request_id()
        message = DetectLanguage(request_id=request_id, texts=texts, candidates=candidates)
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
        try:
            reply = await self._models.link.request(
                record.worker_id, message, *payload, request_id=request_id
            )
            ok = True
            return reply
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            self._models.end_use(record, elapsed_ms, ok, count=count)
