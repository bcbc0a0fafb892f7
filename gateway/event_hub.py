"""Fan-out of events to WebSocket subscribers, each with a bounded queue.

A subscriber that falls behind is told and dropped: it never grows memory without
bound or slows the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import msgspec

from protocol.api.events import Envelope

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Subscription:
    sid: str | None
    limit: int
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    dropped: bool = False

    def offer(self, frame: bytes) -> None:
        if self.dropped:
            return
        if self.queue.qsize() >= self.limit:
            self.dropped = True
            self.queue.put_nowait(None)  # tells the writer to close
            return
        self.queue.put_nowait(frame)


class EventHub:
    def __init__(self, queue_size: int = 256) -> None:
        self._queue_size = queue_size
        self._subscriptions: set[Subscription] = set()
        self._encoder = msgspec.json.Encoder()
        self._observers: list[Callable[[Envelope], None]] = []

    def observe(self, observer: Callable[[Envelope], None]) -> None:
        """Also hand every event to `observer`, in this process (the metrics count them)."""
        self._observers.append(observer)

    def subscribe(self, sid: str | None = None) -> Subscription:
        subscription = Subscription(sid=sid, limit=self._queue_size)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    def publish(self, event: Envelope, also: Collection[str] = ()) -> None:
        """Send to every subscriber of the event; `also` names more sessions it concerns
        (callers that joined a load another session started)."""
        for observer in self._observers:
            try:
                observer(event)
            except Exception:  # counting an event must never stop it from going out
                log.exception("an event observer failed on %s", event.t)
        frame = self._encoder.encode(event)
        for subscription in list(self._subscriptions):
            # A session subscriber sees its own events and the service-wide ones.
            sid = subscription.sid
            if sid is None or event.sid in (None, sid) or sid in also:
                subscription.offer(frame)
                if subscription.dropped:
                    log.warning("dropped a slow event subscriber (sid=%s)", subscription.sid)
                    self._subscriptions.discard(subscription)
