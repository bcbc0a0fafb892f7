"""WebSocket event stream: every event in the contract's `{v, t, sid, data}` envelope."""

from __future__ import annotations

import asyncio
import contextlib

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from gateway.services import services

# 1013 "try again later": the subscriber fell too far behind and was dropped.
_CLOSE_TOO_SLOW = 1013


async def event_stream(websocket: WebSocket) -> None:
    hub = services(websocket).events
    # Subscribed before the handshake completes: a client that connects, then asks for a
    # load, sees every event of that load.
    subscription = hub.subscribe(websocket.query_params.get("sid"))
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


routes = [WebSocketRoute("/ws", event_stream)]
