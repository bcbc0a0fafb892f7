"""One client WebSocket of a live stream: frames in, the stream's messages out.

Three loops: the reader (every client frame through the FrameGate; a bad one gets
`server.error` and is dropped, the socket stays), the sender (connection messages first,
then the numbered messages the client's window lets out; it closes the socket once the
stream has said its last word and the client has all of it) and the heartbeat
(`server.hb` every interval). A client silent past the heartbeat timeout is taken as gone.

A connection that goes away leaves its stream going on for the resume window (the service
decides), except one the client closed with 1000: a client that says goodbye wants nothing
more, so its stream is cancelled at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from starlette.websockets import WebSocket

from gateway.live.errors import StreamError
from gateway.live.frames import FrameGate
from gateway.live.outbox import SessionOutbox
from protocol.api.live import (
    CLOSE_SESSION_NOT_FOUND,
    ClientAck,
    ClientAudioEnd,
    ClientFlow,
    ClientHeartbeat,
    ClientHello,
    ServerEnvelope,
    ServerErrorData,
    encode,
)
from protocol.errors import ErrorCode, ServiceError

if TYPE_CHECKING:
    from gateway.live.service import LiveService
    from gateway.live.stream import LiveCaptionStream

CLOSE_NORMAL: Final = 1000
# The client sent nothing (not even client.hb) within the heartbeat timeout.
CLOSE_HEARTBEAT_TIMEOUT: Final = 4408
# Another connection resumed this stream: this one is left behind.
CLOSE_REPLACED: Final = 4409
# What a socket closed without a close frame reports.
_ABNORMAL: Final = 1006


class LiveConnection:
    def __init__(self, websocket: WebSocket, sid: str, service: LiveService) -> None:
        self.ws = websocket
        self.sid = sid
        self.service = service
        limits = service.deps.limits
        self.gate = FrameGate(limits.max_msg_bytes)
        self.stream: LiveCaptionStream | None = None
        self._own = SessionOutbox(sid, limits)  # stamps messages before a stream exists
        self._immediate: deque[ServerEnvelope] = deque()
        self.wake = asyncio.Event()
        self._close_with: tuple[int, str] | None = None

    # ------------------------------------------------------------ running

    async def run(self) -> None:
        await self.ws.accept()
        try:
            await self.service.deps.sessions.get(self.sid)
        except ServiceError as exc:
            if exc.code != ErrorCode.SESSION_NOT_FOUND:
                raise
            self._error(
                StreamError(
                    ErrorCode.SESSION_NOT_FOUND,
                    f"Session {self.sid} does not exist: create one with POST /api/sessions.",
                )
            )
            await self._send_immediate()
            await self.ws.close(CLOSE_SESSION_NOT_FOUND, "session not found")
            return
        reader = asyncio.create_task(self._read(), name=f"live read {self.sid}")
        sender = asyncio.create_task(self._send(), name=f"live send {self.sid}")
        beats = asyncio.create_task(self._heartbeats(), name=f"live hb {self.sid}")
        client_code: int | None = None
        try:
            await asyncio.wait([reader, sender], return_when=asyncio.FIRST_COMPLETED)
            if reader.done() and not reader.cancelled() and reader.exception() is None:
                client_code = reader.result()
        finally:
            for task in (reader, sender, beats):
                task.cancel()
            for task in (reader, sender, beats):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            stream = self.stream
            if stream is not None:
                await self.service.detach(stream, self, deliberate=client_code == CLOSE_NORMAL)
            if client_code is None or client_code == CLOSE_HEARTBEAT_TIMEOUT:
                with contextlib.suppress(Exception):
                    code, reason = self._close_with or (CLOSE_NORMAL, "")
                    await self.ws.close(code, reason)

    def replaced(self) -> None:
        """Another connection resumed this stream."""
        self.stream = None
        self._close_with = (CLOSE_REPLACED, "another connection resumed this stream")
        self.wake.set()

    # ------------------------------------------------------------ reading

    async def _read(self) -> int:
        """Returns the client's close code (CLOSE_HEARTBEAT_TIMEOUT when it went silent)."""
        timeout_s = self.service.deps.limits.heartbeat_timeout_ms / 1000
        while True:
            try:
                async with asyncio.timeout(timeout_s):
                    message = await self.ws.receive()
            except TimeoutError:
                self._close_with = (
                    CLOSE_HEARTBEAT_TIMEOUT,
                    "no frame within the heartbeat timeout",
                )
                return CLOSE_HEARTBEAT_TIMEOUT
            if message["type"] == "websocket.disconnect":
                code: int = message.get("code") or _ABNORMAL
                return code
            payload = message.get("bytes")
            if payload is not None:
                self._binary(payload)
                continue
            text = message.get("text")
            if text is not None:
                await self._text(text)

    def _binary(self, frame: bytes) -> None:
        try:
            chunk = self.gate.binary(frame)
            if self.stream is None:
                raise StreamError(ErrorCode.INVALID_REQUEST, "This stream is no longer here.")
            self.stream.feed(chunk.payload)
        except StreamError as exc:
            self._error(exc)

    async def _text(self, frame: str) -> None:
        try:
            message = self.gate.text(frame)
            if isinstance(message, ClientHello):
                await self._hello(message)
                return
            stream = self.stream
            if stream is None:
                self.gate.audio_ended = False
                raise StreamError(
                    ErrorCode.INVALID_REQUEST,
                    f"{type(message).__name__} before client.hello: send the hello first.",
                )
            if isinstance(message, ClientAck):
                stream.outbox.ack(message.data.ack_seq)
            elif isinstance(message, ClientFlow):
                stream.outbox.resize(message.data.max_in_flight)
            elif isinstance(message, ClientAudioEnd):
                stream.end_audio()
            elif isinstance(message, ClientHeartbeat):
                pass  # any frame keeps the connection alive
            self.wake.set()  # an ack or a wider window may let messages out
        except StreamError as exc:
            self._error(exc)

    async def _hello(self, hello: ClientHello) -> None:
        assert self.gate.format is not None  # the gate accepted it
        audio_format = self.gate.format
        data = hello.data
        resume = data.resume
        if resume is not None:
            found = self.service.stream_of(self.sid)
            if resume.sid != self.sid:
                self._error(
                    StreamError(
                        ErrorCode.INVALID_REQUEST,
                        f"resume.sid {resume.sid!r} is not this socket's session {self.sid!r}; "
                        "starting a new stream.",
                    )
                )
            elif found is None:
                self._error(
                    StreamError(
                        ErrorCode.INVALID_REQUEST,
                        "Nothing to resume: the stream ended or its resume window passed; "
                        "starting a new stream.",
                    )
                )
            elif found.format != audio_format:
                self.gate.format = None  # a hello with the stream's format may follow
                raise StreamError(
                    ErrorCode.CONFIGURATION_ERROR,
                    f"The stream to resume takes {found.format.encoding} at "
                    f"{found.format.sample_rate} Hz; resume with that format.",
                )
            else:
                await self.service.attach(found, self)
                self._attach(found)
                found.outbox.configure(data.ack_mode, data.max_in_flight)
                found.accept = set(data.accept)
                self.gate.audio_ended = found.audio_ended
                try:
                    found.outbox.resume(resume.last_seq)
                except StreamError as exc:
                    self._error(exc)
                return
        stream = await self.service.open_stream(self.sid, audio_format, data, self)
        self._attach(stream)

    def _attach(self, stream: LiveCaptionStream) -> None:
        self.stream = stream
        welcome = stream.outbox.welcome(self.service.deps.limits.welcome(stream.resume_token))
        self._immediate.append(welcome)
        self.wake.set()

    # ------------------------------------------------------------ sending

    def _error(self, error: StreamError) -> None:
        outbox = self.stream.outbox if self.stream is not None else self._own
        self._immediate.append(outbox.connection_message("server.error", error.data()))
        self.wake.set()

    async def _send_frame(self, envelope: ServerEnvelope) -> None:
        await self.ws.send_text(encode(envelope).decode())

    async def _send_immediate(self) -> None:
        while self._immediate:
            await self._send_frame(self._immediate.popleft())

    async def _send(self) -> None:
        """Returns once it closed the socket (the stream is over, or this connection was
        left behind)."""
        while True:
            self.wake.clear()
            await self._send_immediate()
            if self._close_with is not None and self._close_with[0] == CLOSE_REPLACED:
                await self.ws.close(*self._close_with)
                return
            stream = self.stream
            if stream is not None:
                for envelope in stream.outbox.sendable():
                    await self._send_frame(envelope)
                if stream.finished and stream.last_words is not None:
                    await self._last_words(stream.last_words)
                    await self.ws.close(stream.close_code)
                    return
                if stream.delivered:
                    await self.ws.close(stream.close_code)
                    return
            await self.wake.wait()

    async def _last_words(self, data: ServerErrorData) -> None:
        outbox = self.stream.outbox if self.stream is not None else self._own
        await self._send_frame(outbox.connection_message("server.error", data))

    async def _heartbeats(self) -> None:
        interval_s = self.service.deps.limits.heartbeat_interval_ms / 1000
        while True:
            await asyncio.sleep(interval_s)
            stream = self.stream
            if stream is None:
                continue
            beat = stream.heartbeat()
            beat.ts = datetime.now(UTC).isoformat(timespec="milliseconds")
            self._immediate.append(stream.outbox.connection_message("server.hb", beat))
            self.wake.set()
