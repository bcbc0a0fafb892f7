"""A transcription that asks for `stream_segments` hears each segment as a partial reply as
faster-whisper decodes it, then the usual result; one that does not ask hears only the
result. A real worker process with the bundled tiny.en."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol.wire import messages as ipc
from tests.support.worker_peer import Peer, running_worker

pytestmark = pytest.mark.integration  # starts a worker process

MODEL = "openai/whisper-tiny.en"
LONG = (Path(__file__).parent.parent / "fixtures" / "audio" / "long_story.wav").read_bytes()


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    with running_worker(tmp_path_factory.mktemp("worker")) as running:
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


def replies_until_final(peer: Peer, request_id: str) -> list[ipc.WorkerMessage]:
    got: list[ipc.WorkerMessage] = []
    while not got or isinstance(got[-1], ipc.TranscribeSegment):
        message = peer.recv(timeout_s=120)
        assert getattr(message, "request_id", None) == request_id, message
        got.append(message)
    return got


def test_each_segment_comes_as_it_is_decoded_then_the_result(peer: Peer) -> None:
    peer.send(ipc.Transcribe(request_id="streamed", model_id=MODEL, stream_segments=True), LONG)
    *partials, final = replies_until_final(peer, "streamed")
    assert isinstance(final, ipc.TranscribeResult), final
    # Ten sentences over two 30 s windows: several segments, in order, each sent once, and
    # the same ones the result holds.
    assert len(final.segments) >= 2
    assert [p.segment for p in partials if isinstance(p, ipc.TranscribeSegment)] == final.segments
    assert len(partials) == len(final.segments)


def test_without_asking_only_the_result_comes(peer: Peer) -> None:
    peer.send(ipc.Transcribe(request_id="whole", model_id=MODEL), LONG)
    (final,) = replies_until_final(peer, "whole")
    assert isinstance(final, ipc.TranscribeResult), final
    assert len(final.segments) >= 2
