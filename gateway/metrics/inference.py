"""Inference figures, from the worker's replies to the counted requests (health-check
probes and answers from the result cache are not inferences served by a model)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from gateway.models.records import ModelRecord
from protocol.errors import ServiceError
from protocol.wire.messages import FinalReply, TranscribeResult, TranslateResult

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_QUEUE_SECONDS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
_BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128)


class InferenceMetrics:
    """An InferenceObserver (gateway/inference/calls.py)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        by_model = ["model", "device", "kind"]
        self._duration = Histogram(
            "loquilex_inference_duration_seconds",
            "Inference time in the worker's engine (for translations: of the batch it ran in)",
            by_model,
            buckets=_SECONDS,
            registry=registry,
        )
        self._queue = Histogram(
            "loquilex_inference_queue_seconds",
            "Time a request waited in its worker's lane before it ran",
            by_model,
            buckets=_QUEUE_SECONDS,
            registry=registry,
        )
        self._batch = Histogram(
            "loquilex_inference_batch_size",
            "Requests (ASR) or texts (MT) of the batch each request ran in",
            ["model", "kind"],
            buckets=_BATCH_SIZES,
            registry=registry,
        )
        self._audio = Counter(
            "loquilex_audio_seconds_total",
            "Seconds of audio transcribed",
            ["model", "device"],
            registry=registry,
        )
        self._texts = Counter(
            "loquilex_translated_texts_total",
            "Texts translated",
            ["model", "device"],
            registry=registry,
        )
        self._failures = Counter(
            "loquilex_inference_failures_total",
            "Inference requests that failed, by error code",
            ["model", "kind", "code"],
            registry=registry,
        )

    def served(self, record: ModelRecord, reply: FinalReply) -> None:
        model = record.model_id
        if isinstance(reply, TranscribeResult):
            self._audio.labels(model, reply.device).inc(reply.duration)
        elif isinstance(reply, TranslateResult):
            self._texts.labels(model, reply.device).inc(len(reply.translations))
        else:
            return
        self._duration.labels(model, reply.device, record.kind).observe(reply.inference_ms / 1000)
        self._queue.labels(model, reply.device, record.kind).observe(reply.queue_ms / 1000)
        if reply.batch_size:  # 0: an older worker that does not say
            self._batch.labels(model, record.kind).observe(reply.batch_size)

    def failed(self, record: ModelRecord, error: ServiceError) -> None:
        self._failures.labels(record.model_id, record.kind, error.code.value).inc()
