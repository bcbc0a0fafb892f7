"""A real worker process over a real ZeroMQ socket, driven by hand as the gateway would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import zmq

from protocol import ipc

MODEL = "openai/whisper-tiny.en"
AUDIO = Path(__file__).parent.parent / "fixtures" / "audio"


@dataclass
class Peer:
    socket: zmq.Socket[bytes]
    process: subprocess.Popen[bytes]
    identity: bytes = b""

    def recv(self, timeout_s: float = 30.0, skip_heartbeats: bool = True) -> ipc.WorkerMessage:
        deadline = time.monotonic() + timeout_s
        while True:
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0 or not self.socket.poll(remaining_ms):
                raise AssertionError("the worker did not answer in time")
            identity, frame, *_ = self.socket.recv_multipart()
            self.identity = identity
            message = ipc.decode_from_worker(frame)
            if not (skip_heartbeats and isinstance(message, ipc.Heartbeat)):
                return message

    def send(self, message: ipc.GatewayMessage, *payload: bytes) -> None:
        self.socket.send_multipart([self.identity, ipc.encode(message), *payload])


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[Peer]:
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    router = context.socket(zmq.ROUTER)
    endpoint = f"ipc://{tmp_path}/w.sock"
    router.bind(endpoint)
    command = [sys.executable, "-m", "worker", "--device", "cpu", "--id", "cpu-test"]
    command += ["--connect", endpoint, "--parent-pid", str(os.getpid()), "--cpu-threads", "2"]
    command += ["--heartbeat-interval", "0.2"]
    process = subprocess.Popen(command)
    try:
        yield Peer(router, process)
    finally:
        process.kill()
        process.wait()
        router.close(linger=0)
        context.term()


def test_hello_then_heartbeats(peer: Peer) -> None:
    hello = peer.recv()
    assert isinstance(hello, ipc.Hello)
    assert peer.identity == b"cpu-test"
    assert hello.pid == peer.process.pid
    assert hello.device == "cpu"
    assert "int8" in hello.compute_types and "float16" not in hello.compute_types
    assert hello.memory.total_mb > hello.memory.available_mb > 0
    beats = [peer.recv(skip_heartbeats=False) for _ in range(2)]
    assert all(isinstance(b, ipc.Heartbeat) for b in beats)
    assert [b.seq for b in beats if isinstance(b, ipc.Heartbeat)] == [1, 2]


def test_io_thread_answers_status_while_a_model_loads(peer: Peer) -> None:
    peer.recv()  # hello
    peer.send(
        ipc.LoadModel(
            request_id="load", model_id=MODEL, kind="asr", source=ipc.ModelSource(bundled=True)
        )
    )
    peer.send(ipc.StatusRequest(request_id="status"))
    order: list[str] = []
    while "load" not in order:
        message = peer.recv()
        if isinstance(message, ipc.LoadProgress):
            continue
        assert isinstance(message, ipc.StatusReply | ipc.LoadResult), message
        order.append("status" if isinstance(message, ipc.StatusReply) else "load")
    # Status came back before the load finished: the I/O thread was never blocked.
    assert order == ["status", "load"]


def test_malformed_frames_are_dropped_and_the_worker_keeps_serving(peer: Peer) -> None:
    peer.recv()
    peer.send(ipc.StatusRequest(request_id="x"))  # learn nothing new, just warm the path
    assert isinstance(peer.recv(), ipc.StatusReply)
    peer.socket.send_multipart([peer.identity, b"\xc1not msgpack"])
    peer.socket.send_multipart(
        [
            peer.identity,
            ipc.encode(
                ipc.Heartbeat(
                    worker_id="x",
                    seq=1,
                    memory=ipc.MemoryInfo(total_mb=1, available_mb=1, process_rss_mb=1),
                )
            ),
        ]
    )
    peer.send(ipc.StatusRequest(request_id="after"))
    reply = peer.recv()
    assert isinstance(reply, ipc.StatusReply) and reply.request_id == "after"
    assert peer.process.poll() is None


def test_transcribing_a_model_that_is_not_loaded_is_an_error_reply(peer: Peer) -> None:
    peer.recv()
    audio = (AUDIO / "kitchen_lights.wav").read_bytes()
    peer.send(ipc.Transcribe(request_id="t", model_id=MODEL), audio)
    reply = peer.recv()
    assert isinstance(reply, ipc.ErrorReply)
    assert (reply.request_id, reply.code) == ("t", "MODEL_NOT_LOADED")


def test_worker_exits_when_its_parent_is_gone(tmp_path: Path) -> None:
    # A parent pid that is not ours: the worker sees at its first heartbeat that its
    # gateway is gone and exits instead of lingering.
    endpoint = f"ipc://{tmp_path}/orphan.sock"
    command = [sys.executable, "-m", "worker", "--connect", endpoint, "--parent-pid", "1"]
    command += ["--heartbeat-interval", "0.2"]
    process = subprocess.Popen(command)
    assert process.wait(timeout=10) == 0


def test_a_load_past_its_timeout_is_discarded(peer: Peer) -> None:
    peer.recv()
    source = ipc.ModelSource(bundled=True)
    peer.send(
        ipc.LoadModel(request_id="l", model_id=MODEL, kind="asr", source=source, timeout_ms=1)
    )
    reply = peer.recv()
    while isinstance(reply, ipc.LoadProgress):
        reply = peer.recv()
    assert isinstance(reply, ipc.ErrorReply)
    assert reply.code == "LOADING_TIMEOUT"
    peer.send(ipc.StatusRequest(request_id="s"))
    status = peer.recv()
    assert isinstance(status, ipc.StatusReply)
    assert status.models == []
