"""Model discovery: the ASR and MT catalogs and each translation model's languages."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.catalog.language_pairs import model_languages
from gateway.catalog.languages import Language, resolve_language
from gateway.catalog.local_models import to_model_info
from gateway.catalog.recommendations import recommend
from gateway.http.io import int_param, json_response
from gateway.services import Services, services
from protocol.api.catalog import (
    ASRModelsResponse,
    LanguageSupportResponse,
    MTModelsResponse,
)
from protocol.errors import ErrorCode, ServiceError

_MAX_PAGE = 50_000


def _language_param(request: Request, name: str) -> Language | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return resolve_language(raw)
    except ServiceError as exc:
        exc.details["field"] = name
        raise


def _page(request: Request) -> tuple[int, int]:
    return int_param(request, "limit", 100, 0, _MAX_PAGE), int_param(
        request, "offset", 0, 0, 10_000_000
    )


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


async def asr_models(request: Request) -> Response:
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


async def mt_models(request: Request) -> Response:
    svc = services(request)
    limit, offset = _page(request)
    pairs, total = svc.language_pairs.query(
        source=_language_param(request, "source"),
        target=_language_param(request, "target"),
        limit=limit,
        offset=offset,
    )
    return json_response(
        MTModelsResponse(
            models=await _located(svc, "mt"),
            default_model=svc.settings.default_mt_model,
            language_pairs=pairs,
            language_pairs_total=total,
        )
    )


async def mt_languages(request: Request) -> Response:
    svc = services(request)
    model_id = request.path_params["model_id"]
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
    source = _language_param(request, "source")
    limit, offset = _page(request)
    pairs, total = svc.language_pairs.query(
        source=source,
        target=_language_param(request, "target"),
        model_id=model_id,
        limit=limit,
        offset=offset,
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


routes = [
    Route("/api/models/asr", asr_models, methods=["GET"]),
    Route("/api/models/mt", mt_models, methods=["GET"]),
    Route("/api/languages/mt/{model_id:path}", mt_languages, methods=["GET"]),
]
