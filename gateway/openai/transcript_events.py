"""A streamed transcription as OpenAI's server-sent events: a `transcript.text.delta` per
decoded segment, then `transcript.text.done` with the whole text (protocol/api/openai.py).

What fails before the first piece of text (an unknown model, audio the worker cannot
decode, a full queue) is raised while the stream opens, so the client gets the usual error
envelope and status; what fails later ends the stream with an `error` event carrying the
envelope, which the openai SDK raises as an APIError with its message and code.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import msgspec
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from gateway.http.endpoints import EVENT_STREAM
from gateway.http.errors import ERROR_CODE_SCOPE_KEY
from protocol.api.openai import TranscriptError, TranscriptTextDelta, TranscriptTextDone
from protocol.api.transcription import Segment, TranscriptionResponse
from protocol.errors import ErrorCode, ServiceError

log = logging.getLogger(__name__)

Pieces = AsyncGenerator[Segment | TranscriptionResponse, None]

# Each event leaves at once: no proxy buffering, no caching of a one-off stream.
_NO_BUFFERING = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

_encoder = msgspec.json.Encoder()


class DeltaText:
    """Segment texts as deltas that join into the transcript exactly as the non-streamed
    answer gives it, stripped at both ends: leading whitespace is dropped, and whitespace at
    the end of a delta is held back until more text follows it."""

    def __init__(self) -> None:
        self._started = False
        self._held = ""

    def push(self, text: str) -> str:
        """The delta for the next segment's text ("" when it adds nothing to send yet)."""
        if not self._started:
            text = text.lstrip()
        body = text.rstrip()
        if not body:
            self._held += text
            return ""
        delta = self._held + body
        self._held = text[len(body) :]
        self._started = True
        return delta


def server_sent(event: Any) -> bytes:
    """One event as an SSE `data:` line (JSON holds no raw line breaks)."""
    return b"data: " + _encoder.encode(event) + b"\n\n"


async def transcript_response(pieces: Pieces, scope: Scope) -> Response:
    """The `text/event-stream` answer for `pieces` (TranscriptionService.stream), once its
    first piece is here: a failure before it raises from this call. `scope` is the
    request's, where an error sent as an event is noted for the metrics, as the error
    handlers note theirs."""
    try:
        first = await anext(pieces)
    except BaseException:
        await pieces.aclose()
        raise
    return EventStreamResponse(_events(first, pieces, scope), pieces)


class EventStreamResponse(StreamingResponse):
    """Server-sent events that close what feeds them however the answer ends: a client that
    leaves (even before the first event went out, or while one is being sent) cancels the
    worker's decode at once, not when the generators are collected."""

    def __init__(self, events: AsyncGenerator[bytes, None], source: Pieces) -> None:
        super().__init__(events, media_type=EVENT_STREAM, headers=_NO_BUFFERING)
        self._events = events
        self._source = source

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._events.aclose()
            await self._source.aclose()  # when the events never started, they hold it open


async def _events(
    first: Segment | TranscriptionResponse, rest: Pieces, scope: Scope
) -> AsyncGenerator[bytes, None]:
    deltas = DeltaText()
    piece = first
    async with aclosing(rest):
        try:
            while not isinstance(piece, TranscriptionResponse):
                delta = deltas.push(piece.text)
                if delta:
                    yield server_sent(TranscriptTextDelta(delta=delta))
                piece = await anext(rest)
        except ServiceError as exc:
            yield _error(exc, scope)
            return
        except Exception as exc:  # a bug: logged, and the client told as a 500 would say
            log.exception("a streamed transcription failed")
            error = ServiceError(
                ErrorCode.INTERNAL_ERROR,
                "The gateway hit an unexpected error; it has been logged.",
                {"type": type(exc).__name__},
            )
            yield _error(error, scope)
            return
    yield server_sent(TranscriptTextDone(text=piece.text.strip()))


def _error(exc: ServiceError, scope: Scope) -> bytes:
    scope[ERROR_CODE_SCOPE_KEY] = exc.code.value
    return server_sent(TranscriptError(error=exc.body().error))
