"""The OpenAPI document covers every route the real app serves, from the declarations the
routes parse with: each parameter with its schema, each error status with its codes, the
WebSocket routes with their messages."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from starlette.routing import BaseRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from gateway.http.endpoints import COMMON_ERRORS, ApiRoute, Endpoint, NoParams, api_routes
from gateway.http.errors import HTTP_STATUS
from gateway.http.openapi import openapi_document
from gateway.http.ws_endpoints import CLOSE_BAD_PARAMETERS, ApiWebSocketRoute, WebSocketEndpoint
from protocol.api.events import EVENT_DATA
from protocol.errors import ErrorCode
from tests.support.app_client import LOOPBACK_WS

_NOT_DECLARED = "not_a_declared_parameter"


def _routes(client: TestClient) -> list[BaseRoute]:
    routes: list[BaseRoute] = getattr(client.app, "routes")  # noqa: B009 - typed as ASGIApp
    return routes


def _operations(client: TestClient) -> list[Endpoint[Any]]:
    return [e for r in _routes(client) if isinstance(r, ApiRoute) for e in r.operations.values()]


def _openapi_path(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_of_the_app_is_declared(client: TestClient) -> None:
    # A plain Starlette route could read parameters nothing documents: none may exist.
    undeclared = [
        getattr(r, "path", r)
        for r in _routes(client)
        if not isinstance(r, ApiRoute | ApiWebSocketRoute)
    ]
    assert undeclared == []
    paths = [r.path for r in _routes(client) if isinstance(r, ApiRoute)]
    assert len(paths) == len(set(paths)), "one route per path, holding all its methods"


def test_every_served_operation_is_documented_and_nothing_else(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    served = {
        (method.lower(), _openapi_path(route.path))
        for route in _routes(client)
        if isinstance(route, ApiRoute)
        for method in route.operations
    }
    assert documented == served
    sockets = {_openapi_path(r.path) for r in _routes(client) if isinstance(r, ApiWebSocketRoute)}
    assert set(document["x-websockets"]) == sockets
    assert "/ws" in sockets


def test_every_parameter_is_documented_with_its_schema(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for endpoint in _operations(client):
        operation = document["paths"][_openapi_path(endpoint.path)][endpoint.method.lower()]
        fields = {f.encode_name: f for f in msgspec.structs.fields(endpoint.params)}
        documented = {p["name"]: p for p in operation.get("parameters", [])}
        assert set(documented) == set(fields), endpoint.path
        for name, parameter in documented.items():
            assert parameter["in"] == ("path" if name in endpoint.path_names else "query")
            assert parameter["required"] == (name in endpoint.path_names or fields[name].required)
            assert parameter["schema"], (endpoint.path, name)
            assert {"type": "null"} not in parameter["schema"].get("anyOf", [])


def test_every_operation_refuses_a_parameter_it_does_not_declare(client: TestClient) -> None:
    # The handlers get their parameters from the declaration, so one it does not declare is
    # refused before any handler runs: no handler can read an undocumented parameter.
    for endpoint in _operations(client):
        answer = client.request(
            endpoint.method, _concrete(endpoint.path), params={_NOT_DECLARED: "1"}
        )
        assert answer.status_code == 400, (endpoint.method, endpoint.path, answer.text)
        error = answer.json()["error"]
        assert error["code"] == endpoint.params_error.value
        assert error["details"]["field"] == _NOT_DECLARED
        assert error["details"]["accepted"] == endpoint.query_names


def test_a_websocket_refuses_a_parameter_it_does_not_declare(client: TestClient) -> None:
    with (
        client.websocket_connect(f"{LOOPBACK_WS}/ws?{_NOT_DECLARED}=1") as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_text()
    assert closed.value.code == CLOSE_BAD_PARAMETERS
    assert _NOT_DECLARED in closed.value.reason


def test_every_error_status_lists_its_codes_in_the_envelope(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for endpoint in _operations(client):
        operation = document["paths"][_openapi_path(endpoint.path)][endpoint.method.lower()]
        codes = {*endpoint.errors, endpoint.params_error, *COMMON_ERRORS}
        if endpoint.path_names:
            codes.add(ErrorCode.NOT_FOUND)
        by_status: dict[str, set[str]] = {}
        for code in codes:
            by_status.setdefault(str(HTTP_STATUS[code]), set()).add(code.value)
        for status, expected in by_status.items():
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            envelope, narrowed = schema["allOf"]
            assert envelope == {"$ref": "#/components/schemas/ErrorBody"}
            enum = narrowed["properties"]["error"]["properties"]["code"]["enum"]
            assert expected <= set(enum), (endpoint.path, status)
        assert "500" in operation["responses"]


def test_options_and_405_list_the_methods_a_path_really_has(client: TestClient) -> None:
    answer = client.options("/api/sessions/sess_0123456789abcdef")
    assert answer.status_code == 204
    assert answer.headers["allow"] == "DELETE, GET, HEAD, OPTIONS"
    refused = client.patch("/api/sessions/sess_0123456789abcdef")
    assert refused.status_code == 405
    assert refused.headers["allow"] == "DELETE, GET, HEAD, OPTIONS"
    assert refused.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    config = client.options("/api/sessions/sess_0123456789abcdef/models/config")
    assert config.headers["allow"] == "GET, HEAD, OPTIONS, PUT"


def test_websocket_messages_are_components(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    events = document["x-websockets"]["/ws"]
    assert set(events["server_messages"]) == set(EVENT_DATA)
    schemas = document["components"]["schemas"]
    for name, data in EVENT_DATA.items():
        envelope, body = events["server_messages"][name]["allOf"]
        assert envelope == {"$ref": "#/components/schemas/Envelope"}
        assert body["properties"]["t"] == {"const": name}
        assert body["properties"]["data"] == {"$ref": f"#/components/schemas/{data.__name__}"}
        assert data.__name__ in schemas
    assert [p["name"] for p in events["parameters"]] == ["sid"]
    assert str(CLOSE_BAD_PARAMETERS) in events["close_codes"]


def test_schemas_are_the_contract_types(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    status = schemas["ModelStatus"]
    assert {"model_id", "status", "health_check", "performance_metrics"} <= set(status["required"])
    assert set(status["properties"]["status"]["enum"]) == {
        "not_loaded",
        "loading",
        "loaded",
        "error",
        "unloading",
    }
    load = document["paths"]["/api/models/{model_id}/load"]["post"]
    assert load["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/LoadModelRequest"
    }
    assert {"200", "202"} <= set(load["responses"])
    assert "warnings" in schemas["LoadModelResponse"]["required"]
    assert schemas["ErrorBody"]["required"] == ["error"]
    # Without a session there is no target to fall back on.
    translate = document["paths"]["/api/mt/translate"]["post"]["requestBody"]
    body = translate["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert "target_language" in schemas[body]["required"]
    target = schemas[body]["properties"]["target_language"]
    assert target.get("type") == "string" and "anyOf" not in target


def test_form_fields_are_documented(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    upload = document["paths"]["/api/asr/transcribe"]["post"]["requestBody"]["content"]
    form = upload["multipart/form-data"]["schema"]
    assert form["required"] == ["file"]
    assert {"file", "model_id", "beam_size", "word_timestamps"} <= set(form["properties"])
    assert "audio/wav" in upload and "audio/l16" in upload
    openai = document["paths"]["/v1/audio/transcriptions"]["post"]["requestBody"]["content"]
    assert set(openai) == {"multipart/form-data"}  # OpenAI's API takes a form only
    fields = openai["multipart/form-data"]["schema"]["properties"]
    assert {"file", "model", "response_format", "timestamp_granularities[]"} <= set(fields)
    assert set(fields["response_format"]["enum"]) == {"json", "text", "srt", "verbose_json", "vtt"}


def test_a_streamed_transcription_is_documented(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    post = document["paths"]["/v1/audio/transcriptions"]["post"]
    form = post["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert form["stream"] == {"type": "boolean", "default": False}
    answer = post["responses"]["200"]["content"]
    assert {"application/json", "text/plain", "text/vtt", "text/event-stream"} == set(answer)
    events = answer["text/event-stream"]["x-events"]["anyOf"]
    names = [event["$ref"].rsplit("/", 1)[1] for event in events]
    assert names == ["TranscriptTextDelta", "TranscriptTextDone", "TranscriptError"]
    schemas = document["components"]["schemas"]
    delta, done, error = (schemas[name] for name in names)
    assert delta["properties"]["type"] == {"enum": ["transcript.text.delta"]}
    assert set(delta["required"]) == {"type", "delta"}
    assert set(done["required"]) == {"type", "text"}
    assert error["properties"]["error"] == {"$ref": "#/components/schemas/ErrorInfo"}
    # OpenAI's API streams no translation: that form has no `stream`, and no events.
    translation = document["paths"]["/v1/audio/translations"]["post"]
    fields = translation["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert "stream" not in fields
    assert "text/event-stream" not in translation["responses"]["200"]["content"]


def _compute_config(document: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"]["LoadComputeConfig"]
    return schema


def test_a_cpu_only_deployment_documents_no_gpu_compute(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    load = _compute_config(document)["properties"]
    assert load["compute_type"]["anyOf"][0]["enum"] == ["float32", "int8"]
    assert load["device"]["anyOf"][0]["pattern"] == "^(cpu|auto)$"
    session = document["components"]["schemas"]["AsrComputeConfig"]["properties"]
    assert session["device"]["enum"] == ["auto", "cpu"]
    assert "float16" not in session["compute_type"]["enum"]


def test_with_a_gpu_float16_is_documented_but_not_on_the_cpu(client: TestClient) -> None:
    types = {
        "cpu": frozenset({"int8", "int8_float32", "float32"}),
        "cuda": frozenset({"int8", "float16", "float32"}),
    }
    document = openapi_document(_routes(client), types)
    config = _compute_config(document)
    assert "float16" in config["properties"]["compute_type"]["anyOf"][0]["enum"]
    assert config["properties"]["device"]["anyOf"][0]["pattern"] == "^(cpu|cuda|cuda:\\d+|auto)$"
    (refused,) = config["not"]["anyOf"]
    assert refused["properties"] == {
        "device": {"const": "cpu"},
        "compute_type": {"enum": ["float16"]},
    }


class _Hello(msgspec.Struct, kw_only=True, tag_field="type", tag="hello"):
    sample_rate: int


class _Partial(msgspec.Struct, kw_only=True, tag_field="type", tag="partial"):
    text: str


class _StreamParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    sid: str
    resume_from: int | None = None


async def _stream(websocket: Any, params: _StreamParams) -> None:
    await websocket.close()


def test_a_new_websocket_route_is_documented_from_its_one_declaration() -> None:
    # How the live-captions stream route (or any other) gets into the document: one entry.
    route = ApiWebSocketRoute(
        WebSocketEndpoint(
            "/api/sessions/{sid}/stream",
            "Live captions",
            _stream,
            _StreamParams,
            server_messages={"partial": _Partial},
            client_messages={"hello": _Hello},
            client_binary="16-bit mono PCM frames",
            close_codes={4404: "no such session"},
        )
    )
    document = openapi_document([route], {"cpu": frozenset({"int8"})})
    stream = document["x-websockets"]["/api/sessions/{sid}/stream"]
    assert stream["server_messages"]["partial"] == {"$ref": "#/components/schemas/_Partial"}
    assert stream["client_messages"]["hello"] == {"$ref": "#/components/schemas/_Hello"}
    assert {"_Partial", "_Hello"} <= set(document["components"]["schemas"])
    assert [(p["name"], p["in"], p["required"]) for p in stream["parameters"]] == [
        ("sid", "path", True),
        ("resume_from", "query", False),
    ]
    assert stream["close_codes"]["4404"] == "no such session"
    assert stream["client_binary"] == "16-bit mono PCM frames"


def test_a_declaration_whose_path_parameter_is_not_in_its_struct_fails_at_import() -> None:
    async def handler(request: Any, params: NoParams) -> Any:
        raise AssertionError("never called")

    with pytest.raises(TypeError, match="model_id"):
        api_routes(Endpoint("GET", "/x/{model_id}", "x", handler, NoParams, None))
