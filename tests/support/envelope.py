"""Checks that an HTTP answer is the contract's error envelope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class _Response(Protocol):
    """What httpx's and Starlette's test client responses both offer."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


def error_of(response: _Response, status: int, code: str) -> dict[str, Any]:
    """The `error` object of an error answer, after checking status, shape and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error
