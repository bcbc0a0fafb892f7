"""Client frames of a live stream: every bad frame gets the service's code, and none of them
ends the stream."""

from __future__ import annotations

import json

import pytest

from gateway.live.errors import StreamError
from gateway.live.frames import AudioFormat, FrameGate
from protocol.api.live import ClientAck, ClientAudioEnd, ClientHello
from protocol.errors import ErrorCode

HELLO = b'{"t":"client.hello","data":{"agent":"test","encoding":"pcm_s16le","sample_rate":16000}}'


def _refused(call: object) -> StreamError:
    assert callable(call)
    with pytest.raises(StreamError) as caught:
        call()
    assert caught.value.fatal is False
    return caught.value


def test_hello_sets_the_audio_format_then_audio_is_taken() -> None:
    gate = FrameGate(max_msg_bytes=1024)
    assert isinstance(gate.text(HELLO), ClientHello)
    assert gate.format == AudioFormat("pcm_s16le", 16_000)
    chunk = gate.binary(b"\x01\x00" * 160)
    assert chunk.frames == 160 and len(chunk.payload) == 320


def test_binary_before_hello_is_refused_and_the_stream_goes_on() -> None:
    gate = FrameGate(max_msg_bytes=1024)
    error = _refused(lambda: gate.binary(b"\0\0"))
    assert error.code is ErrorCode.INVALID_REQUEST
    assert "client.hello" in error.detail
    gate.text(HELLO)
    assert gate.binary(b"\0\0").frames == 1


@pytest.mark.parametrize(("encoding", "size"), [("pcm_s16le", 321), ("f32le", 322)])
def test_partial_samples_are_invalid_audio(encoding: str, size: int) -> None:
    gate = FrameGate(max_msg_bytes=4096)
    gate.text(json.dumps({"t": "client.hello", "data": {"encoding": encoding}}))
    error = _refused(lambda: gate.binary(b"\0" * size))
    assert error.code is ErrorCode.INVALID_AUDIO
    assert str(size) in error.detail


@pytest.mark.parametrize(
    "data",
    [
        '{"sample_rate":7999}',
        '{"sample_rate":48001}',
        '{"encoding":"mp3"}',
        '{"encoding":"pcm_s24le"}',
        '{"channels":2}',
    ],
)
def test_an_audio_format_not_served_is_a_configuration_error(data: str) -> None:
    gate = FrameGate(max_msg_bytes=1024)
    error = _refused(lambda: gate.text('{"t":"client.hello","data":' + data + "}"))
    assert error.code is ErrorCode.CONFIGURATION_ERROR
    assert "8000 to 48000 Hz" in error.detail
    # The stream goes on: a good hello is taken afterwards.
    assert isinstance(gate.text(HELLO), ClientHello)


@pytest.mark.parametrize(
    "frame",
    [b"{not json", b'"just a string"', b'{"t":"client.sing"}', b'{"t":"client.ack","data":{}}'],
)
def test_junk_unknown_types_and_bad_fields_are_invalid_requests(frame: bytes) -> None:
    gate = FrameGate(max_msg_bytes=1024)
    assert _refused(lambda: gate.text(frame)).code is ErrorCode.INVALID_REQUEST
    assert isinstance(gate.text(b'{"t":"client.ack","data":{"ack_seq":0}}'), ClientAck)


def test_the_field_at_fault_is_named() -> None:
    gate = FrameGate(max_msg_bytes=1024)
    error = _refused(lambda: gate.text(b'{"t":"client.flow","data":{"max_in_flight":0}}'))
    assert "data.max_in_flight" in error.detail


def test_frames_over_the_limit_are_too_large_text_or_binary() -> None:
    gate = FrameGate(max_msg_bytes=100)
    gate.text(HELLO)
    assert _refused(lambda: gate.binary(b"\0" * 102)).code is ErrorCode.PAYLOAD_TOO_LARGE
    big_text = '{"t":"client.hb","data":{"ts":"' + "x" * 100 + '"}}'
    assert _refused(lambda: gate.text(big_text)).code is ErrorCode.PAYLOAD_TOO_LARGE
    assert gate.binary(b"\0" * 100).frames == 50


def test_a_second_hello_cannot_change_the_format() -> None:
    gate = FrameGate(max_msg_bytes=1024)
    gate.text(HELLO)
    error = _refused(lambda: gate.text(b'{"t":"client.hello","data":{"sample_rate":8000}}'))
    assert error.code is ErrorCode.INVALID_REQUEST
    assert gate.format == AudioFormat("pcm_s16le", 16_000)


def test_audio_after_the_end_is_refused() -> None:
    gate = FrameGate(max_msg_bytes=1024)
    gate.text(HELLO)
    assert isinstance(gate.text(b'{"t":"client.audio.end"}'), ClientAudioEnd)
    assert _refused(lambda: gate.binary(b"\0\0")).code is ErrorCode.INVALID_REQUEST


def test_the_error_is_a_server_error_payload() -> None:
    error = StreamError(ErrorCode.QUEUE_FULL, "too much", fatal=True)
    assert error.data().code is ErrorCode.QUEUE_FULL and error.data().detail == "too much"


@pytest.mark.parametrize("rate", [8_000, 22_050, 44_100, 48_000])
def test_frames_and_stream_samples_convert_without_passing_the_point(rate: int) -> None:
    fmt = AudioFormat("f32le", rate)
    assert fmt.bytes_per_frame == 4
    for sample in (0, 1, 15_999, 16_000, 123_457):
        frame = fmt.stream_samples_to_frames(sample)
        # The frame holding the sample starts at or before it, and the next one after it.
        assert fmt.frames_to_stream_samples(frame) <= sample
        assert (frame + 1) * 16_000 > sample * rate
