"""A client that hangs up abandons its request: the work done for it stops.

While the app handles an HTTP request whose body it has read, a watcher waits for the
server's `http.disconnect`. If it comes before the answer has started, the handler's task
is cancelled: a worker call it awaits sends `Cancel(request_id)` (gateway/workers/
request_stream.py), so the worker drops the request from its queue at once, or stops its
decode at the next segment. The access log and the metrics say 499 (nginx's "client
closed request"). Once the answer has started, the app hears the disconnect itself (a
streamed answer stops as Starlette's StreamingResponse does). A handler that never reads
its body is not watched: no route waits on a worker before reading it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

# The status logged and counted for a request whose client left before any answer.
CLIENT_CLOSED_STATUS = 499
# Set in the scope when the request was abandoned (the access log reads it).
CLIENT_GONE_SCOPE_KEY = "loquilex.client_gone"


class AbandonOnDisconnect:
    """Pure ASGI middleware: cancels the handler of a request whose client has gone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_read = asyncio.Event()
        gone = asyncio.Event()
        answered = False

        async def receive_for_app() -> Message:
            if body_read.is_set():
                # The watcher owns the server's receive now: only a disconnect can come.
                await gone.wait()
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
                body_read.set()
            elif not message.get("more_body", False):
                body_read.set()
            return message

        async def send_noting_answer(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                answered = True
            await send(message)

        handler = asyncio.ensure_future(self.app(scope, receive_for_app, send_noting_answer))

        async def watch() -> None:
            await body_read.wait()
            if not gone.is_set():
                while (await receive())["type"] != "http.disconnect":
                    pass
                gone.set()
            if not answered and not handler.done():
                scope[CLIENT_GONE_SCOPE_KEY] = True
                log.info("the client of %s %s left: its work is cancelled", *_line(scope))
                handler.cancel()

        watcher = asyncio.ensure_future(watch())
        try:
            await handler
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if scope.get(CLIENT_GONE_SCOPE_KEY) and not (current and current.cancelling()):
                return  # nobody to answer: the access log and the metrics say 499
            raise
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


def _line(scope: Scope) -> tuple[str, str]:
    return str(scope.get("method", "")), str(scope.get("path", ""))
