"""The audio of a live stream that no final covers yet, kept so the stream can be re-opened
on a restarted worker from exactly there.

Kept as the client sent it (its encoding and rate): the gateway never imports numpy, the
worker converts frames anyway (they travel to it as they came), and s16le is half the bytes
of float32. Finals say where they end on the stream's 16 kHz clock (`end_sample`); the
backlog drops what is before that, rounded down to the client frame it falls in, so it keeps
at most one frame more than needed and never less.

Bounded: past `max_seconds` of audio not yet final, more audio is refused with QUEUE_FULL (a
producer faster than real time, or a worker that does not keep up); the refused frame is not
part of the stream.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.live.errors import StreamError
from gateway.live.frames import AudioFormat
from protocol.errors import ErrorCode


@dataclass(frozen=True)
class HeldAudio:
    """What a new worker gets: the audio from client frame `start_frame` on."""

    start_frame: int
    payload: bytes


class AudioBacklog:
    def __init__(self, audio_format: AudioFormat, max_seconds: float) -> None:
        self.format = audio_format
        self.max_frames = int(max_seconds * audio_format.sample_rate)
        self.start_frame = 0  # the client frame the kept bytes begin with
        self.received_frames = 0
        self._chunks: list[bytes] = []
        self._bytes = 0

    @property
    def held_frames(self) -> int:
        return self.received_frames - self.start_frame

    @property
    def held_seconds(self) -> float:
        return self.format.seconds(self.held_frames)

    def append(self, payload: bytes) -> None:
        size = self.format.bytes_per_frame
        if len(payload) % size:
            raise ValueError("audio must be whole frames (FrameGate checks this)")
        frames = len(payload) // size
        if self.held_frames + frames > self.max_frames:
            raise StreamError(
                ErrorCode.QUEUE_FULL,
                f"{self.held_seconds:.1f} s of audio wait to be captioned; the limit is "
                f"{self.max_frames / self.format.sample_rate:.0f} s. Send audio at real-time "
                "pace; this frame was not taken.",
            )
        if payload:
            self._chunks.append(payload)
            self._bytes += len(payload)
            self.received_frames += frames

    def release_through(self, end_sample: int) -> None:
        """A final covers the stream up to `end_sample` (16 kHz): drop the audio before it."""
        frame = min(self.received_frames, self.format.stream_samples_to_frames(end_sample))
        drop_bytes = (frame - self.start_frame) * self.format.bytes_per_frame
        if drop_bytes <= 0:
            return
        joined = b"".join(self._chunks)[drop_bytes:]
        self._chunks = [joined] if joined else []
        self._bytes = len(joined)
        self.start_frame = frame

    def held(self) -> HeldAudio:
        return HeldAudio(start_frame=self.start_frame, payload=b"".join(self._chunks))

    def start_stream_sample(self) -> int:
        """Where the held audio begins on the stream's 16 kHz clock."""
        return self.format.frames_to_stream_samples(self.start_frame)
