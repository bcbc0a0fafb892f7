"""WebSocket event stream: every event in the contract's `{v, t, sid, data}` envelope."""

from __future__ import annotations

import asyncio
import contextlib

import msgspec
from starlette.websockets import WebSocket, WebSocketDisconnect

from gateway.http.ws_endpoints import ApiWebSocketRoute, WebSocketEndpoint
from gateway.services import services
from protocol.api.events import EVENT_DATA, Envelope

# 1013 "try again later": the subscriber fell too far behind and was dropped.
_CLOSE_TOO_SLOW = 1013


class EventParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # Only this session's events (and those for everyone); absent: every event.
    sid: str | None = None


async def event_stream(websocket: WebSocket, params: EventParams) -> None:
    hub = services(websocket).events
    # Subscribed before the handshake completes: a client that connects, then asks for a
    # load, sees every event of that load.
    subscription = hub.subscribe(params.sid)
    try:
        await websocket.accept()
    except BaseException:
        hub.unsubscribe(subscription)
        raise

    async def forward() -> None:
        while True:
            frame = await subscription.queue.get()
            if frame is None:
                await websocket.close(code=_CLOSE_TOO_SLOW, reason="subscriber too slow")
                return
            await websocket.send_text(frame.decode())

    async def drain_client() -> None:
        # The client sends nothing we need; reading notices its disconnect at once.
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return

    tasks = [asyncio.create_task(forward()), asyncio.create_task(drain_client())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        hub.unsubscribe(subscription)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await task


EVENTS = WebSocketEndpoint(
    "/ws",
    "Model and worker events as they happen",
    event_stream,
    EventParams,
    server_messages={name: data for name, data in EVENT_DATA.items()},
    envelope=Envelope,
    close_codes={_CLOSE_TOO_SLOW: "the subscriber fell too far behind and was dropped"},
)

routes = [ApiWebSocketRoute(EVENTS)]
