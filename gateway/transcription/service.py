"""Transcription as clients ask for it: which model, which options over the session's, the
result cache, and the API's answer (segments, timings) built from the worker's result.

The service's own routes and the OpenAI-compatible ones both go through here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing

import msgspec

from gateway.inference.calls import InferenceService
from gateway.inference.result_cache import ResultCache, cache_key
from gateway.models.manager import ModelManager
from gateway.transcription.options import TranscribeParams, options_for
from gateway.transcription.upload import AudioUpload
from protocol.api.config import AsrConfig
from protocol.api.transcription import Segment, TranscriptionResponse, TranscriptionTimings
from protocol.options import TranscribeOptions
from protocol.wire.messages import Segment as WireSegment
from protocol.wire.messages import TranscribeResult

# Hashing a larger upload for the cache key would stall the event loop: it runs on a thread.
_HASH_INLINE_BYTES = 1 << 20


class TranscriptionService:
    def __init__(
        self,
        models: ModelManager,
        inference: InferenceService,
        default_model: str,
        cache_size: int,
    ) -> None:
        self._models = models
        self._inference = inference
        self._default_model = default_model
        self._cache: ResultCache[TranscribeResult] = ResultCache(cache_size)

    def model_for(self, asked: str | None, session: AsrConfig | None = None) -> str:
        """The model a request means (its own, else the session's, else the default);
        MODEL_NOT_FOUND before any audio is read if no such model exists."""
        model_id = asked or (session.model_id if session else self._default_model)
        self._models.entry(model_id)
        return model_id

    async def transcribe(
        self,
        upload: AudioUpload,
        params: TranscribeParams,
        session: AsrConfig | None = None,
        sid: str | None = None,
        *,
        since: float | None = None,
    ) -> TranscriptionResponse:
        """`since`: perf_counter() when the request arrived, where total_ms counts from
        (default: now)."""
        started = time.perf_counter() if since is None else since
        model_id = self.model_for(params.model_id, session)
        options = options_for(params, session)
        key, result = await self._lookup(model_id, upload, options)
        cached = result is not None
        if result is None:
            result = await self._inference.transcribe(
                model_id, upload.data, upload.encoding, upload.sample_rate, options, sid
            )
            self._cache.put(key, result)
        return transcription_response(result, cached, (time.perf_counter() - started) * 1000)

    async def stream(
        self, upload: AudioUpload, params: TranscribeParams, *, since: float | None = None
    ) -> AsyncGenerator[Segment | TranscriptionResponse, None]:
        """As `transcribe`, yielding each segment as the model decodes it (a cached answer's
        at once), then the whole answer. Closing the iterator early cancels the decode."""
        started = time.perf_counter() if since is None else since
        model_id = self.model_for(params.model_id)
        options = options_for(params, None)
        key, result = await self._lookup(model_id, upload, options)
        cached = result is not None
        if result is None:
            pieces = self._inference.transcribe_stream(
                model_id, upload.data, upload.encoding, upload.sample_rate, options
            )
            async with aclosing(pieces):
                async for piece in pieces:
                    if isinstance(piece, TranscribeResult):
                        result = piece
                    else:
                        yield _api_segment(piece)
            assert result is not None
            self._cache.put(key, result)
        else:
            for segment in result.segments:
                yield _api_segment(segment)
        yield transcription_response(result, cached, (time.perf_counter() - started) * 1000)

    async def _lookup(
        self, model_id: str, upload: AudioUpload, options: TranscribeOptions
    ) -> tuple[str, TranscribeResult | None]:
        """The result cache's key for this request, and its result if it holds one."""
        looked_up = time.perf_counter()
        key_params = (upload.encoding, upload.sample_rate, options)
        key = (
            await asyncio.to_thread(cache_key, model_id, upload.data, key_params)
            if len(upload.data) > _HASH_INLINE_BYTES
            else cache_key(model_id, upload.data, key_params)
        )
        result = self._cache.get(key)
        if result is not None:
            self._models.cache_hit(model_id, (time.perf_counter() - looked_up) * 1000)
        return key, result


def _api_segment(segment: WireSegment) -> Segment:
    return msgspec.convert(segment, Segment, from_attributes=True)


def transcription_response(
    result: TranscribeResult, cached: bool, total_ms: float
) -> TranscriptionResponse:
    """The API answer for a worker's result; `total_ms` as the gateway measured it."""
    # The worker measured how long the request queued and how long the model ran; a cached
    # answer waited for no worker and ran no model.
    queue_ms = 0.0 if cached else result.queue_ms
    inference_ms = 0.0 if cached else result.inference_ms
    return TranscriptionResponse(
        text=result.text,
        language=result.language,
        language_probability=result.language_probability,
        duration=result.duration,
        segments=msgspec.convert(result.segments, list[Segment], from_attributes=True),
        timings=TranscriptionTimings(
            queue_ms=round(queue_ms, 2),
            inference_ms=round(inference_ms, 2),
            total_ms=round(total_ms, 2),
            real_time_factor=round(inference_ms / 1000 / result.duration, 4)
            if result.duration
            else 0.0,
            batch_size=0 if cached else max(result.batch_size, 1),
        ),
        model_id=result.model_id,
        device=result.device,
    )
