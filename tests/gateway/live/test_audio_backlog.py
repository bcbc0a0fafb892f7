"""The audio no final covers yet: trimmed as finals arrive, bounded, handed to a new worker
from where the last final ended."""

from __future__ import annotations

import pytest

from gateway.live.audio_backlog import AudioBacklog
from gateway.live.errors import StreamError
from gateway.live.frames import AudioFormat
from protocol.errors import ErrorCode


def _frames(first: int, count: int) -> bytes:
    """s16le frames whose values are their own index, to see which ones are kept."""
    return b"".join(
        (i % 30_000).to_bytes(2, "little", signed=True) for i in range(first, first + count)
    )


def test_finals_release_the_audio_they_cover() -> None:
    backlog = AudioBacklog(AudioFormat("pcm_s16le", 16_000), max_seconds=10)
    backlog.append(_frames(0, 8_000))
    backlog.append(_frames(8_000, 8_000))
    assert backlog.held_frames == 16_000
    backlog.release_through(5_000)
    held = backlog.held()
    assert held.start_frame == 5_000
    assert held.payload == _frames(5_000, 11_000)
    assert backlog.start_stream_sample() == 5_000
    # A final never moves the start back, nor past what was received.
    backlog.release_through(4_000)
    assert backlog.held().start_frame == 5_000
    backlog.release_through(99_999)
    assert backlog.held().payload == b"" and backlog.held().start_frame == 16_000


def test_other_rates_are_trimmed_in_client_frames() -> None:
    backlog = AudioBacklog(AudioFormat("pcm_s16le", 48_000), max_seconds=10)
    backlog.append(_frames(0, 48_000))
    # A final ending at 0.5 s of the 16 kHz stream clock: frame 24 000 at 48 kHz.
    backlog.release_through(8_000)
    assert backlog.held().start_frame == 24_000
    assert backlog.held().payload[:4] == _frames(24_000, 2)


def test_f32le_frames_are_four_bytes() -> None:
    backlog = AudioBacklog(AudioFormat("f32le", 16_000), max_seconds=1)
    backlog.append(b"\0" * 4 * 100)
    backlog.release_through(40)
    assert backlog.held_frames == 60 and len(backlog.held().payload) == 240


def test_audio_past_the_bound_is_refused_with_queue_full_until_finals_free_room() -> None:
    backlog = AudioBacklog(AudioFormat("pcm_s16le", 16_000), max_seconds=2)
    backlog.append(_frames(0, 32_000))
    with pytest.raises(StreamError) as caught:
        backlog.append(_frames(32_000, 1))
    assert caught.value.code is ErrorCode.QUEUE_FULL and not caught.value.fatal
    assert backlog.held_frames == 32_000  # the refused frame is not part of the stream
    backlog.release_through(16_000)
    backlog.append(_frames(32_000, 16_000))
    assert backlog.held_seconds == 2.0
