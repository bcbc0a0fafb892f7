"""The link's reply routing on real sockets: a WorkerLink's ROUTER and plain DEALER peers
over ipc:// that answer by hand, no worker process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import zmq
import zmq.asyncio

from gateway.workers.exits import worker_exit
from gateway.workers.link import WorkerLink
from gateway.workers.pool import WorkerState
from protocol.errors import ErrorCode, ServiceError
from protocol.wire import messages as ipc

MEMORY = ipc.MemoryInfo(total_mb=1000, available_mb=500, process_rss_mb=50)
MODEL = ipc.LoadedModel(
    model_id="m",
    kind="asr",
    device="cpu",
    compute_type="int8",
    loaded_at="2026-01-01T00:00:00+00:00",
    memory_usage_mb=10,
    load_time_ms=5,
)
WAIT_S = 10.0  # only ever reached when something is broken


class PlainWorker:
    """A DEALER with a worker's identity that says hello and then answers by hand."""

    def __init__(self, context: zmq.asyncio.Context, endpoint: str, worker_id: str) -> None:
        self.worker_id = worker_id
        self.socket = context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.IDENTITY, worker_id.encode())
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(endpoint)

    async def send(self, message: ipc.WorkerMessage) -> None:
        await self.socket.send(ipc.encode(message))

    async def next(self) -> tuple[ipc.GatewayMessage, list[bytes]]:
        """The next message from the gateway and the frames after it."""
        frames = await asyncio.wait_for(self.socket.recv_multipart(), WAIT_S)
        return ipc.decode_from_gateway(frames[0]), frames[1:]

    async def silent(self, seconds: float) -> bool:
        """True if nothing comes from the gateway for `seconds`."""
        return not await self.socket.poll(int(seconds * 1000))


class Scene:
    def __init__(self, tmp_path: Path) -> None:
        self.heard: list[tuple[str, ipc.WorkerMessage]] = []
        self.greeted: set[str] = set()
        self.hellos_heard = asyncio.Event()
        self.expected: set[str] = set()
        self.link = WorkerLink(f"ipc://{tmp_path}/link.sock", self._on_message)
        self.context = zmq.asyncio.Context()
        self.workers: dict[str, PlainWorker] = {}

    def _on_message(self, worker_id: str, message: ipc.WorkerMessage) -> None:
        self.heard.append((worker_id, message))
        if isinstance(message, ipc.Hello):
            self.greeted.add(worker_id)
            if self.greeted == self.expected:
                self.hellos_heard.set()

    async def start(self, *worker_ids: str) -> None:
        self.expected = set(worker_ids)
        self.link.start()
        for worker_id in worker_ids:
            worker = PlainWorker(self.context, self.link.endpoint, worker_id)
            self.workers[worker_id] = worker
            await worker.send(
                ipc.Hello(worker_id=worker_id, device="cpu", pid=1, host="h", memory=MEMORY)
            )
        # Once the link has heard each hello, it can route to that worker.
        await asyncio.wait_for(self.hellos_heard.wait(), WAIT_S)

    async def stop(self) -> None:
        await self.link.close()
        for worker in self.workers.values():
            worker.socket.close(linger=0)
        self.context.term()


def play(tmp_path: Path, body: Callable[[Scene], Awaitable[None]], *workers: str) -> None:
    async def scenario() -> None:
        scene = Scene(tmp_path)
        await scene.start(*workers)
        try:
            await body(scene)
        finally:
            await scene.stop()

    asyncio.run(scenario())


def status(rid: str) -> ipc.StatusRequest:
    return ipc.StatusRequest(request_id=rid)


def status_reply(rid: str) -> ipc.StatusReply:
    return ipc.StatusReply(request_id=rid, models=[], memory=MEMORY)


def progress(rid: str, percent: float) -> ipc.LoadProgress:
    return ipc.LoadProgress(
        request_id=rid, model_id="m", stage="loading_weights", progress=percent, memory_used_mb=1
    )


def percent_of(partial: ipc.PartialReply) -> float:
    assert isinstance(partial, ipc.LoadProgress), partial
    return partial.progress


def load(rid: str) -> ipc.LoadModel:
    return ipc.LoadModel(
        request_id=rid,
        model_id="m",
        kind="asr",
        source=ipc.ModelSource(bundled=True),
        compute_type="int8",
    )


# ---------------------------------------------------------------- routing


def test_a_reply_resolves_only_its_own_request_and_only_from_its_worker(tmp_path: Path) -> None:
    async def body(scene: Scene) -> None:
        link, w1, w2 = scene.link, scene.workers["w1"], scene.workers["w2"]
        first = asyncio.create_task(link.request("w1", status("r1"), request_id="r1"))
        second = asyncio.create_task(link.request("w1", status("r2"), request_id="r2"))
        received = [(await w1.next())[0], (await w1.next())[0]]
        assert received == [status("r1"), status("r2")]
        assert link.pending_for("w1") == 2

        await w2.send(status_reply("r1"))  # r1 was sent to w1: w2 may not answer it
        await w1.send(status_reply("r2"))
        reply = await asyncio.wait_for(second, WAIT_S)
        assert reply.request_id == "r2"
        assert not first.done() and link.pending_for("w1") == 1

        await w1.send(status_reply("r1"))
        assert (await asyncio.wait_for(first, WAIT_S)).request_id == "r1"
        assert link.pending_for("w1") == 0

    play(tmp_path, body, "w1", "w2")


def test_partial_replies_arrive_in_order_before_the_final_one(tmp_path: Path) -> None:
    async def body(scene: Scene) -> None:
        link, w1 = scene.link, scene.workers["w1"]
        seen: list[float] = []
        async with link.stream("w1", load("l1"), request_id="l1") as stream:
            assert (await w1.next())[0] == load("l1")
            for percent in (5.0, 20.0, 60.0):
                await w1.send(progress("l1", percent))
            await w1.send(ipc.LoadResult(request_id="l1", model=MODEL))
            async for partial in stream:
                assert isinstance(partial, ipc.LoadProgress)
                seen.append(percent_of(partial))
            assert stream.final == ipc.LoadResult(request_id="l1", model=MODEL)
            assert not stream.is_open
        assert seen == [5.0, 20.0, 60.0]
        # The pool still hears of every load result, to track the worker's models.
        assert ("w1", ipc.LoadResult(request_id="l1", model=MODEL)) in scene.heard
        assert await w1.silent(0.2)  # a stream that ended sends no Cancel

    play(tmp_path, body, "w1")


def test_an_error_reply_raises_a_service_error_with_its_code(tmp_path: Path) -> None:
    async def body(scene: Scene) -> None:
        link, w1 = scene.link, scene.workers["w1"]
        asked = asyncio.create_task(link.request("w1", status("r1"), request_id="r1"))
        await w1.next()
        details = {"retry_after_s": 2.0, "queued": 3}
        await w1.send(
            ipc.ErrorReply(
                request_id="r1", code=ErrorCode.QUEUE_FULL, message="full", details=details
            )
        )
        with pytest.raises(ServiceError) as caught:
            await asyncio.wait_for(asked, WAIT_S)
        assert caught.value.code is ErrorCode.QUEUE_FULL
        assert (caught.value.message, caught.value.details) == ("full", details)

        # Partials first, then the error: the stream raises once the error comes.
        async with link.stream("w1", load("l1"), request_id="l1") as stream:
            await w1.next()
            await w1.send(progress("l1", 5.0))
            await w1.send(
                ipc.ErrorReply(request_id="l1", code=ErrorCode.DOWNLOAD_REQUIRED, message="x")
            )
            assert percent_of(await anext(stream)) == 5.0
            with pytest.raises(ServiceError) as failed:
                await anext(stream)
            assert failed.value.code is ErrorCode.DOWNLOAD_REQUIRED
            with pytest.raises(ServiceError):  # and keeps raising it
                await stream.result()

    play(tmp_path, body, "w1")


def test_a_lost_worker_fails_its_open_streams_at_once_and_no_others(tmp_path: Path) -> None:
    async def body(scene: Scene) -> None:
        link, w1, w2 = scene.link, scene.workers["w1"], scene.workers["w2"]
        on_w1 = link.stream("w1", load("l1"), request_id="l1")
        await on_w1.open()
        await w1.next()
        await w1.send(progress("l1", 5.0))
        asked_w2 = asyncio.create_task(link.request("w2", status("r2"), request_id="r2"))
        await w2.next()
        idle = asyncio.create_task(link.wait_idle("w1"))
        await asyncio.sleep(0.05)
        assert not idle.done()

        lost = WorkerState("w1", "cpu", last_exit=worker_exit("crash", "killed by signal 9"))
        link.worker_lost(lost, "it crashed")
        assert percent_of(await anext(on_w1)) == 5.0  # what came before the loss
        with pytest.raises(ServiceError) as caught:
            await asyncio.wait_for(anext(on_w1), WAIT_S)
        assert caught.value.code is ErrorCode.WORKER_UNAVAILABLE
        assert caught.value.details["worker_id"] == "w1"
        with pytest.raises(ServiceError, match="w1"):  # sending more fails the same way
            await on_w1.send(ipc.Cancel(request_id="l1"))
        await asyncio.wait_for(idle, WAIT_S)
        assert link.pending_for("w1") == 0
        on_w1.close()
        assert await w1.silent(0.2)  # nothing to cancel on a worker that is gone

        assert not asked_w2.done()
        await w2.send(status_reply("r2"))
        assert (await asyncio.wait_for(asked_w2, WAIT_S)).request_id == "r2"

    play(tmp_path, body, "w1", "w2")


def test_unknown_request_ids_are_dropped(tmp_path: Path) -> None:
    async def body(scene: Scene) -> None:
        link, w1 = scene.link, scene.workers["w1"]
        await w1.send(status_reply("nobody-asked"))
        await w1.send(ipc.LoadResult(request_id="nobody-asked", model=MODEL))
        await w1.send(progress("nobody-asked", 5.0))
        asked = asyncio.create_task(link.request("w1", status("r1"), request_id="r1"))
        await w1.next()
        await w1.send(status_reply("r1"))
        assert (await asyncio.wait_for(asked, WAIT_S)).request_id == "r1"
        # Neither the stray result nor the stray progress reached anyone.
        assert [m for _, m in scene.heard if not isinstance(m, ipc.Hello)] == []

    play(tmp_path, body, "w1")


# ---------------------------------------------------------------- leaving early, follow-ups


def test_leaving_a_stream_early_sends_cancel_and_later_replies_are_dropped(
    tmp_path: Path,
) -> None:
    async def body(scene: Scene) -> None:
        link, w1 = scene.link, scene.workers["w1"]
        async with link.stream("w1", load("l1"), request_id="l1") as stream:
            await w1.next()
            await w1.send(progress("l1", 5.0))
            async for _ in stream:
                break
        assert await w1.next() == (ipc.Cancel(request_id="l1"), [])
        assert link.pending_for("w1") == 0
        await w1.send(ipc.LoadResult(request_id="l1", model=MODEL))  # too late: dropped

        class Oops(Exception):
            pass

        with pytest.raises(Oops):
            async with link.stream("w1", load("l2"), request_id="l2"):
                await w1.next()
                raise Oops
        assert await w1.next() == (ipc.Cancel(request_id="l2"), [])

        asked = asyncio.create_task(link.request("w1", status("r3"), request_id="r3"))
        await w1.next()
        asked.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asked
        assert await w1.next() == (ipc.Cancel(request_id="r3"), [])
        assert link.pending_for("w1") == 0
        assert not any(isinstance(m, ipc.LoadResult) for _, m in scene.heard)

    play(tmp_path, body, "w1")


def test_follow_up_messages_go_to_the_worker_with_their_own_frames(tmp_path: Path) -> None:
    async def body(scene: Scene) -> None:
        link, w1 = scene.link, scene.workers["w1"]
        audio = b"\x00\x01" * 100
        request = ipc.Transcribe(request_id="t1", model_id="m", audio_format="pcm_s16le")
        async with link.stream("w1", request, audio, request_id="t1") as stream:
            assert await w1.next() == (request, [audio])
            await stream.send(ipc.Cancel(request_id="t1"), b"chunk-1", b"chunk-2")
            assert await w1.next() == (ipc.Cancel(request_id="t1"), [b"chunk-1", b"chunk-2"])
            with pytest.raises(ValueError, match="t1"):
                await stream.send(ipc.Cancel(request_id="other"))
            await w1.send(
                ipc.ErrorReply(request_id="t1", code=ErrorCode.INVALID_AUDIO, message="not speech")
            )
            with pytest.raises(ServiceError):
                await stream.result()
            with pytest.raises(ServiceError, match="not speech"):  # the request has ended
                await stream.send(ipc.Cancel(request_id="t1"))

    play(tmp_path, body, "w1")


def test_a_stream_times_out_only_after_a_silence_and_then_cancels(tmp_path: Path) -> None:
    async def body(scene: Scene) -> None:
        link, w1 = scene.link, scene.workers["w1"]

        async def keep_reporting() -> None:
            for percent in (1.0, 2.0, 3.0, 4.0):  # 1.6 s in all, never 1 s apart
                await asyncio.sleep(0.4)
                await w1.send(progress("l1", percent))

        seen: list[float] = []
        with pytest.raises(TimeoutError):
            async with link.stream("w1", load("l1"), request_id="l1", stall_timeout_s=1.0) as s:
                await w1.next()
                reporting = asyncio.create_task(keep_reporting())
                async for partial in s:
                    seen.append(percent_of(partial))
        await reporting
        assert seen == [1.0, 2.0, 3.0, 4.0]  # progress kept it alive past 1 s
        assert await w1.next() == (ipc.Cancel(request_id="l1"), [])

    play(tmp_path, body, "w1")


def test_a_refused_worker_gets_nothing(tmp_path: Path) -> None:
    async def body(scene: Scene) -> None:
        link, w1 = scene.link, scene.workers["w1"]
        refusal = ServiceError(ErrorCode.WORKER_UNAVAILABLE, "draining", {"worker_id": "w1"})
        link.gate = lambda worker_id: refusal if worker_id == "w1" else None
        with pytest.raises(ServiceError, match="draining"):
            await link.request("w1", status("r1"), request_id="r1")
        assert link.pending_for("w1") == 0
        assert await w1.silent(0.2)

    play(tmp_path, body, "w1")
