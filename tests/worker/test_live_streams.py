"""Live caption streams served by a real worker process over ZeroMQ, with the bundled tiny.en:
fixture WAVs go in as client PCM frames (faster than real time), captions come back in
order, each stream ends with exactly one final reply."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pytest

from protocol.wire import messages as ipc
from tests.support.audio import LONG_CLIP, clip_path, load_references
from tests.support.wav_samples import read_wav_samples
from tests.support.wer import word_error_rate
from tests.support.worker_peer import Peer, running_worker

pytestmark = pytest.mark.integration  # starts a worker process

MODEL = "openai/whisper-tiny.en"
CHUNK_MS = 160
# Audio goes out this many times faster than real time.
SPEED = 4.0
# Under load a decode of tiny.en can take seconds; a whole stream gets this long.
STREAM_TIMEOUT_S = 240.0
# tiny.en, live, on the fixtures: finals a few words off the reference at most.
MAX_WER = 0.25

REFERENCES = load_references()


def load_request(request_id: str = "load") -> ipc.LoadModel:
    return ipc.LoadModel(
        request_id=request_id,
        model_id=MODEL,
        kind="asr",
        source=ipc.ModelSource(bundled=True),
        compute_type="int8",
    )


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    with running_worker(tmp_path_factory.mktemp("worker")) as running:
        loaded = running.request(load_request(), timeout_s=120)
        assert isinstance(loaded, ipc.LoadResult), loaded
        yield running


def s16le(samples: npt.NDArray[np.float32]) -> bytes:
    return (np.clip(samples, -1.0, 32767 / 32768) * 32768).astype("<i2").tobytes()


def frames(data: bytes, bytes_per_chunk: int) -> list[bytes]:
    return [data[i : i + bytes_per_chunk] for i in range(0, len(data), bytes_per_chunk)]


def s16le_chunks(samples: npt.NDArray[np.float32]) -> list[bytes]:
    return frames(s16le(samples), 16_000 * CHUNK_MS // 1000 * 2)


@dataclass
class Replies:
    """What came back per stream, in arrival order."""

    by_stream: dict[str, list[ipc.WorkerMessage]] = field(default_factory=dict)

    def add(self, message: ipc.WorkerMessage) -> None:
        rid = getattr(message, "request_id", None)
        if rid is not None:
            self.by_stream.setdefault(rid, []).append(message)

    def of(self, rid: str) -> list[ipc.WorkerMessage]:
        return self.by_stream.get(rid, [])

    def closed(self, rid: str) -> bool:
        got = self.of(rid)
        return bool(got) and isinstance(got[-1], ipc.StreamClosed | ipc.ErrorReply)

    def finals(self, rid: str) -> list[ipc.CaptionFinal]:
        return [m for m in self.of(rid) if isinstance(m, ipc.CaptionFinal)]


def pump(peer: Peer, replies: Replies, seconds: float) -> None:
    """Read whatever the worker sends for `seconds`."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if not peer.socket.poll(max(1, int(left * 1000))):
            return
        identity, frame, *_ = peer.socket.recv_multipart()
        peer.identity = identity
        message = ipc.decode_from_worker(frame)
        if not isinstance(message, ipc.Heartbeat):
            replies.add(message)


def send_paced(
    peer: Peer,
    replies: Replies,
    chunks_by_stream: dict[str, list[bytes]],
    *,
    end: bool = True,
    chunk_ms: int = CHUNK_MS,
    speed: float = SPEED,
) -> None:
    """Send each stream's chunks as StreamAudio (interleaved, at `speed` times real time),
    reading replies meanwhile; then StreamEnd for each, if asked."""
    step_s = chunk_ms / 1000 / speed
    longest = max(len(chunks) for chunks in chunks_by_stream.values())
    for index in range(longest):
        for rid, chunks in chunks_by_stream.items():
            if index < len(chunks) and not replies.closed(rid):
                peer.send(ipc.StreamAudio(request_id=rid, seq=index + 1), chunks[index])
        pump(peer, replies, step_s)
    if end:
        for rid in chunks_by_stream:
            peer.send(ipc.StreamEnd(request_id=rid))


def wait_closed(peer: Peer, replies: Replies, *rids: str) -> None:
    deadline = time.monotonic() + STREAM_TIMEOUT_S
    while not all(replies.closed(rid) for rid in rids):
        assert time.monotonic() < deadline, {rid: replies.of(rid)[-3:] for rid in rids}
        pump(peer, replies, 1.0)


def finals_text(finals: list[ipc.CaptionFinal]) -> str:
    return " ".join(f.text for f in finals)


def check_stream(replies: Replies, rid: str, first_index: int = 0) -> list[ipc.CaptionFinal]:
    """Captions in order, then one StreamClosed that counts the finals; returns the finals."""
    got = replies.of(rid)
    *captions, closed = got
    assert isinstance(closed, ipc.StreamClosed), closed
    assert all(isinstance(m, ipc.CaptionPartial | ipc.CaptionFinal) for m in captions), captions
    finals = replies.finals(rid)
    assert closed.finals == len(finals)
    assert [f.segment_index for f in finals] == list(range(first_index, first_index + len(finals)))
    # A segment's partials all come before its final, and each final starts where the last
    # one ended or later.
    for position, message in enumerate(captions):
        if isinstance(message, ipc.CaptionFinal):
            later = captions[position + 1 :]
            assert not any(
                isinstance(m, ipc.CaptionPartial) and m.segment_index <= message.segment_index
                for m in later
            )
    for earlier, later_final in itertools.pairwise(finals):
        assert later_final.start_ms >= earlier.end_ms
        assert later_final.end_sample >= earlier.end_sample
        assert later_final.resume.segment_index == later_final.segment_index + 1
    return finals


def test_a_stream_gets_partials_then_finals_then_stream_closed(peer: Peer) -> None:
    samples = read_wav_samples(clip_path(LONG_CLIP))
    chunks = s16le_chunks(samples)
    replies = Replies()
    peer.send(ipc.StreamOpen(request_id="story", model_id=MODEL, sid="s1"))
    send_paced(peer, replies, {"story": chunks})
    wait_closed(peer, replies, "story")

    finals = check_stream(replies, "story")
    captions = replies.of("story")
    assert isinstance(captions[0], ipc.CaptionPartial), captions[0]
    assert len(finals) >= 5  # ten sentences with pauses between them
    assert word_error_rate(REFERENCES[LONG_CLIP], finals_text(finals)) <= MAX_WER
    closed = captions[-1]
    assert isinstance(closed, ipc.StreamClosed)
    assert closed.audio_ms == len(samples) * 1000 // 16_000
    last = finals[-1]
    assert last.end_ms <= closed.audio_ms
    assert all(w.start_ms <= w.end_ms for f in finals for w in f.words)
    assert finals_text(finals).split() and finals[0].words
