"""The live captioning WebSocket protocol (`WS /api/sessions/{sid}/stream`, `WS /ws/{sid}`).

LoquiLex's own protocol (its `loquilex/api/ws_types.py`), so its client works unchanged:
message type strings and field names are LoquiLex's. Where issue 10 asks for more (the
audio format in `client.hello`, `stable_text` on partials, `words` on finals,
`client.audio.end`, the service's error codes, `t_mono_ms`), the issue wins.

Server messages travel in `ServerEnvelope`. Client text frames are the same envelope with
the payload under `data`; `decode_client_message` validates and dispatches them in one step
(a tagged union on `t`). Audio travels as binary frames of raw samples in the format the
hello declared.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, Literal, TypeAlias

import msgspec

from protocol.errors import ErrorCode
from protocol.vocabulary import WHISPER_SAMPLE_RATE, RawEncoding, SampleRate

PROTOCOL_VERSION: Final = 1

# A live stream's audio is raw samples (no container) in one of the service's raw encodings.
BYTES_PER_SAMPLE: Final[dict[RawEncoding, int]] = {"pcm_s16le": 2, "f32le": 4}
# The stream's clock: the workers decode at 16 kHz; other client rates are resampled there.
STREAM_SAMPLE_RATE: Final = WHISPER_SAMPLE_RATE

# The session does not exist: the socket is closed with this code (HTTP 404 + 4000).
CLOSE_SESSION_NOT_FOUND: Final = 4404

AckMode = Literal["cumulative", "per-message"]
StatusStage = Literal["loading", "ready", "recovering", "resumed", "ended"]
ServerMessageType = Literal[
    "server.welcome",
    "server.hb",
    "server.error",
    "status",
    "asr.partial",
    "asr.final",
    "mt.partial",
    "mt.final",
]

Seq = Annotated[int, msgspec.Meta(ge=0)]
Window = Annotated[int, msgspec.Meta(ge=1)]
Millis = Annotated[int, msgspec.Meta(ge=0)]

# The fields of client.hello that describe the audio: a bad value there is a configuration
# the service cannot serve, not a malformed message.
AUDIO_FORMAT_FIELDS: Final = frozenset({"encoding", "sample_rate", "channels"})


def segment_id(index: int) -> str:
    """The wire id of a stream's segment `index` (0-based): zero-padded, so ids sort in order."""
    return f"seg_{index:06d}"


# ---------------------------------------------------------------- payloads (`data`)


class _Data(msgspec.Struct, kw_only=True):
    pass


class ResumeInfo(_Data):
    sid: str
    last_seq: Seq


class HelloData(_Data):
    # LoquiLex requires `agent`; accepting a hello without one costs nothing.
    agent: str = ""
    # Message types the client wants beyond the defaults (e.g. "mt.partial").
    accept: list[str] = msgspec.field(default_factory=list)
    ack_mode: AckMode = "cumulative"
    max_in_flight: Window = 32
    resume: ResumeInfo | None = None
    encoding: RawEncoding = "pcm_s16le"
    sample_rate: SampleRate = STREAM_SAMPLE_RATE
    channels: Literal[1] = 1


class HeartbeatConfig(_Data):
    interval_ms: Annotated[int, msgspec.Meta(ge=1)] = 10_000
    timeout_ms: Annotated[int, msgspec.Meta(ge=1)] = 30_000


class ResumeWindow(_Data):
    seconds: Annotated[int, msgspec.Meta(ge=0)] = 300
    token: str | None = None


class ServerLimits(_Data):
    max_in_flight: Window = 64
    max_msg_bytes: Annotated[int, msgspec.Meta(ge=1)] = 131_072


class WelcomeData(_Data):
    hb: HeartbeatConfig
    resume_window: ResumeWindow
    limits: ServerLimits


class HeartbeatData(_Data):
    # LoquiLex stamps heartbeats with an ISO 8601 time; a client may leave it out.
    ts: str | None = None
    q_in: Annotated[int, msgspec.Meta(ge=0)] = 0
    q_out: Annotated[int, msgspec.Meta(ge=0)] = 0
    latency_ms_est: int | None = None


class AckData(_Data):
    ack_seq: Seq


class FlowData(_Data):
    max_in_flight: Window


class EmptyData(_Data):
    pass


class ServerErrorData(_Data):
    code: ErrorCode
    detail: str


class StatusData(_Data):
    stage: StatusStage
    detail: str | None = None


class WordTiming(_Data):
    word: str
    start_ms: Millis
    end_ms: Millis
    confidence: float


class AsrPartialData(_Data):
    text: str
    segment_id: str
    final: Literal[False] = False
    # The prefix of `text` that later partials and the final keep unchanged.
    stable_text: str = ""


class AsrFinalData(_Data, omit_defaults=True):
    text: str
    segment_id: str
    start_ms: Millis
    end_ms: Millis
    words: list[WordTiming] | None = None


class MtPartialData(_Data):
    text: str
    src: str
    tgt: str
    segment_id: str


class MtFinalData(_Data):
    text: str
    src: str
    tgt: str
    segment_id: str


ServerData: TypeAlias = (
    WelcomeData
    | HeartbeatData
    | ServerErrorData
    | StatusData
    | AsrPartialData
    | AsrFinalData
    | MtPartialData
    | MtFinalData
)

SERVER_DATA_TYPES: Final[dict[str, type[ServerData]]] = {
    "server.welcome": WelcomeData,
    "server.hb": HeartbeatData,
    "server.error": ServerErrorData,
    "status": StatusData,
    "asr.partial": AsrPartialData,
    "asr.final": AsrFinalData,
    "mt.partial": MtPartialData,
    "mt.final": MtFinalData,
}


# ---------------------------------------------------------------- server messages


class ServerEnvelope(msgspec.Struct, kw_only=True):
    """Every server message. `seq` is null on the connection's own messages (welcome uses 0,
    as LoquiLex does; heartbeats and errors about a frame are not part of the replay)."""

    v: int = PROTOCOL_VERSION
    t: ServerMessageType
    sid: str | None = None
    id: str | None = None
    seq: int | None = None
    corr: str | None = None
    t_wall: str | None = None
    t_mono_ms: int | None = None
    data: ServerData


class RawServerEnvelope(msgspec.Struct, kw_only=True):
    """The envelope with `data` left undecoded (its type depends on `t`): how clients read
    a frame first, and how the OpenAPI document shows the envelope."""

    v: int = PROTOCOL_VERSION
    t: ServerMessageType
    sid: str | None = None
    id: str | None = None
    seq: int | None = None
    corr: str | None = None
    t_wall: str | None = None
    t_mono_ms: int | None = None
    data: msgspec.Raw


def decode_server_message(frame: bytes | str) -> ServerEnvelope:
    """For clients and tests: a server frame with its `data` decoded as its `t` says."""
    raw = msgspec.json.decode(frame, type=RawServerEnvelope)
    data = msgspec.json.decode(raw.data, type=SERVER_DATA_TYPES[raw.t])
    fields = {name: getattr(raw, name) for name in raw.__struct_fields__ if name != "data"}
    return ServerEnvelope(**fields, data=data)


# ---------------------------------------------------------------- client messages


class _ClientMessage(msgspec.Struct, kw_only=True, tag_field="t"):
    # The envelope fields a client may send back; unknown fields are ignored.
    v: int = PROTOCOL_VERSION
    sid: str | None = None
    id: str | None = None
    seq: int | None = None
    corr: str | None = None


class ClientHello(_ClientMessage, tag="client.hello"):
    data: HelloData = msgspec.field(default_factory=HelloData)


class ClientHeartbeat(_ClientMessage, tag="client.hb"):
    data: HeartbeatData = msgspec.field(default_factory=HeartbeatData)


class ClientAck(_ClientMessage, tag="client.ack"):
    data: AckData


class ClientFlow(_ClientMessage, tag="client.flow"):
    data: FlowData


class ClientAudioEnd(_ClientMessage, tag="client.audio.end"):
    """Flush: finalise what was said so far (the socket stays open for the last captions)."""

    data: EmptyData = msgspec.field(default_factory=EmptyData)


ClientMessage: TypeAlias = ClientHello | ClientHeartbeat | ClientAck | ClientFlow | ClientAudioEnd
CLIENT_MESSAGE_TYPES: Final = frozenset(
    str(kind.__struct_config__.tag)
    for kind in (ClientHello, ClientHeartbeat, ClientAck, ClientFlow, ClientAudioEnd)
)

ClientErrorReason = Literal["not_json", "not_an_object", "missing_type", "unknown_type", "invalid"]


class ClientMessageError(ValueError):
    """A client text frame that is not a valid message: why, and which field (`data.x`)."""

    def __init__(self, reason: ClientErrorReason, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.reason: ClientErrorReason = reason
        self.message = message
        self.field = field


_client_decoder = msgspec.json.Decoder(ClientMessage)


def decode_client_message(frame: bytes | str) -> ClientMessage:
    """Validate a client text frame and pick its message type, in one step.

    Raises ClientMessageError: not JSON, not an object, no `t`, a `t` this protocol does
    not know, or a field with a bad value (its path in `field`, e.g. `data.sample_rate`).
    """
    try:
        return _client_decoder.decode(frame)
    except msgspec.ValidationError as exc:
        raise _explain(frame, exc) from exc
    except msgspec.DecodeError as exc:
        raise ClientMessageError("not_json", f"The frame is not valid JSON: {exc}") from exc


def _explain(frame: bytes | str, exc: msgspec.ValidationError) -> ClientMessageError:
    message = str(exc)
    parsed: Any = msgspec.json.decode(frame)  # valid JSON: the decoder got past parsing
    if not isinstance(parsed, dict):
        return ClientMessageError("not_an_object", "A message must be a JSON object.")
    if "t" not in parsed:
        return ClientMessageError("missing_type", "A message needs a type: the `t` field.", "t")
    if parsed["t"] not in CLIENT_MESSAGE_TYPES:
        known = ", ".join(sorted(CLIENT_MESSAGE_TYPES))
        return ClientMessageError(
            "unknown_type", f"Unknown message type {parsed['t']!r}; expected one of {known}.", "t"
        )
    return ClientMessageError("invalid", message, _field_of(message))


def _field_of(message: str) -> str | None:
    """The dotted path msgspec names: `... - at `$.data`` -> `data`; a missing field is
    appended (`Object missing required field `ack_seq` - at `$.data`` -> `data.ack_seq`)."""
    path = message.rpartition("at `$")[2].rstrip("`").lstrip(".") if "at `$" in message else ""
    missing = _MISSING.search(message)
    parts = [part for part in (path, missing.group(1) if missing else "") if part]
    return ".".join(parts) or None


_MISSING = re.compile(r"missing required field `([^`]+)`")


def encode(message: ServerEnvelope) -> bytes:
    return _encoder.encode(message)


_encoder = msgspec.json.Encoder()
