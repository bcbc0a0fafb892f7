"""The gateway seen from the command line: JSON over HTTP, events over its WebSocket.

Every failure ends as one of two exceptions: `ServiceFailure` (the gateway answered with
an error, in the contract's envelope when it could) or `Unreachable` (nothing answered).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.exceptions import InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

DEFAULT_URL = "http://127.0.0.1:8000"


@dataclass
class ServiceFailure(Exception):
    """An error answer: its code, message and details (suggestions among them)."""

    code: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    suggestions: list[str] = field(default_factory=list)
    status: int | None = None

    def __post_init__(self) -> None:
        super().__init__(f"{self.code}: {self.message}")

    def body(self) -> dict[str, Any]:
        """The contract's envelope, for --json."""
        details = dict(self.details)
        if self.suggestions:
            details.setdefault("suggestions", self.suggestions)
        return {"error": {"code": self.code, "message": self.message, "details": details}}


@dataclass
class Unreachable(Exception):
    url: str
    cause: str

    def __post_init__(self) -> None:
        super().__init__(f"cannot reach the gateway at {self.url}: {self.cause}")


def failure_from(status: int, text: str) -> ServiceFailure:
    """The envelope's error, or the raw answer when it is not one (a proxy's page)."""
    try:
        error = json.loads(text)["error"]
        code, message = str(error["code"]), str(error["message"])
        details = error.get("details") or {}
    except (ValueError, KeyError, TypeError):
        return ServiceFailure(
            f"HTTP_{status}", text.strip()[:300] or f"HTTP {status}", {}, [], status
        )
    if not isinstance(details, dict):
        details = {"details": details}
    suggestions = [str(s) for s in details.get("suggestions") or []]
    return ServiceFailure(code, message, details, suggestions, status)


def new_session_id() -> str:
    """A fresh session id, shaped like the gateway's own: the events of a request that
    names it go to this subscriber (and to service-wide subscribers) only."""
    return "sess_" + secrets.token_hex(8)


class GatewayClient:
    def __init__(self, url: str, token: str | None = None, timeout_s: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=self._headers, timeout=timeout_s)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """(status, decoded JSON) of a success; raises ServiceFailure or Unreachable."""
        try:
            answer = self._http.request(method, path, json=body, params=params)
        except httpx.TransportError as exc:
            raise Unreachable(self.url, _describe(exc)) from exc
        if answer.status_code >= 400:
            raise failure_from(answer.status_code, answer.text)
        try:
            return answer.status_code, answer.json()
        except ValueError as exc:
            raise ServiceFailure(
                f"HTTP_{answer.status_code}", f"not JSON: {answer.text[:200]!r}"
            ) from exc

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        return self.call("GET", path, params=params)[1]

    @contextmanager
    def events(self, sid: str | None = None) -> Iterator[ClientConnection]:
        """The event stream (`/ws`, `?sid=` for one session); once this returns, the
        gateway has subscribed it, so events of a request sent afterwards all arrive."""
        scheme, rest = self.url.split("://", 1)
        ws_url = ("wss" if scheme == "https" else "ws") + "://" + rest + "/ws"
        if sid:
            ws_url += f"?sid={sid}"
        try:
            connection = connect(
                ws_url, additional_headers=self._headers, open_timeout=10, max_size=None
            )
        except InvalidStatus as exc:
            response = exc.response
            body = (response.body or b"").decode(errors="replace")
            raise failure_from(response.status_code, body) from exc
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise Unreachable(ws_url, _describe(exc)) from exc
        with connection:
            yield connection


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
