"""A live session's messages: numbered in order, held past the client's window (never
dropped), replayed after `last_seq` on resume, bounded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.live.errors import StreamError
from gateway.live.limits import LiveLimits
from gateway.live.outbox import SessionOutbox
from protocol.api.live import (
    AsrPartialData,
    HeartbeatData,
    ServerEnvelope,
    StatusData,
    decode_server_message,
    encode,
)
from protocol.errors import ErrorCode


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _outbox(clock: Clock, **limits: int) -> SessionOutbox:
    wall = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    return SessionOutbox("s1", LiveLimits(**limits), clock=clock, wall=lambda: wall)


def _partial(n: int) -> AsrPartialData:
    return AsrPartialData(text=f"word {n}", segment_id="seg_000000")


def _seqs(envelopes: list[ServerEnvelope]) -> list[int | None]:
    return [e.seq for e in envelopes]


def test_numbered_messages_count_up_and_carry_the_stream_clock() -> None:
    clock = Clock()
    outbox = _outbox(clock)
    first = outbox.add("asr.partial", _partial(1))
    clock.now += 0.25
    second = outbox.add("asr.partial", _partial(2))
    assert (first.seq, second.seq) == (1, 2)
    assert (first.t_mono_ms, second.t_mono_ms) == (0, 250)
    assert (first.id, second.id) == ("s1:1", "s1:2")
    assert first.sid == "s1"
    assert first.t_wall == "2025-01-02T03:04:05.000+00:00"
    assert decode_server_message(encode(second)).data == _partial(2)


def test_connection_messages_carry_no_seq_and_take_no_number() -> None:
    outbox = _outbox(Clock())
    welcome = outbox.welcome(LiveLimits().welcome())
    hb = outbox.connection_message("server.hb", HeartbeatData(q_out=0))
    message = outbox.add("status", StatusData(stage="ready"))
    assert (welcome.seq, hb.seq, message.seq) == (0, None, 1)
    assert welcome.id != hb.id
    assert outbox.sendable() == [message]


def test_past_the_window_messages_wait_for_acks() -> None:
    outbox = _outbox(Clock())
    outbox.configure("cumulative", 2)
    for n in range(5):
        outbox.add("asr.partial", _partial(n))
    assert _seqs(outbox.sendable()) == [1, 2]
    assert outbox.sendable() == []
    assert outbox.held == 3
    outbox.ack(1)
    assert _seqs(outbox.sendable()) == [3]
    outbox.ack(3)
    assert _seqs(outbox.sendable()) == [4, 5]
    assert outbox.held == 0


def test_per_message_acks_free_one_each() -> None:
    outbox = _outbox(Clock())
    outbox.configure("per-message", 2)
    for n in range(4):
        outbox.add("asr.partial", _partial(n))
    assert _seqs(outbox.sendable()) == [1, 2]
    outbox.ack(2)  # 1 is still out
    assert _seqs(outbox.sendable()) == [3]
    outbox.ack(2)  # twice is once
    assert outbox.sendable() == []
    outbox.ack(1)
    assert _seqs(outbox.sendable()) == [4]


def test_client_flow_widens_and_narrows_the_window_within_the_server_limit() -> None:
    outbox = _outbox(Clock(), max_in_flight=3)
    outbox.configure("cumulative", 1)
    for n in range(6):
        outbox.add("asr.partial", _partial(n))
    assert _seqs(outbox.sendable()) == [1]
    outbox.resize(100)  # clamped to the server's 3
    assert _seqs(outbox.sendable()) == [2, 3]
    outbox.ack(3)
    outbox.resize(0)  # at least one
    assert _seqs(outbox.sendable()) == [4]


def test_an_ack_beyond_what_was_sent_is_refused() -> None:
    outbox = _outbox(Clock())
    outbox.add("asr.partial", _partial(1))
    outbox.sendable()
    with pytest.raises(StreamError) as caught:
        outbox.ack(2)
    assert caught.value.code is ErrorCode.INVALID_REQUEST and not caught.value.fatal


def test_too_many_held_messages_fail_the_stream_with_queue_full() -> None:
    outbox = _outbox(Clock(), max_held_messages=3)
    outbox.configure("cumulative", 1)
    for n in range(3):
        outbox.add("asr.partial", _partial(n))
    outbox.sendable()
    outbox.add("asr.partial", _partial(3))  # 3 held: at the limit
    with pytest.raises(StreamError) as caught:
        outbox.add("asr.partial", _partial(4))
    assert caught.value.code is ErrorCode.QUEUE_FULL and caught.value.fatal
    assert outbox.last_seq == 4  # the refused message took no number
    # Acks make room again.
    outbox.ack(1)
    assert _seqs(outbox.sendable()) == [2]
    assert outbox.add("asr.partial", _partial(5)).seq == 5


def test_resume_sends_every_message_after_last_seq_in_order() -> None:
    outbox = _outbox(Clock())
    outbox.configure("cumulative", 64)
    for n in range(6):
        outbox.add("asr.partial", _partial(n))
    outbox.sendable()
    # The connection drops; the client had seen up to 3. On the new connection:
    outbox.resume(3)
    assert _seqs(outbox.sendable()) == [4, 5, 6]
    outbox.add("status", StatusData(stage="resumed"))
    assert _seqs(outbox.sendable()) == [7]


def test_resume_includes_messages_made_while_disconnected_and_held_ones() -> None:
    outbox = _outbox(Clock())
    outbox.configure("cumulative", 2)
    for n in range(5):
        outbox.add("asr.partial", _partial(n))
    outbox.sendable()  # 1, 2 out; 3-5 held
    outbox.resume(1)
    assert _seqs(outbox.sendable()) == [2, 3]


def test_resume_beyond_the_last_message_is_refused() -> None:
    outbox = _outbox(Clock())
    outbox.add("asr.partial", _partial(1))
    with pytest.raises(StreamError) as caught:
        outbox.resume(5)
    assert caught.value.code is ErrorCode.INVALID_REQUEST


def test_resume_past_the_kept_count_says_what_is_gone_and_sends_the_rest() -> None:
    outbox = _outbox(Clock(), replay_messages=3)
    outbox.configure("cumulative", 64)
    for n in range(10):
        outbox.add("asr.partial", _partial(n))
        outbox.sendable()
    with pytest.raises(StreamError) as caught:
        outbox.resume(2)
    assert caught.value.code is ErrorCode.INVALID_REQUEST and not caught.value.fatal
    assert "3 to 7" in caught.value.detail
    assert _seqs(outbox.sendable()) == [8, 9, 10]


def test_resume_past_the_window_in_seconds_is_too_old() -> None:
    clock = Clock()
    outbox = _outbox(clock, resume_seconds=60)
    outbox.add("asr.partial", _partial(1))
    outbox.sendable()
    clock.now += 61
    outbox.add("asr.partial", _partial(2))
    outbox.sendable()
    with pytest.raises(StreamError):
        outbox.resume(0)
    outbox.resume(1)  # message 2 is recent: kept
    assert _seqs(outbox.sendable()) == [2]


def test_unsent_messages_are_never_forgotten() -> None:
    clock = Clock()
    outbox = _outbox(clock, resume_seconds=1, replay_messages=1)
    outbox.configure("cumulative", 1)
    for n in range(4):
        outbox.add("asr.partial", _partial(n))
    clock.now += 100
    sent: list[int | None] = []
    for ack in range(4):
        sent += _seqs(outbox.sendable())
        outbox.ack(ack + 1)
    assert sent == [1, 2, 3, 4]
