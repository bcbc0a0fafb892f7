"""A real worker process over a real ZeroMQ socket, driven by hand as the gateway would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from protocol.wire import messages as ipc
from tests.support.worker_peer import Peer, running_worker

pytestmark = pytest.mark.integration

MODEL = "openai/whisper-tiny.en"
AUDIO = Path(__file__).parent.parent / "fixtures" / "audio"


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[Peer]:
    with running_worker(tmp_path) as running:
        yield running


def test_hello_then_heartbeats(peer: Peer) -> None:
    hello = peer.hello
    assert hello is not None
    assert peer.identity == b"cpu-test"
    assert hello.pid == peer.process.pid
    assert hello.device == "cpu"
    assert "int8" in hello.compute_types and "float16" not in hello.compute_types
    assert hello.memory.total_mb > hello.memory.available_mb > 0
    beats = [peer.recv(skip_heartbeats=False) for _ in range(2)]
    assert all(isinstance(b, ipc.Heartbeat) for b in beats)
    assert [b.seq for b in beats if isinstance(b, ipc.Heartbeat)] == [1, 2]


def test_io_thread_answers_status_while_a_model_loads(peer: Peer) -> None:
    peer.send(
        ipc.LoadModel(
            request_id="load",
            model_id=MODEL,
            kind="asr",
            source=ipc.ModelSource(bundled=True),
            compute_type="int8",
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
    audio = (AUDIO / "kitchen_lights.wav").read_bytes()
    peer.send(ipc.Transcribe(request_id="t", model_id=MODEL), audio)
    reply = peer.recv()
    assert isinstance(reply, ipc.ErrorReply)
    assert (reply.request_id, reply.code) == ("t", "MODEL_NOT_LOADED")


def test_worker_exits_when_its_parent_is_gone(tmp_path: Path) -> None:
    # A parent pid that is not ours: the worker sees at start (parent_death) or at its first
    # heartbeat that its gateway is gone, and exits cleanly instead of lingering.
    endpoint = f"ipc://{tmp_path}/orphan.sock"
    command = [sys.executable, "-m", "worker", "--connect", endpoint, "--parent-pid", "1"]
    command += ["--heartbeat-interval", "0.2"]
    process = subprocess.Popen(command)
    assert process.wait(timeout=10) == 0


def test_a_load_past_its_timeout_is_discarded(peer: Peer) -> None:
    source = ipc.ModelSource(bundled=True)
    peer.send(
        ipc.LoadModel(
            request_id="l",
            model_id=MODEL,
            kind="asr",
            source=source,
            compute_type="int8",
            timeout_ms=1,
        )
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


def test_a_request_out_of_range_is_refused_with_a_reply(peer: Peer) -> None:
    # The gateway never sends this; a foreign or older peer might. Its caller must not wait.
    frame = msgspec.msgpack.encode(
        {"type": "Transcribe", "request_id": "t", "model_id": MODEL, "options": {"beam_size": 0}}
    )
    peer.socket.send_multipart([peer.identity, frame, b"\x00\x00"])
    reply = peer.recv()
    assert isinstance(reply, ipc.ErrorReply), reply
    assert (reply.request_id, reply.code) == ("t", "INVALID_REQUEST")
    assert reply.details == {"field": "options.beam_size"}
    peer.send(ipc.StatusRequest(request_id="after"))
    status = peer.recv()
    assert isinstance(status, ipc.StatusReply) and status.request_id == "after"
