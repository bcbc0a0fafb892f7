"""Batching and bounded queues in a real worker process, with the copy translation model.

Requests are sent back to back without waiting; the worker's batch timeout is set long
(hundreds of ms) so that "arrived together" never depends on how busy this machine is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol.options import TranslateOptions
from protocol.wire import messages as ipc
from tests.support.worker_peer import Peer, running_worker

pytestmark = pytest.mark.integration

SPEECH = Path(__file__).parent.parent / "fixtures" / "audio" / "kitchen_lights.wav"


@pytest.fixture
def worker_args() -> list[str]:
    return ["--batch-max-size", "8", "--batch-timeout-ms", "500"]


@pytest.fixture
def peer(tmp_path: Path, worker_args: list[str], nllb_copy_model: Path) -> Iterator[Peer]:
    with running_worker(tmp_path, worker_args) as peer:
        loaded = peer.request(
            ipc.LoadModel(
                request_id="load",
                model_id="copy",
                kind="mt",
                source=ipc.ModelSource(local_path=str(nllb_copy_model)),
                compute_type="int8",
            )
        )
        assert isinstance(loaded, ipc.LoadResult), loaded
        yield peer


def translate(
    rid: str, texts: list[str], target: str = "fra_Latn", beam_size: int = 4
) -> ipc.Translate:
    return ipc.Translate(
        request_id=rid,
        model_id="copy",
        texts=texts,
        source_language="eng_Latn",
        target_language=target,
        options=TranslateOptions(beam_size=beam_size),
    )


def send_all(peer: Peer, requests: list[ipc.Translate]) -> dict[str, ipc.WorkerMessage]:
    """Send every request before reading any reply; replies by request id."""
    for request in requests:
        peer.send(request)
    replies: dict[str, ipc.WorkerMessage] = {}
    while len(replies) < len(requests):
        reply = peer.recv()
        assert hasattr(reply, "request_id"), reply
        replies[reply.request_id] = reply
    return replies


def results(replies: dict[str, ipc.WorkerMessage]) -> dict[str, ipc.TranslateResult]:
    assert all(isinstance(r, ipc.TranslateResult) for r in replies.values()), replies
    return {rid: r for rid, r in replies.items() if isinstance(r, ipc.TranslateResult)}


def test_concurrent_requests_run_in_shared_batches_and_keep_their_own_texts(
    peer: Peer,
) -> None:
    # 12 requests of 1 or 2 texts: 18 texts, batches of at most 8 texts.
    requests = [
        translate(f"r{i}", [f"Sentence {i}.", f"Second part of {i}."][: 1 + i % 2])
        for i in range(12)
    ]
    got = results(send_all(peer, requests))
    for request in requests:
        reply = got[request.request_id]
        assert [t.text for t in reply.translations] == request.texts  # the copy model
        assert (reply.model_id, reply.device) == ("copy", "cpu")
        assert len(request.texts) < reply.batch_size <= 8  # shared with other requests
        assert reply.queue_ms >= 0.0 and reply.inference_ms > 0.0

    status = peer.request(ipc.StatusRequest(request_id="s"))
    assert isinstance(status, ipc.StatusReply)
    # Counted per request, not per batch (the warm-up at load is not counted).
    assert [(m.inference_count, m.inference_errors) for m in status.models] == [(12, 0)]


def test_requests_for_other_languages_or_options_never_share_a_batch(peer: Peer) -> None:
    requests = []
    for i in range(4):
        requests.append(translate(f"fra{i}", [f"To French {i}."]))
        requests.append(translate(f"deu{i}", [f"To German {i}."], "deu_Latn"))
        requests.append(translate(f"greedy{i}", [f"Greedy {i}."], beam_size=1))
    got = results(send_all(peer, requests))
    for request in requests:
        reply = got[request.request_id]
        assert [t.text for t in reply.translations] == request.texts
        # Only the 4 requests of its own kind could have joined it.
        assert reply.batch_size > 1, (request.request_id, reply.batch_size)
        assert reply.batch_size <= 4, (request.request_id, reply.batch_size)


def test_one_bad_request_in_a_batch_fails_alone(peer: Peer) -> None:
    too_long = " ".join(["word"] * 600)  # over the 512-token input limit
    requests = [
        translate("good1", ["First."]),
        translate("bad", ["Fine.", too_long]),
        translate("good2", ["Last."]),
    ]
    replies = send_all(peer, requests)
    bad = replies.pop("bad")
    assert isinstance(bad, ipc.ErrorReply), bad
    assert (bad.code, bad.details["index"]) == ("INVALID_REQUEST", 1)  # its own text index
    got = results(replies)
    assert [t.text for t in got["good1"].translations] == ["First."]
    assert [t.text for t in got["good2"].translations] == ["Last."]


@pytest.mark.parametrize("worker_args", [["--queue-limit", "3", "--batch-timeout-ms", "1000"]])
def test_a_burst_over_the_queue_limit_is_refused_and_the_worker_keeps_serving(
    peer: Peer,
) -> None:
    # A batch waits up to a second for company: the first 3 requests fill the queue.
    requests = [translate(f"r{i}", [f"Text {i}."]) for i in range(6)]
    replies = send_all(peer, requests)
    refused = [r for r in replies.values() if isinstance(r, ipc.ErrorReply)]
    assert sorted(r.request_id for r in refused) == ["r3", "r4", "r5"]
    for reply in refused:
        assert reply.code == "QUEUE_FULL"
        assert reply.details["retry_after_s"] > 0
        assert {k: reply.details[k] for k in ("queued", "limit", "model_id")} == {
            "queued": 3,
            "limit": 3,
            "model_id": "copy",
        }
    served = results({rid: r for rid, r in replies.items() if rid in {"r0", "r1", "r2"}})
    assert all(r.batch_size == 3 for r in served.values())

    again = peer.request(translate("after", ["Still here."]))
    assert isinstance(again, ipc.TranslateResult), again
    assert [t.text for t in again.translations] == ["Still here."]


@pytest.mark.parametrize("worker_args", [["--queue-limit", "1", "--asr-concurrency", "1"]])
def test_transcriptions_queue_one_model_at_a_time_and_overflow_is_refused(peer: Peer) -> None:
    loaded = peer.request(
        ipc.LoadModel(
            request_id="load-asr",
            model_id="openai/whisper-tiny.en",
            kind="asr",
            source=ipc.ModelSource(bundled=True),
            compute_type="int8",
        )
    )
    assert isinstance(loaded, ipc.LoadResult), loaded
    audio = SPEECH.read_bytes()
    for i in range(4):
        peer.send(ipc.Transcribe(request_id=f"a{i}", model_id="openai/whisper-tiny.en"), audio)
    replies: dict[str, ipc.TranscribeResult | ipc.ErrorReply] = {}
    while len(replies) < 4:
        reply = peer.recv()
        assert isinstance(reply, ipc.TranscribeResult | ipc.ErrorReply), reply
        replies[reply.request_id] = reply
    # A transcription takes far longer than four sends, and only one runs at a time: a0 finds
    # the queue empty, and of the rest at most one finds room (which one depends on when a0
    # leaves the queue to run); the others are refused.
    first = replies.pop("a0")
    assert isinstance(first, ipc.TranscribeResult), first
    assert "kitchen lights" in first.text.lower() and first.batch_size == 1
    served = [r for r in replies.values() if isinstance(r, ipc.TranscribeResult)]
    refused = [r for r in replies.values() if isinstance(r, ipc.ErrorReply)]
    assert len(served) <= 1 and len(refused) >= 2
    for reply in served:  # it waited behind a0
        assert reply.text == first.text and reply.queue_ms > first.queue_ms
    for error in refused:
        assert error.code == "QUEUE_FULL", error
        assert error.details["model_id"] == "openai/whisper-tiny.en"
        assert (error.details["limit"], error.details["queued"]) == (1, 1)

    peer.send(ipc.Transcribe(request_id="after", model_id="openai/whisper-tiny.en"), audio)
    after = peer.recv()
    assert isinstance(after, ipc.TranscribeResult) and after.text == first.text, after
