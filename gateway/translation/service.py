"""Translation as clients ask for it: any language code form, detection, long texts,
confidence and cached results, mapped onto the model's own codes and input limits."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TypeVar

from gateway.catalog.language_pairs import model_architecture, model_languages
from gateway.catalog.languages import Language, resolve_language, to_model_code
from gateway.inference.calls import InferenceService
from gateway.inference.result_cache import ResultCache, cache_key
from gateway.models.manager import ModelManager
from gateway.translation.text_splitting import chunk_texts, join_chunks
from protocol.api.catalog import MTModelInfo
from protocol.api.config import MtConfig
from protocol.api.translation import (
    DetectedSource,
    TranslatedText,
    TranslateRequest,
    TranslateResponse,
    TranslationTimings,
)
from protocol.errors import ErrorCode, ServiceError
from protocol.options import TranslateOptions
from protocol.wire.messages import Translation


@dataclass(frozen=True)
class _Done:
    text: str
    cached: bool  # every chunk of it came from the result cache
    score: float | None  # mean log-probability of its chunks, when scores were asked


@dataclass(frozen=True)
class _Worked:
    """What the worker measured of one request: waiting in its queue, running its batch."""

    queue_ms: float
    inference_ms: float


@dataclass(frozen=True)
class _Source:
    language: Language
    detected: DetectedSource | None


class TranslationService:
    def __init__(
        self,
        models: ModelManager,
        inference: InferenceService,
        default_model: str,
        max_text_chars: int,
        cache_size: int,
    ) -> None:
        self._models = models
        self._inference = inference
        self._default_model = default_model
        self._max_chars = max_text_chars
        self._cache: ResultCache[Translation] = ResultCache(cache_size)

    async def translate(
        self, request: TranslateRequest, session: MtConfig | None = None, sid: str | None = None
    ) -> TranslateResponse:
        started = time.perf_counter()
        model_id = request.model_id or (session.model_id if session else self._default_model)
        info = self._mt_info(model_id)
        architecture = model_architecture(info)
        texts = [request.text] if isinstance(request.text, str) else list(request.text)
        self._check_lengths(texts)
        target_code = request.target_language or (session.target_language if session else None)
        if target_code is None:
            raise ServiceError(
                ErrorCode.CONFIGURATION_ERROR,
                "Say which language to translate into: target_language.",
                {"field": "target_language"},
            )
        target = _resolve(target_code, "target_language")
        target_model_code = self._model_code(target, model_id, architecture, "target_language")
        source_code = request.source_language or (session.source_language if session else None)
        if source_code is not None:
            source = _Source(_resolve(source_code, "source_language"), None)
            sources = [source] * len(texts)
        else:
            sources = await self._detect(model_id, texts)
        options = options_for(request, session)
        outputs: list[TranslatedText | None] = [None] * len(texts)
        queue_ms = inference_ms = 0.0
        device = ""
        # Texts are translated in groups sharing one source language: one request each.
        for language in {s.language.key: s.language for s in sources}.values():
            indexes = [i for i, s in enumerate(sources) if s.language.key == language.key]
            src = self._model_code(language, model_id, architecture, "source_language")
            group = [texts[i] for i in indexes]
            results, worked, device = await self._translate_group(
                model_id, group, src, target_model_code, options, sid
            )
            queue_ms += worked.queue_ms
            inference_ms += worked.inference_ms
            for i, done in zip(indexes, results, strict=True):
                outputs[i] = TranslatedText(
                    text=done.text,
                    source_language=language.tag,
                    detected=sources[i].detected,
                    confidence=None if done.score is None else round(math.exp(done.score), 4),
                    cached=done.cached,
                )
        total_ms = (time.perf_counter() - started) * 1000
        return TranslateResponse(
            translations=[o for o in outputs if o is not None],
            target_language=target.tag,
            model_id=model_id,
            device=device or (self._models.record(model_id).device or ""),
            timings=TranslationTimings(
                queue_ms=round(queue_ms, 2),
                inference_ms=round(inference_ms, 2),
                total_ms=round(total_ms, 2),
            ),
        )

    async def _translate_group(
        self,
        model_id: str,
        texts: list[str],
        source: str,
        target: str,
        options: TranslateOptions,
        sid: str | None,
    ) -> tuple[list[_Done], _Worked, str]:
        """Each text's translation (long ones in chunks, cached chunks reused), what the
        worker measured, and the device it ran on."""
        # A character per token is the worst case (CJK, small vocabularies): chunks that
        # fit in tokens both in and out never get truncated.
        chunks = chunk_texts(texts, min(options.max_input_length, options.max_new_tokens))
        keys = [cache_key(model_id, c, (source, target, options)) for c in chunks.texts]
        found = [self._cache.get(k) for k in keys]
        missing = [i for i, hit in enumerate(found) if hit is None]
        worked, device = _Worked(0.0, 0.0), ""
        if missing:
            result = await self._inference.translate(
                model_id, [chunks.texts[i] for i in missing], source, target, options, sid
            )
            worked, device = _Worked(result.queue_ms, result.inference_ms), result.device
            for i, translation in zip(missing, result.translations, strict=True):
                found[i] = translation
                self._cache.put(keys[i], translation)
        else:
            self._models.cache_hit(model_id, 0.0)
        done = [t for t in found if t is not None]
        joined = join_chunks(chunks, [t.text for t in done], len(texts))
        results = []
        for owner, text in enumerate(joined):
            mine = [i for i, o in enumerate(chunks.owners) if o == owner]
            scores = [done[i].score for i in mine if done[i].score is not None]
            score = sum(s for s in scores if s is not None) / len(scores) if scores else None
            results.append(_Done(text, all(i not in missing for i in mine), score))
        return results, worked, device

    async def _detect(self, model_id: str, texts: list[str]) -> list[_Source]:
        entry = self._models.entry(model_id)
        candidates = sorted({lang.iso639_1 or lang.iso639_3 for lang in model_languages(entry)})
        found = await self._inference.detect_languages(model_id, texts, candidates)
        sources = []
        for index, guess in enumerate(found):
            try:
                language = resolve_language(guess.code)
            except ServiceError as exc:
                exc.details.update(field=f"text[{index}]", hint="give source_language")
                raise
            detected = DetectedSource(
                language=language.tag, probability=round(guess.probability, 4)
            )
            sources.append(_Source(language, detected))
        return sources

    def _mt_info(self, model_id: str) -> MTModelInfo:
        entry = self._models.entry(model_id)
        if not isinstance(entry.info, MTModelInfo):
            raise ServiceError(
                ErrorCode.CONFIGURATION_ERROR,
                f"{model_id} is a speech recognition model, not a translation model.",
                {"field": "model_id", "model_id": model_id},
            )
        return entry.info

    def _model_code(self, language: Language, model_id: str, architecture: str, field: str) -> str:
        entry = self._models.entry(model_id)
        supported = {lang.key for lang in model_languages(entry)}
        if language.key not in supported:
            raise ServiceError(
                ErrorCode.CONFIGURATION_ERROR,
                f"{model_id} does not translate {'into' if field == 'target_language' else 'from'} "
                f"{language.name} ({language.tag}).",
                {
                    "field": field,
                    "language": language.tag,
                    "model_id": model_id,
                    "supported_targets": sorted(lang.tag for lang in model_languages(entry)),
                },
            )
        return to_model_code(language, "nllb" if architecture == "nllb" else "m2m")

    def _check_lengths(self, texts: list[str]) -> None:
        for index, text in enumerate(texts):
            if len(text) > self._max_chars:
                raise ServiceError(
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"Text {index} has {len(text)} characters; the limit is {self._max_chars} "
                    "characters (LX_MAX_TEXT_CHARS).",
                    {"field": f"text[{index}]", "limit_chars": self._max_chars},
                )


def _resolve(code: str, field: str) -> Language:
    try:
        return resolve_language(code)
    except ServiceError as exc:
        exc.details["field"] = field
        raise


def options_for(request: TranslateRequest, session: MtConfig | None) -> TranslateOptions:
    """The request's decoding settings over the session's, over protocol.options' defaults."""
    base = session.parameters if session else TranslateOptions()
    return TranslateOptions(
        beam_size=_first(request.beam_size, base.beam_size),
        length_penalty=_first(request.length_penalty, base.length_penalty),
        no_repeat_ngram_size=_first(request.no_repeat_ngram_size, base.no_repeat_ngram_size),
        max_input_length=base.max_input_length,
        max_new_tokens=_first(request.max_new_tokens, base.max_new_tokens),
        return_scores=request.return_confidence,
    )


_T = TypeVar("_T")


def _first(asked: _T | None, otherwise: _T) -> _T:
    return otherwise if asked is None else asked
