"""Lanes and Cancel in a real worker process with the bundled tiny.en: a short clip does not
wait behind long files, a cancelled request is dropped (waiting) or stopped (running)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol.wire import messages as ipc
from tests.support.worker_peer import Peer, running_worker

MODEL = "openai/whisper-tiny.en"
AUDIO = Path(__file__).parent.parent / "fixtures" / "audio"
LONG = (AUDIO / "long_story.wav").read_bytes()  # over 30 s: bulk by its size
SHORT = (AUDIO / "kitchen_lights.wav").read_bytes()  # a few seconds: interactive


pytestmark = pytest.mark.integration  # starts a worker process


@pytest.fixture
def peer(tmp_path: Path) -> Iterator[Peer]:
    with running_worker(tmp_path, ["--asr-concurrency", "1"]) as running:
        loaded = running.request(
            ipc.LoadModel(
                request_id="load",
                model_id=MODEL,
                kind="asr",
                source=ipc.ModelSource(bundled=True),
                compute_type="int8",
            )
        )
        assert isinstance(loaded, ipc.LoadResult), loaded
        yield running


def transcribe(rid: str) -> ipc.Transcribe:
    return ipc.Transcribe(request_id=rid, model_id=MODEL)


def replies(peer: Peer, count: int) -> list[ipc.WorkerMessage]:
    return [peer.recv(timeout_s=120) for _ in range(count)]


def wait_running(peer: Peer, count: int, timeout_s: float = 30.0) -> None:
    """Until the worker reports `count` requests running on the model."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = peer.request(ipc.StatusRequest(request_id=f"status-{time.monotonic()}"))
        assert isinstance(status, ipc.StatusReply)
        if sum(m.in_flight for m in status.models) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} request(s) never ran")


def test_a_short_clip_goes_before_a_long_file_that_waited_longer(peer: Peer) -> None:
    # long-1 takes the only slot and runs for seconds; long-2 and then the clip wait for it.
    peer.send(transcribe("long-1"), LONG)
    wait_running(peer, 1)  # else all three could be queued together and the clip go first
    peer.send(transcribe("long-2"), LONG)
    peer.send(transcribe("clip"), SHORT)
    got = replies(peer, 3)
    assert all(isinstance(r, ipc.TranscribeResult) for r in got), got
    assert [r.request_id for r in got if isinstance(r, ipc.TranscribeResult)] == [
        "long-1",
        "clip",
        "long-2",
    ]


def test_cancel_drops_waiting_work_and_stops_running_work(peer: Peer) -> None:
    peer.send(transcribe("long"), LONG)
    peer.send(transcribe("dropped"), SHORT)  # waits behind "long", in the interactive lane
    peer.send(ipc.Cancel(request_id="dropped"))
    peer.send(transcribe("kept"), SHORT)
    peer.send(ipc.Cancel(request_id="long"))  # running: it stops after its current segment
    peer.send(ipc.Cancel(request_id="never-sent"))  # nothing to do
    (reply,) = replies(peer, 1)
    # Had "dropped" stayed queued it would have answered first; "long" never answers.
    assert isinstance(reply, ipc.TranscribeResult) and reply.request_id == "kept", reply
    assert "kitchen lights" in reply.text.lower()

    status = peer.request(ipc.StatusRequest(request_id="status"))
    assert isinstance(status, ipc.StatusReply)
    (model,) = status.models
    # Only "kept" was served; the stopped one is neither a served request nor an error.
    assert (model.inference_count, model.inference_errors, model.in_flight) == (1, 0, 0)
