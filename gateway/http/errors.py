"""Every error leaves the gateway in the contract's envelope, with a fitting HTTP status."""

from __future__ import annotations

import logging

import msgspec
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from protocol.errors import ErrorBody, ErrorCode, ErrorInfo, ServiceError

log = logging.getLogger(__name__)

# Where a handler notes the code of the error it answered, for the metrics around it.
ERROR_CODE_SCOPE_KEY = "loquilex.error_code"

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.MODEL_NOT_FOUND: 404,
    ErrorCode.DOWNLOAD_REQUIRED: 409,
    ErrorCode.INSUFFICIENT_MEMORY: 507,
    ErrorCode.UNSUPPORTED_DEVICE: 400,
    ErrorCode.LOADING_TIMEOUT: 504,
    ErrorCode.INFERENCE_ERROR: 500,
    ErrorCode.CONFIGURATION_ERROR: 400,
    ErrorCode.LICENSE_ERROR: 403,
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.SESSION_NOT_FOUND: 404,
    ErrorCode.MODEL_NOT_LOADED: 409,
    ErrorCode.INVALID_AUDIO: 400,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.QUEUE_FULL: 503,
    ErrorCode.WORKER_UNAVAILABLE: 503,
    ErrorCode.WORKER_NOT_FOUND: 404,
    ErrorCode.WORKER_NOT_DRAINING: 409,
    ErrorCode.INTERNAL_ERROR: 500,
    ErrorCode.TOO_MANY_CONNECTIONS: 503,
    ErrorCode.UNAUTHORIZED: 401,
    ErrorCode.ORIGIN_NOT_ALLOWED: 403,
    ErrorCode.HOST_NOT_ALLOWED: 421,
}


def error_response(error: ServiceError, headers: dict[str, str] | None = None) -> Response:
    return Response(
        msgspec.json.encode(error.body()),
        status_code=HTTP_STATUS.get(error.code, 500),
        media_type="application/json",
        headers=headers,
    )


async def on_service_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    request.scope[ERROR_CODE_SCOPE_KEY] = exc.code.value
    # A full queue or a missing worker says when to come back.
    retry = exc.details.get("retry_after_s")
    headers = {"Retry-After": str(max(1, round(float(retry))))} if retry is not None else None
    return error_response(exc, headers)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED}.get(
        exc.status_code, ErrorCode.INVALID_REQUEST
    )
    request.scope[ERROR_CODE_SCOPE_KEY] = code.value
    body = ErrorBody(
        error=ErrorInfo(
            code=code.value,
            message=str(exc.detail),
            details={"path": request.url.path, "method": request.method},
        )
    )
    return Response(
        msgspec.json.encode(body),
        status_code=exc.status_code,
        media_type="application/json",
        headers=exc.headers,
    )


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(
        ServiceError(
            ErrorCode.INTERNAL_ERROR,
            "The gateway hit an unexpected error; it has been logged.",
            {"type": type(exc).__name__},
        )
    )


EXCEPTION_HANDLERS = {
    ServiceError: on_service_error,
    HTTPException: on_http_exception,
    Exception: on_unexpected,
}
