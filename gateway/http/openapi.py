"""The OpenAPI document, generated from the same msgspec Structs that validate the traffic,
so the documented schema and the enforced one cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from protocol.api.catalog import ASRModelsResponse, LanguageSupportResponse, MTModelsResponse
from protocol.api.config import (
    CreateSessionRequest,
    ModelConfig,
    SessionInfo,
    UpdateModelConfigRequest,
    UpdateModelConfigResponse,
)
from protocol.api.health import ModelHealthCheckResponse
from protocol.api.lifecycle import (
    DownloadModelResponse,
    HealthzResponse,
    LoadModelRequest,
    LoadModelResponse,
    ModelsStatusResponse,
    ReadyzResponse,
    UnloadModelResponse,
    WorkerListResponse,
    WorkerSummary,
)
from protocol.api.openai import OpenAIModel, OpenAIModelList, VerboseAudioText
from protocol.api.transcription import TranscriptionResponse
from protocol.api.translation import TranslateRequest, TranslateResponse
from protocol.errors import ErrorBody

_AUDIO = "audio"  # marks an operation whose body is audio bytes or a multipart upload


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    response: type
    request: type | str | None = None
    status: int = 200
    media_type: str = "application/json"  # of the success response


OPERATIONS = [
    Operation(
        "get", "/api/models/asr", "ASR catalog, locations, recommendations", ASRModelsResponse
    ),
    Operation("get", "/api/models/mt", "MT catalog and language pairs", MTModelsResponse),
    Operation(
        "get", "/api/languages/mt/{model_id}", "A model's languages", LanguageSupportResponse
    ),
    Operation("get", "/api/models/status", "Every model's status", ModelsStatusResponse),
    Operation(
        "post",
        "/api/models/{model_id}/load",
        "Load a model",
        LoadModelResponse,
        LoadModelRequest,
        202,
    ),
    Operation("post", "/api/models/{model_id}/unload", "Unload a model", UnloadModelResponse),
    Operation(
        "post",
        "/api/models/{model_id}/download",
        "Download a model's files without loading them",
        DownloadModelResponse,
        None,
        202,
    ),
    Operation(
        "post", "/api/models/{model_id}/health-check", "Check a model", ModelHealthCheckResponse
    ),
    Operation("post", "/api/sessions", "New session", SessionInfo, CreateSessionRequest, 201),
    Operation("get", "/api/sessions/{sid}", "A session", SessionInfo),
    Operation("delete", "/api/sessions/{sid}", "Remove a session", type(None), None, 204),
    Operation("get", "/api/sessions/{sid}/models/config", "A session's config", ModelConfig),
    Operation(
        "put",
        "/api/sessions/{sid}/models/config",
        "Change a session's config",
        UpdateModelConfigResponse,
        UpdateModelConfigRequest,
    ),
    Operation("post", "/api/asr/transcribe", "Transcribe audio", TranscriptionResponse, _AUDIO),
    Operation(
        "post",
        "/api/sessions/{sid}/transcribe",
        "Transcribe with a session's config",
        TranscriptionResponse,
        _AUDIO,
    ),
    Operation("post", "/api/mt/translate", "Translate text", TranslateResponse, TranslateRequest),
    Operation(
        "post",
        "/api/sessions/{sid}/translate",
        "Translate with a session's config",
        TranslateResponse,
        TranslateRequest,
    ),
    Operation(
        "post",
        "/v1/audio/transcriptions",
        "OpenAI-compatible transcription",
        VerboseAudioText,
        _AUDIO,
    ),
    Operation(
        "post",
        "/v1/audio/translations",
        "OpenAI-compatible translation to English",
        VerboseAudioText,
        _AUDIO,
    ),
    Operation("get", "/v1/models", "OpenAI-compatible model list", OpenAIModelList),
    Operation("get", "/v1/models/{model}", "One model, OpenAI-style", OpenAIModel),
    Operation("get", "/api/workers", "Workers", WorkerListResponse),
    Operation("get", "/api/workers/{worker_id}", "One worker", WorkerSummary),
    Operation("post", "/api/workers/{worker_id}/drain", "Drain a worker", WorkerSummary, None, 202),
    Operation("post", "/api/workers/{worker_id}/resume", "End a drain", WorkerSummary),
    Operation(
        "post", "/api/workers/{worker_id}/restart", "Restart a worker", WorkerSummary, None, 202
    ),
    Operation("get", "/healthz", "Gateway and worker liveness", HealthzResponse),
    Operation("get", "/metrics", "Prometheus metrics", str, media_type="text/plain; version=0.0.4"),
    Operation("get", "/readyz", "Readiness: a worker can serve the default model", ReadyzResponse),
]


def openapi_document() -> dict[str, Any]:
    types = {op.response for op in OPERATIONS if op.response is not type(None)}
    types |= {op.request for op in OPERATIONS if isinstance(op.request, type)}
    ordered = sorted(types | {ErrorBody}, key=lambda t: t.__name__)
    schemas, components = msgspec.json.schema_components(
        ordered, ref_template="#/components/schemas/{name}"
    )
    by_type = dict(zip(ordered, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, by_type)
    return {
        "openapi": "3.1.0",
        "info": {"title": "LoquiLex Models API", "version": "1"},
        "paths": paths,
        "components": {"schemas": components},
    }


def _operation(op: Operation, by_type: dict[type, Any]) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": by_type[ErrorBody]}}}
    success: dict[str, Any] = {"description": "OK"}
    if op.response is not type(None):
        success["content"] = {op.media_type: {"schema": by_type[op.response]}}
    document: dict[str, Any] = {
        "summary": op.summary,
        "responses": {str(op.status): success, "4XX": {"description": "Error", **error}},
    }
    parameters = [
        {"name": part[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
        for part in op.path.split("/")
        if part.startswith("{")
    ]
    if parameters:
        document["parameters"] = parameters
    if op.request == _AUDIO:
        document["requestBody"] = {
            "content": {
                "audio/*": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            }
        }
    elif isinstance(op.request, type):
        document["requestBody"] = {"content": {"application/json": {"schema": by_type[op.request]}}}
    return document
