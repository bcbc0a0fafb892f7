from __future__ import annotations

import asyncio

import msgspec

from gateway.event_hub import EventHub
from protocol.api.events import Envelope, ModelUnloaded, envelope


def _event(n: int, sid: str | None = None) -> Envelope:
    return envelope(
        "model.unloaded", ModelUnloaded(model_id=f"m{n}", memory_freed_mb=1.0, reason="t"), sid
    )


def _drain(queue: asyncio.Queue[bytes | None]) -> list[bytes | None]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def test_slow_subscriber_is_dropped_without_affecting_others() -> None:
    async def scenario() -> None:
        hub = EventHub(queue_size=3)
        slow = hub.subscribe()
        fast = hub.subscribe()
        for n in range(3):
            hub.publish(_event(n))
            fast.queue.get_nowait()
        hub.publish(_event(3))
        assert slow.dropped
        assert hub.subscriber_count == 1
        frames = _drain(slow.queue)
        assert frames[-1] is None  # the writer is told to close
        assert len(frames) == 4
        assert not fast.dropped
        received = fast.queue.get_nowait()
        assert received is not None
        assert msgspec.json.decode(received)["data"]["model_id"] == "m3"

    asyncio.run(scenario())


def test_session_subscriber_sees_its_own_and_global_events_only() -> None:
    async def scenario() -> None:
        hub = EventHub()
        mine = hub.subscribe("sess_aaaaaaaaaaaaaaaa")
        everything = hub.subscribe()
        hub.publish(_event(1, "sess_aaaaaaaaaaaaaaaa"))
        hub.publish(_event(2, "sess_bbbbbbbbbbbbbbbb"))
        hub.publish(_event(3))
        ids = [msgspec.json.decode(f)["data"]["model_id"] for f in _drain(mine.queue) if f]
        assert ids == ["m1", "m3"]
        assert len(_drain(everything.queue)) == 3

    asyncio.run(scenario())


def test_an_event_also_reaches_the_sessions_it_names() -> None:
    async def scenario() -> None:
        hub = EventHub()
        starter = hub.subscribe("sess_aaaaaaaaaaaaaaaa")
        joiner = hub.subscribe("sess_bbbbbbbbbbbbbbbb")
        bystander = hub.subscribe("sess_cccccccccccccccc")
        everything = hub.subscribe()
        hub.publish(_event(1, "sess_aaaaaaaaaaaaaaaa"), also={"sess_bbbbbbbbbbbbbbbb"})
        assert len(_drain(starter.queue)) == 1
        assert len(_drain(joiner.queue)) == 1
        assert _drain(bystander.queue) == []
        assert len(_drain(everything.queue)) == 1  # once, not once per session

    asyncio.run(scenario())
