"""Model discovery: the ASR and MT catalogs and each translation model's languages."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from gateway.catalog.language_pairs import model_languages
from gateway.catalog.languages import Language, resolve_language
from gateway.catalog.local_models import to_model_info
from gateway.catalog.recommendations import recommend
from gateway.http.endpoints import Endpoint, NoParams, api_routes
from gateway.http.io import json_response
from gateway.services import Services, services
from protocol.api.catalog import (
    ASRModelsResponse,
    LanguageSupportResponse,
    MTModelsResponse,
)
from protocol.errors import ErrorCode, ServiceError
from protocol.options import Language as LanguageCode

PageLimit = Annotated[int, msgspec.Meta(ge=0, le=50_000)]
PageOffset = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]


class PairFilter(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # Language pairs from / into this language (ISO 639-1, BCP-47 or FLORES code).
    source: LanguageCode | None = None
    target: LanguageCode | None = None
    limit: PageLimit = 100
    offset: PageOffset = 0


class ModelPairFilter(PairFilter, kw_only=True, forbid_unknown_fields=True):
    model_id: str


def _language(code: str | None, name: str) -> Language | None:
    if code is None:
        return None
    try:
        return resolve_language(code)
    except ServiceError as exc:
        exc.details["field"] = name
        raise


async def _located(svc: Services, kind: str) -> list[Any]:
    """Catalog models of one kind with where each is on this machine, then local extras."""
    locations = await asyncio.to_thread(svc.discovery.locations)
    entries = svc.catalog.asr_entries() if kind == "asr" else svc.catalog.mt_entries()
    infos = [msgspec.structs.replace(e.info, location=locations.get(e.model_id)) for e in entries]
    for local in svc.discovery.local_models():
        if local.kind == kind:
            extra = to_model_info(local)
            infos.append(msgspec.structs.replace(extra, location=locations.get(local.model_id)))
    return infos


async def asr_models(request: Request, params: NoParams) -> Response:
    svc = services(request)
    models = await _located(svc, "asr")
    locations = {m.model_id: m.location for m in models if m.location is not None}
    # Measured for this machine; the catalog's own picks when nothing here fits.
    picks = recommend(svc.catalog, svc.resources, locations) or list(
        svc.catalog.asr_recommendations
    )
    return json_response(
        ASRModelsResponse(
            models=models, default_model=svc.settings.default_asr_model, recommendations=picks
        )
    )


async def mt_models(request: Request, params: PairFilter) -> Response:
    svc = services(request)
    pairs, total = svc.language_pairs.query(
        source=_language(params.source, "source"),
        target=_language(params.target, "target"),
        limit=params.limit,
        offset=params.offset,
    )
    return json_response(
        MTModelsResponse(
            models=await _located(svc, "mt"),
            default_model=svc.settings.default_mt_model,
            language_pairs=pairs,
            language_pairs_total=total,
        )
    )


async def mt_languages(request: Request, params: ModelPairFilter) -> Response:
    svc = services(request)
    model_id = params.model_id
    entry = svc.models.entry(model_id)
    if entry.kind != "mt":
        raise ServiceError(
            ErrorCode.MODEL_NOT_FOUND,
            f"{model_id} is a speech recognition model, not a translation model.",
            {
                "model_id": model_id,
                "suggested_alternatives": [e.model_id for e in svc.catalog.mt_entries()][:3],
            },
        )
    languages = model_languages(entry)
    source = _language(params.source, "source")
    pairs, total = svc.language_pairs.query(
        source=source,
        target=_language(params.target, "target"),
        model_id=model_id,
        limit=params.limit,
        offset=params.offset,
    )
    # Recommend for the asked source, else for the languages with the most training data.
    sources = (
        [source] if source else sorted(languages, key=lambda lang: -(lang.bitext_count or 0))[:5]
    )
    return json_response(
        LanguageSupportResponse(
            model_id=model_id,
            languages=[lang.info() for lang in languages],
            pairs=pairs,
            recommendations=svc.language_pairs.recommendations(model_id, sources),
            pairs_total=total,
        )
    )


routes = api_routes(
    Endpoint(
        "GET",
        "/api/models/asr",
        "ASR catalog, where each model is here, recommendations",
        asr_models,
        NoParams,
        ASRModelsResponse,
    ),
    Endpoint(
        "GET",
        "/api/models/mt",
        "MT catalog and language pairs (filtered, paged)",
        mt_models,
        PairFilter,
        MTModelsResponse,
        errors=(ErrorCode.CONFIGURATION_ERROR,),
    ),
    Endpoint(
        "GET",
        "/api/languages/mt/{model_id:path}",
        "A translation model's languages and pairs",
        mt_languages,
        ModelPairFilter,
        LanguageSupportResponse,
        errors=(ErrorCode.MODEL_NOT_FOUND, ErrorCode.CONFIGURATION_ERROR),
    ),
)
