"""POST /api/models/{id}/health-check: a real small inference plus memory and GPU checks."""

from __future__ import annotations

import math
import struct

from gateway.catalog.language_pairs import model_architecture
from gateway.inference.calls import InferenceService
from gateway.models.manager import ModelManager
from gateway.models.records import utc_now
from gateway.workers.pool import WorkerPool, WorkerState
from protocol.api.catalog import ASRModelInfo, MTModelInfo
from protocol.api.health import (
    GpuCheck,
    HealthChecks,
    InferenceCheck,
    LoadingCheck,
    MemoryCheck,
    ModelHealthCheckResponse,
)
from protocol.api.lifecycle import Health
from protocol.errors import ServiceError
from protocol.options import TranscribeOptions, TranslateOptions
from protocol.vocabulary import WHISPER_SAMPLE_RATE

_MEMORY_WARN_FRACTION = 0.9
_GPU_WARN_PERCENT = 95.0
_SLOW_FACTOR = 3.0  # a probe this many times slower than the model's average is "degraded"


def probe_audio(seconds: float = 1.0, rate: int = WHISPER_SAMPLE_RATE) -> bytes:
    """A generated tone as raw 16 kHz 16-bit PCM: real audio without any file."""
    count = int(seconds * rate)
    return struct.pack(
        f"<{count}h", *(int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(count))
    )


class HealthChecker:
    def __init__(
        self,
        models: ModelManager,
        inference: InferenceService,
        pool: WorkerPool,
        limit_mb: int | None,
    ) -> None:
        self._models = models
        self._inference = inference
        self._pool = pool
        self._limit_mb = limit_mb

    async def check(self, model_id: str) -> ModelHealthCheckResponse:
        entry = self._models.entry(model_id)
        record = self._models.record(model_id)
        tips: list[str] = []
        if record.status != "loaded":
            tips.append(f"Load the model first: POST /api/models/{model_id}/load")
            return ModelHealthCheckResponse(
                model_id=model_id,
                status="unhealthy",
                checks=HealthChecks(
                    loading=LoadingCheck(status="fail", message=f"status is {record.status}"),
                    inference=InferenceCheck(status="fail", message="model not loaded"),
                    memory=MemoryCheck(status="pass", usage_mb=0.0, limit_mb=self._limit()),
                ),
                recommendations=tips,
                checked_at=utc_now(),
            )
        average = record.stats.metrics().avg_inference_time_ms
        inference = await self._probe(model_id, entry.info)
        worker = self._pool.get(record.worker_id or "")
        memory = self._memory_check(record.memory_usage_mb, worker)
        gpu = self._gpu_check(worker)
        if inference.status == "fail":
            tips.append("Inference failed: reload the model, and check the worker log")
        elif average and inference.latency_ms and inference.latency_ms > _SLOW_FACTOR * average:
            tips.append("The probe ran much slower than usual: the worker may be overloaded")
        if memory.status == "fail":
            tips.append("Memory is near the limit: unload idle models or use int8")
        if gpu is not None and gpu.status == "fail":
            tips.append("GPU memory is nearly full: move a model to CPU or unload one")
        if record.stats.error_rate > 0.1:
            tips.append(f"{record.stats.error_rate:.0%} of requests failed recently")
        status: Health = "healthy" if not tips else "degraded"
        if inference.status == "fail":
            status = "unhealthy"
        record.last_checked = utc_now()
        return ModelHealthCheckResponse(
            model_id=model_id,
            status=status,
            checks=HealthChecks(
                loading=LoadingCheck(status="pass"), inference=inference, memory=memory, gpu=gpu
            ),
            recommendations=tips,
            checked_at=record.last_checked,
        )

    async def _probe(self, model_id: str, info: ASRModelInfo | MTModelInfo) -> InferenceCheck:
        try:
            if isinstance(info, MTModelInfo):
                codes = info.supported_languages
                nllb = model_architecture(info) == "nllb"
                source, target = ("eng_Latn", "fra_Latn") if nllb else ("en", "fr")
                if source not in codes or target not in codes:
                    source, target = codes[0], codes[1]
                result = await self._inference.translate(
                    model_id,
                    ["Hello."],
                    source,
                    target,
                    TranslateOptions(beam_size=1),
                    count=False,
                )
                elapsed = result.inference_ms
            else:
                transcription = await self._inference.transcribe(
                    model_id,
                    probe_audio(),
                    "pcm_s16le",
                    WHISPER_SAMPLE_RATE,
                    TranscribeOptions(beam_size=1, best_of=1),
                    count=False,
                    work_class="interactive",  # a probe must not wait behind long files
                )
                elapsed = transcription.inference_ms
        except ServiceError as exc:
            return InferenceCheck(status="fail", message=f"{exc.code.value}: {exc.message}")
        return InferenceCheck(status="pass", latency_ms=round(elapsed, 2))

    def _limit(self, worker_total: float | None = None) -> float:
        return float(self._limit_mb or worker_total or 0.0)

    def _memory_check(self, usage_mb: float, worker: WorkerState | None) -> MemoryCheck:
        memory = None if worker is None else worker.memory
        limit = self._limit(memory.total_mb if memory is not None else None)
        used = memory.process_rss_mb if memory is not None else usage_mb
        ok = not limit or used < _MEMORY_WARN_FRACTION * limit
        return MemoryCheck(status="pass" if ok else "fail", usage_mb=usage_mb, limit_mb=limit)

    def _gpu_check(self, worker: WorkerState | None) -> GpuCheck | None:
        if worker is None or not worker.device.startswith("cuda"):
            return None
        memory = worker.memory
        if memory is None or not memory.total_mb:
            return None
        percent = round(100 * memory.device_used_mb / memory.total_mb, 1)
        return GpuCheck(
            status="pass" if percent < _GPU_WARN_PERCENT else "fail", usage_percent=percent
        )
