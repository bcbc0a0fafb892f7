"""Each HTTP operation declared once, as an `Endpoint`: method, path, summary, the Struct of its
path and query parameters, its body, its answer and the error codes it may give.

The route parses the parameters with that Struct before the handler runs (an unknown or
malformed one is refused with 400 naming it), and the OpenAPI document is generated from the
same declarations (gateway/http/openapi.py), so what is documented is what is parsed. A handler
gets its parameters as the Struct and never reads `request.query_params` itself.

To add a route: declare an `Endpoint` beside its handler and pass it to its module's
`api_routes(...)`; every operation of one path goes into the same call (one route per path, so
405 and OPTIONS list every method the path has).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import Route, compile_path
from starlette.types import Receive, Scope, Send

from gateway.http.io import validation_error
from protocol.errors import ErrorCode, ServiceError

P = TypeVar("P", bound=msgspec.Struct)
EVENT_STREAM = "text/event-stream"  # server-sent events
Method = Literal["GET", "POST", "PUT", "DELETE"]

# Codes any operation may answer besides its own: a bug (logged), and the guards every
# request passes (token, Origin, Host). Middleware that can refuse any request adds its code
# here, once, for every operation.
COMMON_ERRORS: tuple[ErrorCode, ...] = (
    ErrorCode.INTERNAL_ERROR,
    ErrorCode.UNAUTHORIZED,
    ErrorCode.ORIGIN_NOT_ALLOWED,
    ErrorCode.HOST_NOT_ALLOWED,
)


class NoParams(msgspec.Struct, forbid_unknown_fields=True):
    """An operation without path or query parameters: any query parameter is refused."""


@dataclass(frozen=True)
class JsonBody:
    """A JSON body validated by `schema` (a msgspec Struct); optional: empty means defaults."""

    schema: type
    required: bool = False


@dataclass(frozen=True)
class AudioBody:
    """Audio as the raw body (one of `raw_media_types`; none: multipart only) or as a multipart
    `file`, with the other multipart fields as `fields` (a Struct) declares them."""

    fields: type
    raw_media_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Endpoint(Generic[P]):
    method: Method
    path: str  # as Starlette routes it: `{name}` or `{name:path}`
    summary: str
    handler: Callable[[Request, P], Awaitable[Response]]
    params: type[P]
    # The success body's type (a Struct, or a tuple of the Structs it may be); None: no body.
    response: Any
    statuses: tuple[int, ...] = (200,)
    # The success body's media type; one other than JSON is text (`response` is then str).
    media_type: str = "application/json"
    # Other media types the success body may come as (plain-text renderings), as strings.
    text_media_types: tuple[str, ...] = ()
    body: JsonBody | AudioBody | None = None
    errors: tuple[ErrorCode, ...] = ()
    # The code of a refused parameter (the transcription options keep CONFIGURATION_ERROR).
    params_error: ErrorCode = ErrorCode.INVALID_REQUEST
    # When the success body may come as EVENT_STREAM (asked for with a field of the body):
    # the Structs each event's `data:` line may hold.
    event_stream: tuple[type, ...] = ()

    @property
    def path_names(self) -> list[str]:
        return list(compile_path(self.path)[2])

    @property
    def query_names(self) -> list[str]:
        path = set(self.path_names)
        return [f.encode_name for f in msgspec.structs.fields(self.params) if f.name not in path]

    def check(self) -> None:
        """Declaration mistakes fail at import, not at the first request."""
        fields = {f.encode_name: f for f in msgspec.structs.fields(self.params)}
        for name in self.path_names:
            field = fields.get(name)
            if field is None or field.required is False:
                raise TypeError(
                    f"{self.method} {self.path}: path parameter {name!r} must be a required "
                    f"field of {self.params.__name__}"
                )
        if not self.params.__struct_config__.forbid_unknown_fields:
            raise TypeError(f"{self.params.__name__} must forbid unknown fields")

    def parse(self, request: Request) -> P:
        return parse_parameters(self.params, self.path_names, request, self.params_error)


def parse_parameters(
    params: type[P], path_names: Sequence[str], connection: HTTPConnection, code: ErrorCode
) -> P:
    """The path and query parameters of a request (or WebSocket) as the Struct; 400 (`code`)
    naming a parameter that is unknown or malformed."""
    query = connection.query_params
    accepted = [f.encode_name for f in msgspec.structs.fields(params) if f.name not in path_names]
    for name in query:
        if name not in accepted:
            takes = ", ".join(accepted) if accepted else "none"
            raise ServiceError(
                code,
                f"Unknown query parameter {name!r}; this operation takes {takes}.",
                {"field": name, "in": "query", "accepted": accepted},
            )
    lists = _list_fields(params)
    values: dict[str, Any] = {}
    for name in query:
        given = query.getlist(name)
        if name not in lists and len(given) > 1:
            raise ServiceError(
                code,
                f"Query parameter {name!r} is given {len(given)} times; it takes one value.",
                {"field": name, "in": "query"},
            )
        values[name] = given if name in lists else given[0]
    values.update(connection.path_params)
    try:
        parsed = msgspec.convert(values, params, strict=False)
    except msgspec.ValidationError as exc:
        error = validation_error(exc, code)
        field = error.details.get("field")
        if field is not None:
            error.details["in"] = "path" if field in path_names else "query"
        raise error from exc
    # Lax conversion reads the text "null" as None; in a query, leaving a parameter out is
    # how one says None, so a value that came out None was not a valid one.
    for f in msgspec.structs.fields(params):
        if f.encode_name in values and getattr(parsed, f.name) is None:
            raise ServiceError(
                code,
                f"Query parameter {f.encode_name}={values[f.encode_name]!r} is not a valid value.",
                {"field": f.encode_name, "in": "query", "value": values[f.encode_name]},
            )
    return parsed


def _list_fields(params: type) -> set[str]:
    info = msgspec.inspect.type_info(params)
    assert isinstance(info, msgspec.inspect.StructType)
    return {
        f.encode_name
        for f in info.fields
        if isinstance(f.type, msgspec.inspect.ListType)
        or (
            isinstance(f.type, msgspec.inspect.UnionType)
            and any(isinstance(t, msgspec.inspect.ListType) for t in f.type.types)
        )
    }


class ApiRoute(Route):
    """One path with every operation it has: parses each operation's parameters, answers
    OPTIONS with `Allow`, and 405 with the same `Allow`."""

    def __init__(self, path: str, endpoints: Sequence[Endpoint[Any]]) -> None:
        self.operations: dict[str, Endpoint[Any]] = {}
        for endpoint in endpoints:
            if endpoint.path != path or endpoint.method in self.operations:
                raise TypeError(f"{endpoint.method} {endpoint.path}: declared twice or misplaced")
            endpoint.check()
            self.operations[endpoint.method] = endpoint
        super().__init__(path, self._dispatch, methods=[*self.operations, "OPTIONS"])

    @property
    def allow(self) -> str:
        return ", ".join(sorted(self.methods or ()))

    async def _dispatch(self, request: Request) -> Response:
        method = request.method
        if method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": self.allow})
        endpoint = self.operations["GET" if method == "HEAD" else method]
        return await endpoint.handler(request, endpoint.parse(request))

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.methods and scope["method"] not in self.methods:
            # Starlette's own 405 lists the methods in set order; this one is sorted.
            raise HTTPException(status_code=405, headers={"Allow": self.allow})
        await super().handle(scope, receive, send)


def api_routes(*endpoints: Endpoint[Any]) -> list[ApiRoute]:
    """One route per path, in the order the paths first appear."""
    by_path: dict[str, list[Endpoint[Any]]] = {}
    for endpoint in endpoints:
        by_path.setdefault(endpoint.path, []).append(endpoint)
    return [ApiRoute(path, group) for path, group in by_path.items()]
