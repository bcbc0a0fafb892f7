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
from worker.engines.audio import resample

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
    arrivals: list[str] = field(default_factory=list)  # each reply's request id, in order

    def add(self, message: ipc.WorkerMessage) -> None:
        rid = getattr(message, "request_id", None)
        if rid is not None:
            self.by_stream.setdefault(rid, []).append(message)
            self.arrivals.append(rid)

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


def test_two_streams_at_once_both_finish_with_their_own_captions(peer: Peer) -> None:
    clips = {"sunny": "sunny_day.wav", "window": "open_window.wav"}
    replies = Replies()
    chunks = {}
    for rid, clip in clips.items():
        peer.send(ipc.StreamOpen(request_id=rid, model_id=MODEL))
        chunks[rid] = s16le_chunks(read_wav_samples(clip_path(clip)))
    send_paced(peer, replies, chunks)
    wait_closed(peer, replies, *clips)
    for rid, clip in clips.items():
        finals = check_stream(replies, rid)
        assert finals, replies.of(rid)
        assert word_error_rate(REFERENCES[clip], finals_text(finals)) <= MAX_WER


def test_a_live_stream_and_a_bulk_file_share_the_model(peer: Peer) -> None:
    story = clip_path(LONG_CLIP).read_bytes()
    peer.send(ipc.Transcribe(request_id="file", model_id=MODEL, work_class="bulk"), story)
    replies = Replies()
    peer.send(ipc.StreamOpen(request_id="beside", model_id=MODEL))
    chunks = s16le_chunks(read_wav_samples(clip_path("kitchen_lights.wav")))
    send_paced(peer, replies, {"beside": chunks})
    wait_closed(peer, replies, "beside")
    finals = check_stream(replies, "beside")
    reference = REFERENCES["kitchen_lights.wav"]
    assert word_error_rate(reference, finals_text(finals)) <= MAX_WER
    deadline = time.monotonic() + STREAM_TIMEOUT_S
    while not replies.of("file"):
        assert time.monotonic() < deadline
        pump(peer, replies, 1.0)
    (result,) = replies.of("file")
    assert isinstance(result, ipc.TranscribeResult), result
    assert word_error_rate(REFERENCES[LONG_CLIP], result.text) <= MAX_WER


def test_a_resumed_stream_goes_on_after_the_last_final_without_repeating_it(peer: Peer) -> None:
    samples = read_wav_samples(clip_path(LONG_CLIP))
    chunks = s16le_chunks(samples)
    step = 16_000 * CHUNK_MS // 1000
    replies = Replies()
    # The first worker stream: until two finals are out, then it is gone (cancelled).
    peer.send(ipc.StreamOpen(request_id="before", model_id=MODEL))
    sent = 0
    deadline = time.monotonic() + STREAM_TIMEOUT_S
    while len(replies.finals("before")) < 2:
        assert time.monotonic() < deadline, replies.of("before")
        if sent < len(chunks):
            peer.send(ipc.StreamAudio(request_id="before", seq=sent + 1), chunks[sent])
            sent += 1
        pump(peer, replies, CHUNK_MS / 1000 / SPEED)
    peer.send(ipc.Cancel(request_id="before"))
    earlier = replies.finals("before")[:2]
    resume = earlier[-1].resume
    assert resume.segment_index == 2 and resume.start_sample == earlier[-1].end_sample
    # The gateway still holds audio from the first final's end (more than it needs): the
    # worker skips what the second final covers.
    held_start = earlier[0].end_sample
    held = s16le(samples[held_start : sent * step])
    peer.send(
        ipc.StreamOpen(
            request_id="after", model_id=MODEL, resume=resume, held_start_sample=held_start
        ),
        held,
    )
    rest = frames(s16le(samples[sent * step :]), step * 2)
    send_paced(peer, replies, {"after": rest})
    wait_closed(peer, replies, "after")

    later = check_stream(replies, "after", first_index=2)
    assert later, replies.of("after")
    assert later[0].start_ms >= earlier[-1].end_ms
    whole = finals_text([*earlier, *later])
    reference = REFERENCES[LONG_CLIP]
    # A repeated final would add its words: the total stays near the reference's.
    assert abs(len(whole.split()) - len(reference.split())) <= 3
    assert word_error_rate(reference, whole) <= MAX_WER
    closed = replies.of("after")[-1]
    assert isinstance(closed, ipc.StreamClosed)
    assert closed.audio_ms == len(samples) * 1000 // 16_000


def test_held_audio_that_already_ended_is_captioned_and_closed(peer: Peer) -> None:
    # A stream re-opened after its client ended the audio: all of it comes with the open.
    samples = read_wav_samples(clip_path("sunny_day.wav"))
    replies = Replies()
    peer.send(ipc.StreamOpen(request_id="held", model_id=MODEL, audio_ended=True), s16le(samples))
    wait_closed(peer, replies, "held")
    finals = check_stream(replies, "held")
    assert word_error_rate(REFERENCES["sunny_day.wav"], finals_text(finals)) <= MAX_WER
    closed = replies.of("held")[-1]
    assert isinstance(closed, ipc.StreamClosed)
    assert closed.audio_ms == len(samples) * 1000 // 16_000


def test_a_cancelled_stream_gets_no_reply(peer: Peer) -> None:
    chunks = s16le_chunks(read_wav_samples(clip_path(LONG_CLIP)))
    replies = Replies()
    peer.send(ipc.StreamOpen(request_id="dropped", model_id=MODEL))
    send_paced(peer, replies, {"dropped": chunks[:30]}, end=False)
    peer.send(ipc.Cancel(request_id="dropped"))
    # Anything after the Cancel for it is ignored too.
    peer.send(ipc.StreamAudio(request_id="dropped", seq=31), chunks[30])
    peer.send(ipc.StreamEnd(request_id="dropped"))
    # A reply that leaves through the same outbox after the Cancel was handled.
    peer.send(ipc.Transcribe(request_id="marker", model_id="not/loaded"), b"\0\0")
    deadline = time.monotonic() + 30
    while not replies.of("marker"):
        assert time.monotonic() < deadline
        pump(peer, replies, 0.5)
    pump(peer, replies, 3.0)
    got = replies.of("dropped")
    assert not any(isinstance(m, ipc.StreamClosed | ipc.ErrorReply) for m in got), got
    marker_at = replies.arrivals.index("marker")
    assert "dropped" not in replies.arrivals[marker_at:]


def test_a_bad_frame_ends_only_its_stream_with_invalid_audio(peer: Peer) -> None:
    replies = Replies()
    peer.send(ipc.StreamOpen(request_id="good", model_id=MODEL))
    peer.send(ipc.StreamOpen(request_id="bad", model_id=MODEL))
    peer.send(ipc.StreamAudio(request_id="bad", seq=1), b"\x01\x02\x03")  # half a sample
    chunks = s16le_chunks(read_wav_samples(clip_path("apples_oranges.wav")))
    send_paced(peer, replies, {"good": chunks})
    peer.send(ipc.StreamAudio(request_id="bad", seq=2), chunks[0])  # ignored: it ended
    wait_closed(peer, replies, "good", "bad")
    (error,) = replies.of("bad")
    assert isinstance(error, ipc.ErrorReply), error
    assert error.code == "INVALID_AUDIO"
    finals = check_stream(replies, "good")
    reference = REFERENCES["apples_oranges.wav"]
    assert word_error_rate(reference, finals_text(finals)) <= MAX_WER


def test_a_stream_on_a_model_that_is_not_loaded_is_refused(peer: Peer) -> None:
    replies = Replies()
    peer.send(ipc.StreamOpen(request_id="nowhere", model_id="openai/whisper-base"), b"\0\0")
    wait_closed(peer, replies, "nowhere")
    (error,) = replies.of("nowhere")
    assert isinstance(error, ipc.ErrorReply), error
    assert error.code == "MODEL_NOT_LOADED"


def test_a_stream_opened_twice_ends_with_one_invalid_request(peer: Peer) -> None:
    replies = Replies()
    peer.send(ipc.StreamOpen(request_id="twice", model_id=MODEL))
    peer.send(ipc.StreamOpen(request_id="twice", model_id=MODEL))
    wait_closed(peer, replies, "twice")
    peer.send(ipc.StreamEnd(request_id="twice"))  # no stream by that id is left
    peer.send(ipc.Transcribe(request_id="marker", model_id="not/loaded"), b"\0\0")
    while not replies.of("marker"):
        pump(peer, replies, 0.5)
    (error,) = replies.of("twice")
    assert isinstance(error, ipc.ErrorReply), error
    assert error.code == "INVALID_REQUEST"


def test_f32le_at_48_khz_is_resampled_and_captioned(peer: Peer) -> None:
    samples = read_wav_samples(clip_path("kitchen_lights.wav"))
    at_48k = resample(samples, 16_000, 48_000).astype("<f4").tobytes()
    chunks = frames(at_48k, 48_000 * CHUNK_MS // 1000 * 4)
    replies = Replies()
    peer.send(
        ipc.StreamOpen(request_id="f32", model_id=MODEL, encoding="f32le", sample_rate=48_000)
    )
    send_paced(peer, replies, {"f32": chunks})
    wait_closed(peer, replies, "f32")
    finals = check_stream(replies, "f32")
    reference = REFERENCES["kitchen_lights.wav"]
    assert word_error_rate(reference, finals_text(finals)) <= MAX_WER
    closed = replies.of("f32")[-1]
    assert isinstance(closed, ipc.StreamClosed)
    assert abs(closed.audio_ms - len(samples) * 1000 // 16_000) <= 5


def test_an_unload_ends_open_streams_with_model_not_loaded(peer: Peer) -> None:
    # Last in the module: it unloads the model (and loads it again for any test after).
    chunks = s16le_chunks(read_wav_samples(clip_path(LONG_CLIP)))
    replies = Replies()
    peer.send(ipc.StreamOpen(request_id="open", model_id=MODEL), b"".join(chunks[:20]))
    pump(peer, replies, 1.0)
    peer.send(ipc.UnloadModel(request_id="unload", model_id=MODEL))
    wait_closed(peer, replies, "open")
    *captions, error = replies.of("open")
    assert isinstance(error, ipc.ErrorReply), error
    assert error.code == "MODEL_NOT_LOADED"
    assert all(isinstance(m, ipc.CaptionPartial | ipc.CaptionFinal) for m in captions)
    while not replies.of("unload"):
        pump(peer, replies, 1.0)
    assert isinstance(replies.of("unload")[0], ipc.UnloadResult)
    peer.send(ipc.StreamAudio(request_id="open", seq=1), chunks[20])  # ignored: it ended
    reloaded = peer.request(load_request("reload"), timeout_s=120)
    assert isinstance(reloaded, ipc.LoadResult), reloaded
