"""Follow one load or download to its end through the event stream.

The caller subscribes first (`GatewayClient.events`, with a fresh session id), then sends
its request naming that session, so every event of its request reaches it; events of other
models are skipped. A load is also checked by its status whenever the stream is quiet,
which ends the wait even if the stream was dropped.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from gateway.cli.client import ServiceFailure
from gateway.cli.progress import ProgressView, view_of

# The gateway's WebSocket close code for a missing or wrong token.
_CLOSE_UNAUTHORIZED = 4401


@dataclass(frozen=True)
class Family:
    """The events that end one kind of request."""

    completed: str
    failed: str
    what: str  # "load", "download"


LOAD = Family("model.load.completed", "model.load.failed", "load")
DOWNLOAD = Family("model.download.completed", "model.download.failed", "download")

Check = Callable[[], dict[str, Any] | None]


def outcome_of(event: dict[str, Any], model_id: str, family: Family) -> dict[str, Any] | None:
    """The completed event's data; raises ServiceFailure for the failed one; None otherwise."""
    data = event.get("data") or {}
    if data.get("model_id") != model_id:
        return None
    if event.get("t") == family.completed:
        completed: dict[str, Any] = data
        return completed
    if event.get("t") == family.failed:
        raise ServiceFailure(
            code=str(data.get("error_code", "INTERNAL_ERROR")),
            message=str(data.get("error_message", "")),
            details=dict(data.get("details") or {}),
            suggestions=[str(s) for s in data.get("suggestions") or []],
        )
    return None


def follow(
    events: ClientConnection,
    model_id: str,
    family: Family,
    show: Callable[[ProgressView], None],
    check: Check | None = None,
    quiet_s: float = 2.0,
) -> dict[str, Any]:
    """Show progress until the request ends; its result, or ServiceFailure."""
    while True:
        try:
            frame = events.recv(timeout=quiet_s)
        except TimeoutError:
            found = check() if check is not None else None
            if found is not None:
                return found
            continue
        except ConnectionClosed as closed:
            return _after_close(closed, model_id, family, check)
        event = json.loads(frame)
        view = view_of(event)
        if view is not None and view.model_id == model_id:
            show(view)
        outcome = outcome_of(event, model_id, family)
        if outcome is not None:
            return outcome


def _after_close(
    closed: ConnectionClosed, model_id: str, family: Family, check: Check | None
) -> dict[str, Any]:
    code = closed.rcvd.code if closed.rcvd is not None else None
    reason = closed.rcvd.reason if closed.rcvd is not None else ""
    if code == _CLOSE_UNAUTHORIZED:
        raise ServiceFailure("UNAUTHORIZED", reason or "the gateway refused the token")
    if check is not None:
        while True:  # no more events: the status says when it ends
            found = check()
            if found is not None:
                return found
            time.sleep(1.0)
    raise ServiceFailure(
        "EVENTS_LOST",
        f"The gateway closed the event stream (code {code}: {reason or 'no reason'}); the "
        f"{family.what} of {model_id} goes on there.",
        {"model_id": model_id},
        [f"Ask again in a while: `loquilex-models models show {model_id}` says where it is"],
    )


class EventSource(Protocol):
    def recv(self, timeout: float | None = None) -> str | bytes: ...


def with_event_suggestions(
    failure: ServiceFailure,
    events: EventSource,
    model_id: str,
    family: Family,
    grace_s: float = 0.5,
) -> ServiceFailure:
    """A request refused at once (an HTTP error) also went out as its failed event, with
    the suggestions the HTTP error lacks: take them from it if it comes within `grace_s`."""
    if failure.suggestions:
        return failure
    deadline = time.monotonic() + grace_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            event = json.loads(events.recv(timeout=left))
            outcome_of(event, model_id, family)
        except ServiceFailure as announced:
            if announced.code == failure.code:
                failure.suggestions = announced.suggestions
            return failure
        except (TimeoutError, ConnectionClosed):
            return failure
    return failure


def load_check(get: Callable[[str], Any], model_id: str) -> Check:
    """The load's end as GET /api/models/status tells it: loaded, or failed."""

    def check() -> dict[str, Any] | None:
        body = get("/api/models/status")
        for status in [*body.get("asr_models", []), *body.get("mt_models", [])]:
            if status["model_id"] != model_id:
                continue
            if status["status"] == "loaded":
                found: dict[str, Any] = status
                return found
            if status["status"] == "error":
                raise ServiceFailure(
                    "LOAD_FAILED",
                    status.get("error_message") or f"The load of {model_id} failed.",
                    {"model_id": model_id},
                    ["GET /api/models/status and the gateway's log say more"],
                )
        return None

    return check
