"""Live captions: `WS /api/sessions/{sid}/stream` and its alias `WS /ws/{sid}` (the path
the LoquiLex UI opens). The protocol is protocol/api/live.py's; gateway/live runs it."""

from __future__ import annotations

import msgspec
from starlette.websockets import WebSocket

from gateway.http.ws_endpoints import ApiWebSocketRoute, WebSocketEndpoint
from gateway.live.connection import CLOSE_HEARTBEAT_TIMEOUT, CLOSE_REPLACED
from gateway.services import services
from protocol.api.live import (
    CLOSE_SESSION_NOT_FOUND,
    SERVER_DATA_TYPES,
    AckData,
    EmptyData,
    FlowData,
    HeartbeatData,
    HelloData,
    RawServerEnvelope,
)


class StreamParams(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    sid: str


async def live_stream(websocket: WebSocket, params: StreamParams) -> None:
    await services(websocket).live.serve(websocket, params.sid)


_CLIENT_MESSAGES = {
    "client.hello": HelloData,
    "client.hb": HeartbeatData,
    "client.ack": AckData,
    "client.flow": FlowData,
    "client.audio.end": EmptyData,
}
_CLOSE_CODES = {
    1000: "the stream ended (status ended) and every message was sent; from the client: "
    "done, the stream is cancelled at once (any other close keeps it for the resume window)",
    1011: "the stream failed (the server.error before it says why)",
    CLOSE_SESSION_NOT_FOUND: "no such session (server.error SESSION_NOT_FOUND first)",
    CLOSE_HEARTBEAT_TIMEOUT: "the client sent nothing within hb.timeout_ms",
    CLOSE_REPLACED: "another connection resumed this stream",
}
_BINARY = (
    "raw audio samples in the encoding and sample_rate client.hello declared (pcm_s16le or "
    "f32le, 8000-48000 Hz, mono), whole samples, at most limits.max_msg_bytes per frame"
)


def _endpoint(path: str, summary: str) -> WebSocketEndpoint[StreamParams]:
    return WebSocketEndpoint(
        path,
        summary,
        live_stream,
        StreamParams,
        server_messages=dict(SERVER_DATA_TYPES),
        client_messages=_CLIENT_MESSAGES,
        envelope=RawServerEnvelope,
        client_binary=_BINARY,
        close_codes=_CLOSE_CODES,
    )


STREAM = _endpoint(
    "/api/sessions/{sid}/stream",
    "Live captions: audio in, partial and final captions and their translations out",
)
ALIAS = _endpoint("/ws/{sid}", "Live captions (the same as /api/sessions/{sid}/stream)")

routes = [ApiWebSocketRoute(STREAM), ApiWebSocketRoute(ALIAS)]
