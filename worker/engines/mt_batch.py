"""Several Translate requests as one `translate_batch` call, each request getting its slice.

Requests may share a call only when the call would be the same for each alone: same source
and target language and the same decoding options. `return_scores` is left out of the key:
the engine always computes scores, and each reply keeps or drops them on its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

import msgspec

from protocol.errors import ServiceError
from protocol.options import TranslateOptions
from protocol.wire.messages import Translate
from worker.engines.translation import TranslationOutput

log = logging.getLogger(__name__)


class Translator(Protocol):
    def translate_batch(
        self, texts: list[str], source_lang: str, target_lang: str, options: TranslateOptions
    ) -> list[TranslationOutput]: ...


@dataclass(frozen=True)
class Outcome:
    """What one request gets back: its outputs, or the error that its texts alone raised."""

    outputs: list[TranslationOutput] | None
    error: Exception | None
    batch_size: int  # texts in the translate_batch call it ran in
    inference_ms: float  # how long that call took


def batch_key(request: Translate) -> Hashable:
    options = msgspec.structs.replace(request.options, return_scores=False)
    return (request.source_language, request.target_language, msgspec.structs.astuple(options))


def translate_together(engine: Translator, requests: Sequence[Translate]) -> list[Outcome]:
    """One call for all `requests` (they must share a `batch_key`), one Outcome per request."""
    head = requests[0]
    texts = [text for request in requests for text in request.texts]
    started = time.perf_counter()
    try:
        outputs = engine.translate_batch(
            texts, head.source_language, head.target_language, head.options
        )
    except Exception as exc:
        if len(requests) == 1:
            if not isinstance(exc, ServiceError):
                log.error("translation failed", exc_info=exc)
            # Its traceback would keep the engine's frames, and so the engine, alive.
            return [Outcome(None, exc.with_traceback(None), len(texts), _ms_since(started))]
        # One bad request (a text over the length limit) must not fail the others, and its
        # error must name its own text index: run each alone.
        return [translate_together(engine, [request])[0] for request in requests]
    elapsed_ms = _ms_since(started)
    outcomes = []
    start = 0
    for request in requests:
        end = start + len(request.texts)
        outcomes.append(Outcome(outputs[start:end], None, len(texts), elapsed_ms))
        start = end
    return outcomes


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
