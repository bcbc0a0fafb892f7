"""The live streams of this gateway, one per session at most: which connection each is
attached to, and how long one whose client went away waits for it.

A hello without `resume` starts a new stream of its session (an older one is cancelled); a
hello with `resume {sid, last_seq}` within the resume window attaches to the stream going
on and gets every message after `last_seq`. A stream left without a connection for
`resume_seconds` is cancelled (Cancel to its worker), as is one whose client closed with
1000, or one that said its last word and had it delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket

from gateway.live.connection import LiveConnection
from gateway.live.frames import AudioFormat
from gateway.live.stream import LiveCaptionStream, LiveDeps
from protocol.api.live import HelloData

log = logging.getLogger(__name__)


class LiveService:
    def __init__(self, deps: LiveDeps) -> None:
        self.deps = deps
        self._streams: dict[str, LiveCaptionStream] = {}
        self._owners: dict[str, LiveConnection] = {}
        self._expiry: dict[str, asyncio.Task[None]] = {}

    async def serve(self, websocket: WebSocket, sid: str) -> None:
        await LiveConnection(websocket, sid, self).run()

    def stream_of(self, sid: str) -> LiveCaptionStream | None:
        return self._streams.get(sid)

    def open_count(self) -> int:
        return len(self._streams)

    async def open_stream(
        self, sid: str, audio_format: AudioFormat, hello: HelloData, owner: LiveConnection
    ) -> LiveCaptionStream:
        old = self._streams.get(sid)
        if old is not None:
            log.info("live stream %s: a new hello replaces the stream going on", sid)
            previous = self._owners.get(sid)
            if previous is not None and previous is not owner:
                previous.replaced()
            await self._drop(old)
        stream = LiveCaptionStream(sid, self.deps, audio_format, hello)
        self._streams[sid] = stream
        self._own(stream, owner)
        stream.start()
        return stream

    async def attach(self, stream: LiveCaptionStream, owner: LiveConnection) -> None:
        expiry = self._expiry.pop(stream.sid, None)
        if expiry is not None:
            expiry.cancel()
        previous = self._owners.get(stream.sid)
        if previous is not None and previous is not owner:
            previous.replaced()
        self._own(stream, owner)

    def _own(self, stream: LiveCaptionStream, owner: LiveConnection) -> None:
        self._owners[stream.sid] = owner
        stream.listener = owner.wake.set

    async def detach(
        self, stream: LiveCaptionStream, owner: LiveConnection, *, deliberate: bool
    ) -> None:
        """The connection is gone: keep the stream for its client, or end it."""
        if self._owners.get(stream.sid) is not owner or self._streams.get(stream.sid) is not stream:
            return  # another connection has it now, or it was replaced
        del self._owners[stream.sid]
        stream.listener = None
        if deliberate or stream.delivered:
            await self._drop(stream)
            return
        seconds = self.deps.limits.resume_seconds
        self._expiry[stream.sid] = asyncio.create_task(
            self._expire(stream, seconds), name=f"live expiry {stream.sid}"
        )

    async def _expire(self, stream: LiveCaptionStream, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self._expiry.get(stream.sid) is asyncio.current_task():
            del self._expiry[stream.sid]
        log.info("live stream %s: no client came back within %s s; cancelled", stream.sid, seconds)
        await self._drop(stream)

    async def _drop(self, stream: LiveCaptionStream) -> None:
        if self._streams.get(stream.sid) is stream:
            del self._streams[stream.sid]
            self._owners.pop(stream.sid, None)
            expiry = self._expiry.pop(stream.sid, None)
            if expiry is not None and expiry is not asyncio.current_task():
                expiry.cancel()
        await stream.cancel()

    async def stop(self) -> None:
        """Gateway shutdown: every stream cancelled on its worker."""
        for task in list(self._expiry.values()):
            task.cancel()
        self._expiry.clear()
        for stream in list(self._streams.values()):
            with contextlib.suppress(Exception):
                await self._drop(stream)
