"""Error codes and the error body every HTTP error and failure event carries.

The first eight codes are the contract's; the rest cover failures the contract has
no code for (each is listed in the README).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

import msgspec


class ErrorCode(StrEnum):
    # The contract's model error codes.
    MODEL_NOT_FOUND = "MODEL_NOT_FOUND"
    DOWNLOAD_REQUIRED = "DOWNLOAD_REQUIRED"
    INSUFFICIENT_MEMORY = "INSUFFICIENT_MEMORY"
    UNSUPPORTED_DEVICE = "UNSUPPORTED_DEVICE"
    LOADING_TIMEOUT = "LOADING_TIMEOUT"
    INFERENCE_ERROR = "INFERENCE_ERROR"
    CONFIGURATION_ERROR = "CONFIGURATION_ERROR"
    LICENSE_ERROR = "LICENSE_ERROR"
    # Extensions: no contract code fits these.
    INVALID_REQUEST = "INVALID_REQUEST"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    MODEL_NOT_LOADED = "MODEL_NOT_LOADED"
    INVALID_AUDIO = "INVALID_AUDIO"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    QUEUE_FULL = "QUEUE_FULL"
    WORKER_UNAVAILABLE = "WORKER_UNAVAILABLE"
    WORKER_NOT_FOUND = "WORKER_NOT_FOUND"
    WORKER_NOT_DRAINING = "WORKER_NOT_DRAINING"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # Past LX_MAX_CONNECTIONS (answered by gateway.http.connections, before any route).
    TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS"
    # Access control (LX_API_TOKEN, LX_CORS_ORIGINS, LX_ALLOWED_HOSTS).
    UNAUTHORIZED = "UNAUTHORIZED"
    ORIGIN_NOT_ALLOWED = "ORIGIN_NOT_ALLOWED"
    HOST_NOT_ALLOWED = "HOST_NOT_ALLOWED"


def failing_field(exc: msgspec.ValidationError) -> str | None:
    """The field msgspec names in its message (`... - at `$.a.b``) as `a.b`, and a missing or
    unknown field by its own name (`a.b.c`); None at the root."""
    message = str(exc)
    at = message.rpartition("at `$.")[2].rstrip("`") if "at `$." in message else None
    named = _NAMED_FIELD.match(message)
    if named is not None:
        return f"{at}.{named[1]}" if at else named[1]
    return at


_NAMED_FIELD = re.compile(r"Object (?:missing required|contains unknown) field `([^`]+)`")


class ErrorInfo(msgspec.Struct, kw_only=True):
    code: str
    message: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class ErrorBody(msgspec.Struct, kw_only=True):
    """The contract's error envelope: `{"error": {"code", "message", "details"}}`."""

    error: ErrorInfo


class ServiceError(Exception):
    """A failure with a contract error code; the gateway turns it into the envelope."""

    def __init__(
        self, code: ErrorCode, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = dict(details or {})

    def body(self) -> ErrorBody:
        return ErrorBody(
            error=ErrorInfo(code=self.code.value, message=self.message, details=self.details)
        )
