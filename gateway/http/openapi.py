"""The OpenAPI document, generated from the routes' own declarations (gateway/http/endpoints.py,
gateway/http/ws_endpoints.py) and the msgspec Structs that validate the traffic, so the
documented parameters, bodies and errors cannot drift from the parsed ones.

The document is this deployment's: a compute type or device no worker here can run is left
out of the schemas, as the validators refuse it (float16 on a CPU-only machine).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import msgspec
from starlette.routing import BaseRoute

from gateway.http.endpoints import (
    COMMON_ERRORS,
    EVENT_STREAM,
    ApiRoute,
    AudioBody,
    Endpoint,
    JsonBody,
)
from gateway.http.errors import HTTP_STATUS
from gateway.http.ws_endpoints import CLOSE_BAD_PARAMETERS, ApiWebSocketRoute, WebSocketEndpoint
from protocol.errors import ErrorBody, ErrorCode

_REF = "#/components/schemas/{name}"
_BINARY = {"type": "string", "format": "binary"}
# Device kind ("cpu", "cuda") -> the compute types this deployment's workers of it run.
ComputeTypes = Mapping[str, frozenset[str]]


class OpenApiDocument:
    """The document for the current deployment, rebuilt only when what it depends on changes
    (a remote GPU worker joining makes float16 valid)."""

    def __init__(self, routes: Sequence[BaseRoute], compute_types: Callable[[], ComputeTypes]):
        self._routes = routes
        self._compute_types = compute_types
        self._key: tuple[tuple[str, tuple[str, ...]], ...] | None = None
        self._document: dict[str, Any] = {}

    def current(self) -> dict[str, Any]:
        types = self._compute_types()
        key = tuple(sorted((kind, tuple(sorted(found))) for kind, found in types.items()))
        if key != self._key:
            self._document = openapi_document(self._routes, types)
            self._key = key
        return self._document


def openapi_document(routes: Sequence[BaseRoute], compute_types: ComputeTypes) -> dict[str, Any]:
    endpoints = [e for r in routes if isinstance(r, ApiRoute) for e in r.operations.values()]
    sockets = [r.spec for r in routes if isinstance(r, ApiWebSocketRoute)]
    types = _types(endpoints, sockets)
    schemas, components = msgspec.json.schema_components(types, ref_template=_REF)
    by_type = dict(zip(types, schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        operation = _operation(endpoint, by_type, components)
        paths.setdefault(_openapi_path(endpoint.path), {})[endpoint.method.lower()] = operation
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "LoquiLex Models API", "version": "1"},
        "paths": paths,
        "x-websockets": {
            _openapi_path(s.path): _websocket(s, by_type, components) for s in sockets
        },
        "components": {"schemas": components},
    }
    _restrict_compute(components, compute_types)
    _drop_unreferenced(document)
    return document


def _types(endpoints: list[Endpoint[Any]], sockets: list[WebSocketEndpoint[Any]]) -> list[Any]:
    found: list[Any] = [ErrorBody]
    for e in endpoints:
        found += [e.params, *(e.response if isinstance(e.response, tuple) else [e.response])]
        found += e.event_stream
        if isinstance(e.body, JsonBody):
            found.append(e.body.schema)
        elif isinstance(e.body, AudioBody):
            found.append(e.body.fields)
    for s in sockets:
        found += [s.params, *s.server_messages.values(), *s.client_messages.values()]
        if s.envelope is not None:
            found.append(s.envelope)
    unique: list[Any] = []
    for kind in found:
        if kind is not None and kind not in unique:
            unique.append(kind)
    return unique


def _openapi_path(path: str) -> str:
    return "/".join(part.split(":")[0] + "}" if ":" in part else part for part in path.split("/"))


def _properties(kind: type, components: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """A Struct's fields as separate schemas (for parameters and form fields), with `null`
    taken out: in a query or a form, leaving a field out is how one says None."""
    schema = components[kind.__name__]
    props = {name: _without_null(s) for name, s in schema.get("properties", {}).items()}
    return props, set(schema.get("required", []))


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    options = schema.get("anyOf")
    if options is not None:
        kept = [o for o in options if o != {"type": "null"}]
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        if len(kept) == 1:
            return {**kept[0], **rest}
        return {**rest, "anyOf": kept}
    if "enum" in schema:
        return {**schema, "enum": [v for v in schema["enum"] if v is not None]}
    return {k: v for k, v in schema.items() if not (k == "default" and v is None)}


def _parameters(
    params: type, path_names: list[str], components: dict[str, Any]
) -> list[dict[str, Any]]:
    props, required = _properties(params, components)
    return [
        {
            "name": name,
            "in": "path" if name in path_names else "query",
            "required": name in path_names or name in required,
            "schema": schema,
        }
        for name, schema in props.items()
    ]


def _operation(
    endpoint: Endpoint[Any], by_type: dict[Any, Any], components: dict[str, Any]
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": endpoint.summary}
    parameters = _parameters(endpoint.params, endpoint.path_names, components)
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = _request_body(endpoint.body, by_type, components)
    responses: dict[str, Any] = {}
    for status in endpoint.statuses:
        responses[str(status)] = _success(endpoint, by_type)
    for status, codes in _error_codes(endpoint).items():
        responses[str(status)] = _error_response(codes, by_type[ErrorBody], status)
    operation["responses"] = responses
    return operation


def _request_body(
    body: JsonBody | AudioBody, by_type: dict[Any, Any], components: dict[str, Any]
) -> dict[str, Any]:
    if isinstance(body, JsonBody):
        return {
            "required": body.required,
            "content": {"application/json": {"schema": by_type[body.schema]}},
        }
    fields, required = _properties(body.fields, components)
    form: dict[str, Any] = {
        "type": "object",
        "properties": {"file": _BINARY, **fields},
        "required": ["file", *sorted(required)],
    }
    if components[body.fields.__name__].get("additionalProperties") is False:
        form["additionalProperties"] = False
    content: dict[str, Any] = {media: {"schema": _BINARY} for media in body.raw_media_types}
    content["multipart/form-data"] = {"schema": form}
    return {"required": True, "content": content}


def _success(endpoint: Endpoint[Any], by_type: dict[Any, Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": "OK"}
    if endpoint.response is not None:
        kinds = endpoint.response if isinstance(endpoint.response, tuple) else (endpoint.response,)
        schema = by_type[kinds[0]] if len(kinds) == 1 else {"anyOf": [by_type[k] for k in kinds]}
        if endpoint.media_type != "application/json":
            schema = {"type": "string"}
        content = {endpoint.media_type: {"schema": schema}}
        content |= {media: {"schema": {"type": "string"}} for media in endpoint.text_media_types}
        if endpoint.event_stream:
            content[EVENT_STREAM] = _event_stream(endpoint.event_stream, by_type)
        answer["content"] = content
    return answer


def _event_stream(events: tuple[type, ...], by_type: dict[Any, Any]) -> dict[str, Any]:
    # OpenAPI 3.1 has no schema for the items of a stream (3.2's itemSchema): the body is
    # text, and `x-events` gives the schema of each event's `data:` line.
    return {
        "schema": {"type": "string", "description": "server-sent events, one JSON `data:` each"},
        "x-events": {"anyOf": [by_type[kind] for kind in events]},
    }


def _error_codes(endpoint: Endpoint[Any]) -> dict[int, list[str]]:
    """Every code the operation may answer, by HTTP status: its own, a refused parameter or
    body, and those any operation may give."""
    codes = [*endpoint.errors, endpoint.params_error, *COMMON_ERRORS]
    if endpoint.body is not None:
        codes.append(ErrorCode.INVALID_REQUEST)  # not JSON, not multipart
    if endpoint.path_names:
        # A value the router cannot match (a slash in one segment, a line break) finds no
        # route at all.
        codes.append(ErrorCode.NOT_FOUND)
    by_status: dict[int, list[str]] = {}
    for code in codes:
        found = by_status.setdefault(HTTP_STATUS[code], [])
        if code.value not in found:
            found.append(code.value)
    return dict(sorted(by_status.items()))


def _error_response(codes: list[str], envelope: dict[str, Any], status: int) -> dict[str, Any]:
    schema = {
        "allOf": [
            envelope,
            {"properties": {"error": {"properties": {"code": {"enum": sorted(codes)}}}}},
        ]
    }
    answer: dict[str, Any] = {
        "description": ", ".join(sorted(codes)),
        "content": {"application/json": {"schema": schema}},
    }
    if status == 503:
        answer["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before trying again",
                "schema": {"type": "integer", "minimum": 1},
            }
        }
    return answer


def _websocket(
    socket: WebSocketEndpoint[Any], by_type: dict[Any, Any], components: dict[str, Any]
) -> dict[str, Any]:
    def message(name: str, kind: Any) -> dict[str, Any]:
        if socket.envelope is None:
            return dict(by_type[kind])
        return {
            "allOf": [
                by_type[socket.envelope],
                {
                    "type": "object",
                    "properties": {
                        socket.name_field: {"const": name},
                        socket.body_field: by_type[kind],
                    },
                    "required": [socket.name_field, socket.body_field],
                },
            ]
        }

    closes = {CLOSE_BAD_PARAMETERS: "a query parameter was refused (the reason says which)"}
    closes |= socket.close_codes
    described: dict[str, Any] = {
        "summary": socket.summary,
        "parameters": _parameters(socket.params, socket.path_names, components),
        "server_messages": {n: message(n, k) for n, k in socket.server_messages.items()},
        "client_messages": {n: message(n, k) for n, k in socket.client_messages.items()},
        "close_codes": {str(code): text for code, text in sorted(closes.items())},
    }
    if socket.client_binary is not None:
        described["client_binary"] = socket.client_binary
    return described


def _restrict_compute(components: dict[str, Any], compute_types: ComputeTypes) -> None:
    """Compute configs (a `device` and a `compute_type`) allow what this deployment runs: no
    device kind it has no worker for, no compute type none of them runs, and no compute type
    on a device kind that does not run it."""
    kinds = set(compute_types)
    every = set().union(*compute_types.values())
    for schema in components.values():
        props = schema.get("properties", {})
        if "device" not in props or "compute_type" not in props:
            continue
        _edit_leaves(props["device"], lambda leaf: _restrict_device(leaf, kinds))
        _edit_leaves(props["compute_type"], lambda leaf: _restrict_enum(leaf, every))
        named = {v for leaf in _leaves(props["compute_type"]) for v in leaf.get("enum", [])}
        refused = [
            {
                "required": ["device", "compute_type"],
                "properties": {
                    "device": {"const": kind},
                    "compute_type": {"enum": sorted(named - types)},
                },
            }
            for kind, types in sorted(compute_types.items())
            if named - types
        ]
        if refused:
            schema["not"] = {"anyOf": refused}


def _leaves(schema: dict[str, Any]) -> list[dict[str, Any]]:
    options: list[dict[str, Any]] = schema.get("anyOf", [schema])
    return options


def _edit_leaves(schema: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> None:
    for option in _leaves(schema):
        edit(option)


def _restrict_enum(leaf: dict[str, Any], allowed: set[str]) -> None:
    if "enum" in leaf:
        leaf["enum"] = [v for v in leaf["enum"] if v in allowed]


def _restrict_device(leaf: dict[str, Any], kinds: set[str]) -> None:
    if "enum" in leaf:
        leaf["enum"] = [v for v in leaf["enum"] if v == "auto" or v.partition(":")[0] in kinds]
    elif "pattern" in leaf and "cuda" not in kinds:
        leaf["pattern"] = "^(cpu|auto)$"


def _drop_unreferenced(document: dict[str, Any]) -> None:
    """Components nothing points to (parameter Structs, inlined as parameters) are left out."""
    components = document["components"]["schemas"]
    used: set[str] = set()
    pending = [{k: v for k, v in document.items() if k != "components"}]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                name = ref.rsplit("/", 1)[1]
                if name not in used:
                    used.add(name)
                    pending.append(components.get(name, {}))
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    for name in [n for n in components if n not in used]:
        del components[name]
