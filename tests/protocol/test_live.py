"""The live WebSocket protocol: LoquiLex's message types and field names, one-step decoding
of client frames with clear errors."""

from __future__ import annotations

import msgspec
import pytest

from protocol.api.live import (
    AsrFinalData,
    AsrPartialData,
    ClientAck,
    ClientAudioEnd,
    ClientFlow,
    ClientHeartbeat,
    ClientHello,
    ClientMessageError,
    HeartbeatConfig,
    MtFinalData,
    ResumeWindow,
    ServerEnvelope,
    ServerErrorData,
    ServerLimits,
    StatusData,
    WelcomeData,
    WordTiming,
    decode_client_message,
    decode_server_message,
    encode,
    segment_id,
)
from protocol.errors import ErrorCode


def test_server_envelope_has_loquilex_fields_in_order() -> None:
    envelope = ServerEnvelope(
        t="asr.partial",
        sid="s1",
        id="s1:7",
        seq=7,
        t_wall="2024-01-13T14:30:22.150+00:00",
        t_mono_ms=1520,
        data=AsrPartialData(text="hello wor", segment_id=segment_id(3), stable_text="hello"),
    )
    decoded = msgspec.json.decode(encode(envelope))
    assert list(decoded) == ["v", "t", "sid", "id", "seq", "corr", "t_wall", "t_mono_ms", "data"]
    assert decoded["v"] == 1
    assert decoded["data"] == {
        "text": "hello wor",
        "segment_id": "seg_000003",
        "final": False,
        "stable_text": "hello",
    }


def test_segment_ids_sort_in_segment_order() -> None:
    ids = [segment_id(i) for i in (0, 9, 10, 123_456)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 4


def test_final_omits_words_unless_given() -> None:
    final = AsrFinalData(text="hi", segment_id="seg_000000", start_ms=0, end_ms=300)
    assert msgspec.json.decode(msgspec.json.encode(final)) == {
        "text": "hi",
        "segment_id": "seg_000000",
        "start_ms": 0,
        "end_ms": 300,
    }
    final.words = [WordTiming(word="hi", start_ms=0, end_ms=300, confidence=0.9)]
    assert msgspec.json.decode(msgspec.json.encode(final))["words"] == [
        {"word": "hi", "start_ms": 0, "end_ms": 300, "confidence": 0.9}
    ]


def test_welcome_and_error_and_mt_shapes() -> None:
    welcome = WelcomeData(hb=HeartbeatConfig(), resume_window=ResumeWindow(), limits=ServerLimits())
    assert msgspec.json.decode(msgspec.json.encode(welcome)) == {
        "hb": {"interval_ms": 10_000, "timeout_ms": 30_000},
        "resume_window": {"seconds": 300, "token": None},
        "limits": {"max_in_flight": 64, "max_msg_bytes": 131_072},
    }
    error = ServerErrorData(code=ErrorCode.QUEUE_FULL, detail="slow down")
    assert msgspec.json.decode(msgspec.json.encode(error)) == {
        "code": "QUEUE_FULL",
        "detail": "slow down",
    }
    mt = MtFinalData(text="bonjour", src="en", tgt="fr", segment_id="seg_000001")
    assert set(msgspec.json.decode(msgspec.json.encode(mt))) == {"text", "src", "tgt", "segment_id"}


def test_server_frames_decode_with_their_data_type() -> None:
    frame = encode(ServerEnvelope(t="status", sid="s", seq=2, data=StatusData(stage="recovering")))
    decoded = decode_server_message(frame)
    assert decoded.data == StatusData(stage="recovering")
    assert decoded.seq == 2


def test_a_loquilex_hello_without_audio_fields_gets_the_defaults() -> None:
    message = decode_client_message(
        b'{"v":1,"t":"client.hello","data":{"agent":"loquilex-ui/0.3","accept":["asr.partial"],'
        b'"ack_mode":"per-message","max_in_flight":16,"resume":{"sid":"s1","last_seq":41}}}'
    )
    assert isinstance(message, ClientHello)
    data = message.data
    assert (data.agent, data.ack_mode, data.max_in_flight) == ("loquilex-ui/0.3", "per-message", 16)
    assert data.resume is not None and (data.resume.sid, data.resume.last_seq) == ("s1", 41)
    assert (data.encoding, data.sample_rate, data.channels) == ("pcm_s16le", 16_000, 1)


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (b'{"t":"client.hb","data":{"ts":"2024-01-01T00:00:00Z","q_in":1}}', ClientHeartbeat),
        (b'{"t":"client.hb"}', ClientHeartbeat),
        (b'{"t":"client.ack","data":{"ack_seq":5}}', ClientAck),
        (b'{"t":"client.flow","data":{"max_in_flight":8}}', ClientFlow),
        (b'{"t":"client.audio.end"}', ClientAudioEnd),
        (b'{"t":"client.audio.end","future_field":1}', ClientAudioEnd),
    ],
)
def test_each_client_message_type_dispatches(frame: bytes, kind: type) -> None:
    assert isinstance(decode_client_message(frame), kind)


@pytest.mark.parametrize(
    ("frame", "reason", "field"),
    [
        (b"{nope", "not_json", None),
        (b"[1, 2]", "not_an_object", None),
        (b'{"data":{}}', "missing_type", "t"),
        (b'{"t":"client.dance"}', "unknown_type", "t"),
        (b'{"t":42}', "unknown_type", "t"),
        (b'{"t":"client.ack"}', "invalid", "data"),
        (b'{"t":"client.ack","data":{}}', "invalid", "data.ack_seq"),
        (b'{"t":"client.ack","data":{"ack_seq":-1}}', "invalid", "data.ack_seq"),
        (b'{"t":"client.flow","data":{"max_in_flight":0}}', "invalid", "data.max_in_flight"),
        (b'{"t":"client.hello","data":{"sample_rate":4000}}', "invalid", "data.sample_rate"),
        (b'{"t":"client.hello","data":{"sample_rate":96000}}', "invalid", "data.sample_rate"),
        (b'{"t":"client.hello","data":{"encoding":"opus"}}', "invalid", "data.encoding"),
        (b'{"t":"client.hello","data":{"channels":2}}', "invalid", "data.channels"),
        (b'{"t":"client.hello","data":{"resume":{"sid":"a"}}}', "invalid", "data.resume.last_seq"),
        (b'{"t":"client.hello","data":{"ack_mode":"sometimes"}}', "invalid", "data.ack_mode"),
    ],
)
def test_bad_client_frames_say_what_is_wrong(frame: bytes, reason: str, field: str | None) -> None:
    with pytest.raises(ClientMessageError) as caught:
        decode_client_message(frame)
    assert caught.value.reason == reason
    assert caught.value.field == field
    assert caught.value.message


def test_sample_rate_bounds_are_inclusive() -> None:
    for rate in (8_000, 44_100, 48_000):
        hello = {"t": "client.hello", "data": {"sample_rate": rate, "encoding": "f32le"}}
        message = decode_client_message(msgspec.json.encode(hello))
        assert isinstance(message, ClientHello) and message.data.sample_rate == rate
