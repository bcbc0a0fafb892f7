"""Reading request bodies safely and writing msgspec responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from protocol.errors import ErrorCode, ServiceError, failing_field

T = TypeVar("T")

_encoder = msgspec.json.Encoder()


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(_encoder.encode(body), status_code=status_code, media_type="application/json")


async def read_body(
    request: Request,
    limit_bytes: int,
    limit_text: str | None = None,
    *,
    expect: Callable[[int], None] | None = None,
    add: Callable[[int], None] | None = None,
) -> bytes:
    """The whole body, refusing (413) as soon as it passes the limit: no more is read.
    `limit_text`: the limit as the 413 states it (default: `limit_bytes` in its unit).
    `expect` hears the declared length before any byte is read, `add` each chunk's size as
    it comes and the joined copy's while both are held (a memory budget: either may refuse
    by raising); once the chunks are gone, `add` hears their size taken back."""
    declared = request.headers.get("content-length")
    stated = limit_text or size_text(limit_bytes)
    if declared is not None and declared.isdigit():
        if int(declared) > limit_bytes:
            raise _too_large(limit_bytes, int(declared), stated)
        if expect is not None:
            expect(int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit_bytes:
            raise _too_large(limit_bytes, size, stated)
        if add is not None:
            add(len(chunk))
        chunks.append(chunk)
    if add is None:
        return b"".join(chunks)
    add(size)  # the chunks and their joined copy, for a moment
    body = b"".join(chunks)
    chunks.clear()
    add(-size)
    return body


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


def size_text(size_bytes: int) -> str:
    """A byte count in the largest unit it is a whole number of (MB as LX_MAX_UPLOAD_MB
    counts them: 1024 * 1024 bytes)."""
    mb, kb = 1 << 20, 1 << 10
    if size_bytes >= mb:
        whole = size_bytes % mb == 0
        return f"{size_bytes // mb} MB" if whole else f"{size_bytes / mb:.1f} MB"
    if size_bytes >= kb and size_bytes % kb == 0:
        return f"{size_bytes // kb} KB"
    return f"{size_bytes} bytes"


def _too_large(limit_bytes: int, size: int, stated: str) -> ServiceError:
    return ServiceError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"The request body is larger than the limit of {stated}.",
        {"limit_bytes": limit_bytes, "received_bytes_at_least": size},
    )
