"""Client frames of a live stream, checked: text frames into protocol messages, binary
frames into audio of the format the hello declared, and every bad frame into a StreamError
with the service's code.

- a frame over `max_msg_bytes`: PAYLOAD_TOO_LARGE;
- text that is not JSON, not an object, has no `t` or an unknown one, or a bad field:
  INVALID_REQUEST;
- a `client.hello` with an encoding, rate or channel count not served: CONFIGURATION_ERROR
  (a new hello may follow);
- a second `client.hello` after one was accepted: INVALID_REQUEST (the format stays);
- binary before a hello, or after `client.audio.end`: INVALID_REQUEST;
- binary that is not whole samples (an odd byte count for s16le): INVALID_AUDIO.

None of these ends the stream: the frame is dropped and the stream goes on.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.live.errors import StreamError
from protocol.api.live import (
    AUDIO_FORMAT_FIELDS,
    BYTES_PER_SAMPLE,
    STREAM_SAMPLE_RATE,
    ClientAudioEnd,
    ClientHello,
    ClientMessage,
    ClientMessageError,
    decode_client_message,
)
from protocol.errors import ErrorCode
from protocol.vocabulary import RawEncoding


@dataclass(frozen=True)
class AudioFormat:
    encoding: RawEncoding
    sample_rate: int
    channels: int = 1

    @property
    def bytes_per_frame(self) -> int:
        return BYTES_PER_SAMPLE[self.encoding] * self.channels

    def frames_to_stream_samples(self, frames: int) -> int:
        """Client frames as samples of the 16 kHz stream clock the workers count in."""
        return frames * STREAM_SAMPLE_RATE // self.sample_rate

    def stream_samples_to_frames(self, samples: int) -> int:
        """The client frame a stream sample falls in (rounded down: never past it)."""
        return samples * self.sample_rate // STREAM_SAMPLE_RATE

    def seconds(self, frames: int) -> float:
        return frames / self.sample_rate


@dataclass(frozen=True)
class AudioChunk:
    payload: bytes
    frames: int


class FrameGate:
    """What a stream accepts so far: nothing but text until a hello set the audio format."""

    def __init__(self, max_msg_bytes: int) -> None:
        self.max_msg_bytes = max_msg_bytes
        self.format: AudioFormat | None = None
        self.audio_ended = False

    def text(self, frame: str | bytes) -> ClientMessage:
        """The message in a text frame, or StreamError."""
        self._check_size(frame)
        try:
            message = decode_client_message(frame)
        except ClientMessageError as exc:
            raise _refused(exc) from exc
        if isinstance(message, ClientHello):
            self._accept_hello(message)
        elif isinstance(message, ClientAudioEnd):
            self.audio_ended = True
        return message

    def binary(self, frame: bytes) -> AudioChunk:
        """The audio in a binary frame, or StreamError."""
        self._check_size(frame)
        if self.format is None:
            raise StreamError(
                ErrorCode.INVALID_REQUEST,
                "Audio before client.hello: send the hello (with the audio format) first.",
            )
        if self.audio_ended:
            raise StreamError(
                ErrorCode.INVALID_REQUEST, "Audio after client.audio.end: the audio has ended."
            )
        size = self.format.bytes_per_frame
        if len(frame) % size:
            raise StreamError(
                ErrorCode.INVALID_AUDIO,
                f"A {self.format.encoding} frame must hold whole {size}-byte samples; "
                f"this one has {len(frame)} bytes.",
            )
        return AudioChunk(payload=bytes(frame), frames=len(frame) // size)

    def _accept_hello(self, hello: ClientHello) -> None:
        data = hello.data
        if self.format is not None:
            raise StreamError(
                ErrorCode.INVALID_REQUEST,
                "client.hello was already accepted; the audio format cannot change mid-stream.",
            )
        self.format = AudioFormat(
            encoding=data.encoding, sample_rate=data.sample_rate, channels=data.channels
        )

    def _check_size(self, frame: str | bytes) -> None:
        size = len(frame.encode() if isinstance(frame, str) else frame)
        if size > self.max_msg_bytes:
            raise StreamError(
                ErrorCode.PAYLOAD_TOO_LARGE,
                f"A frame of {size} bytes is over the limit of {self.max_msg_bytes} "
                "(server.welcome limits.max_msg_bytes).",
            )


def _refused(exc: ClientMessageError) -> StreamError:
    field = exc.field or ""
    audio_field = field.removeprefix("data.")
    if field.startswith("data.") and audio_field in AUDIO_FORMAT_FIELDS:
        return StreamError(
            ErrorCode.CONFIGURATION_ERROR,
            f"Unsupported audio format ({audio_field}): {exc.message}. The stream takes "
            "pcm_s16le or f32le, 8000 to 48000 Hz, 1 channel.",
        )
    where = f" ({field})" if field else ""
    return StreamError(ErrorCode.INVALID_REQUEST, f"{exc.message}{where}")
