"""Reading request bodies safely and writing msgspec responses."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from protocol.errors import ErrorCode, ServiceError, failing_field

T = TypeVar("T")

_encoder = msgspec.json.Encoder()


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(_encoder.encode(body), status_code=status_code, media_type="application/json")


async def read_body(request: Request, limit_bytes: int) -> bytes:
    """The whole body, refusing (413) as soon as it passes the limit: no more is read."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit_bytes:
        raise _too_large(limit_bytes, int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit_bytes:
            raise _too_large(limit_bytes, size)
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json(body: bytes, kind: type[T], code: ErrorCode) -> T:
    """Decode and validate a JSON body; an empty body means all defaults."""
    try:
        return msgspec.json.decode(body or b"{}", type=kind)
    except msgspec.ValidationError as exc:
        raise validation_error(exc, code) from exc
    except msgspec.DecodeError as exc:
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, f"The body is not valid JSON: {exc}", {}
        ) from exc


def validation_error(exc: msgspec.ValidationError, code: ErrorCode) -> ServiceError:
    """The error for a value msgspec refused, naming the field (`$.a.b` -> `a.b`)."""
    field = failing_field(exc)
    return ServiceError(code, str(exc), {"field": field} if field else {})


def _too_large(limit_bytes: int, size: int) -> ServiceError:
    return ServiceError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"The request body is larger than the limit of {limit_bytes // (1024 * 1024)} MB.",
        {"limit_bytes": limit_bytes, "received_bytes_at_least": size},
    )


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter within [low, high], or 400 naming it."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.lstrip("-").isdigit() or not low <= int(raw) <= high:
        raise ServiceError(
            ErrorCode.INVALID_REQUEST,
            f"Query parameter {name}={raw!r} must be a whole number from {low} to {high}.",
            {"field": name, "value": raw},
        )
    return int(raw)
