"""A live session's server messages: numbered, stamped, kept for a client that reconnects,
and let out as the client's window allows.

Numbered messages (captions, translations, status) get `seq` +1 each, in the order they
are added, and go out in that order; they are the session's: a client that reconnects with
`resume {sid, last_seq}` gets every one after `last_seq` again. Connection messages
(`server.welcome` with seq 0 as in LoquiLex, `server.hb`, `server.error` about a frame) carry
no seq, pass the window and are not replayed: an ack counts numbered messages only.

Kept: every message not yet sent, and of the sent ones the last `replay_messages` that are
under `resume_seconds` old. Past the window at most `max_held_messages` wait; one more and
the stream fails with QUEUE_FULL (a client that stopped acknowledging is not buffered for
ever).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.live.errors import StreamError
from gateway.live.flow import FlowWindow
from gateway.live.limits import LiveLimits
from protocol.api.live import (
    AckMode,
    ServerData,
    ServerEnvelope,
    ServerMessageType,
    WelcomeData,
)
from protocol.errors import ErrorCode


@dataclass(frozen=True)
class _Kept:
    at: float
    envelope: ServerEnvelope


class SessionOutbox:
    def __init__(
        self,
        sid: str,
        limits: LiveLimits | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sid = sid
        self.limits = limits or LiveLimits()
        self.window = FlowWindow(self.limits.max_in_flight)
        self._clock = clock
        self._wall = wall
        self._started = clock()
        self._kept: deque[_Kept] = deque()
        self.last_seq = 0
        self._connection_messages = 0

    # ------------------------------------------------------------ making messages

    def add(
        self, t: ServerMessageType, data: ServerData, corr: str | None = None
    ) -> ServerEnvelope:
        """A numbered message of the session: kept, and sent when the window allows."""
        if self.held >= self.limits.max_held_messages:
            raise StreamError(
                ErrorCode.QUEUE_FULL,
                f"{self.held} messages wait for acknowledgements (client.ack); "
                f"the limit is {self.limits.max_held_messages}.",
                fatal=True,
            )
        self.last_seq += 1
        envelope = self._stamp(t, data, corr, seq=self.last_seq, id=f"{self.sid}:{self.last_seq}")
        self._kept.append(_Kept(at=self._clock(), envelope=envelope))
        self._forget_old()
        return envelope

    def connection_message(
        self, t: ServerMessageType, data: ServerData, corr: str | None = None
    ) -> ServerEnvelope:
        """A message of this connection only (heartbeat, an error about a frame): no seq."""
        self._connection_messages += 1
        return self._stamp(t, data, corr, seq=None, id=f"{self.sid}:c{self._connection_messages}")

    def welcome(self, data: WelcomeData) -> ServerEnvelope:
        self._connection_messages += 1
        return self._stamp(
            "server.welcome", data, None, seq=0, id=f"{self.sid}:c{self._connection_messages}"
        )

    # ------------------------------------------------------------ the client's side

    def configure(self, ack_mode: AckMode, max_in_flight: int) -> None:
        """From `client.hello`: the window the client asked for, within the server's limit."""
        self.window.mode = ack_mode
        self.window.resize(max_in_flight)

    def ack(self, ack_seq: int) -> None:
        self.window.ack(ack_seq)

    def resize(self, max_in_flight: int) -> None:
        self.window.resize(max_in_flight)

    def resume(self, last_seq: int) -> None:
        """A reconnecting client has everything up to `last_seq`: every later message is
        sent again, in order. Raises StreamError (not fatal) when some of those are no
        longer kept: what is kept is still sent."""
        if last_seq > self.last_seq:
            raise StreamError(
                ErrorCode.INVALID_REQUEST,
                f"resume.last_seq {last_seq} is beyond the session's last message "
                f"({self.last_seq}).",
            )
        self._forget_old()
        first_kept = self._kept[0].envelope.seq if self._kept else self.last_seq + 1
        assert first_kept is not None
        self.window.restart_after(max(last_seq, first_kept - 1))
        if first_kept > last_seq + 1:
            raise StreamError(
                ErrorCode.INVALID_REQUEST,
                f"Messages {last_seq + 1} to {first_kept - 1} are older than the resume window "
                f"({self.limits.resume_seconds} s, {self.limits.replay_messages} messages) "
                f"and are gone; sending from {first_kept}.",
            )

    def sendable(self) -> list[ServerEnvelope]:
        """The numbered messages the window lets out now, in order (marked sent)."""
        out: list[ServerEnvelope] = []
        for kept in self._kept:
            seq = kept.envelope.seq
            assert seq is not None
            if seq <= self.window.sent_upto:
                continue
            if self.window.room == 0:
                break
            self.window.sent(seq)
            out.append(kept.envelope)
        self._forget_old()
        return out

    @property
    def held(self) -> int:
        """Numbered messages made but not sent (waiting for the window)."""
        return self.last_seq - self.window.sent_upto

    def elapsed_ms(self) -> int:
        return int((self._clock() - self._started) * 1000)

    # ------------------------------------------------------------ inside

    def _stamp(
        self,
        t: ServerMessageType,
        data: ServerData,
        corr: str | None,
        *,
        seq: int | None,
        id: str,
    ) -> ServerEnvelope:
        return ServerEnvelope(
            t=t,
            sid=self.sid,
            id=id,
            seq=seq,
            corr=corr,
            t_wall=self._wall().isoformat(timespec="milliseconds"),
            t_mono_ms=self.elapsed_ms(),
            data=data,
        )

    def _forget_old(self) -> None:
        """Drop sent messages past the replay bounds (never one still to be sent)."""
        oldest_allowed = self._clock() - self.limits.resume_seconds
        sent = self.window.sent_upto
        while self._kept:
            head = self._kept[0]
            seq = head.envelope.seq
            assert seq is not None
            kept_sent = sent - seq + 1  # sent messages kept, counting this one
            if seq > sent or (
                kept_sent <= self.limits.replay_messages and head.at >= oldest_allowed
            ):
                return
            self._kept.popleft()
