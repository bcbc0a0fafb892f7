"""The client's window: how many numbered messages may be out unacknowledged.

`cumulative` acks (LoquiLex's default) acknowledge every message up to `ack_seq`;
`per-message` acks one. Past the window the outbox holds captions back (they are never
dropped) until acks make room.
"""

from __future__ import annotations

from gateway.live.errors import StreamError
from protocol.api.live import AckMode
from protocol.errors import ErrorCode


class FlowWindow:
    def __init__(self, server_max: int, requested: int = 32, mode: AckMode = "cumulative") -> None:
        self.server_max = server_max
        self.mode: AckMode = mode
        self.size = self._clamp(requested)
        self.sent_upto = 0  # the highest seq sent
        self._acked_upto = 0  # every seq up to here is acknowledged
        self._acked_above: set[int] = set()  # per-message acks beyond _acked_upto

    @property
    def in_flight(self) -> int:
        return self.sent_upto - self._acked_upto - len(self._acked_above)

    @property
    def room(self) -> int:
        return max(0, self.size - self.in_flight)

    def resize(self, requested: int) -> None:
        """`client.flow {max_in_flight}` (within the server's limit)."""
        self.size = self._clamp(requested)

    def sent(self, seq: int) -> None:
        if seq != self.sent_upto + 1:
            raise ValueError(f"messages go out in order: {seq} after {self.sent_upto}")
        self.sent_upto = seq

    def ack(self, ack_seq: int) -> None:
        """`client.ack {ack_seq}`; an ack of a message not sent yet is refused."""
        if ack_seq > self.sent_upto:
            raise StreamError(
                ErrorCode.INVALID_REQUEST,
                f"ack_seq {ack_seq} is beyond the last message sent ({self.sent_upto}).",
            )
        if self.mode == "cumulative":
            self._advance(ack_seq)
        elif ack_seq > self._acked_upto:
            self._acked_above.add(ack_seq)
            self._advance(self._acked_upto)

    def restart_after(self, last_seq: int) -> None:
        """A resumed connection: the client has everything up to `last_seq`; what follows
        is sent again, through a fresh window."""
        self.sent_upto = last_seq
        self._acked_upto = last_seq
        self._acked_above.clear()

    def _advance(self, upto: int) -> None:
        self._acked_upto = max(self._acked_upto, upto)
        while self._acked_upto + 1 in self._acked_above:
            self._acked_upto += 1
        self._acked_above = {seq for seq in self._acked_above if seq > self._acked_upto}

    def _clamp(self, requested: int) -> int:
        return max(1, min(requested, self.server_max))
