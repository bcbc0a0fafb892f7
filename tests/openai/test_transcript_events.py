"""The server-sent events of a streamed transcription, on plain objects: deltas that join into
the non-streamed text, the done event, a failure before the stream (raised) and after its
start (an error event), and a client that leaves closing what feeds the events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

import pytest

from gateway.http.errors import ERROR_CODE_SCOPE_KEY
from gateway.openai.transcript_events import DeltaText, transcript_events
from protocol.api.transcription import Segment, TranscriptionResponse, TranscriptionTimings
from protocol.errors import ErrorCode, ServiceError

Piece = Segment | TranscriptionResponse


def segment(text: str) -> Segment:
    return Segment(
        id=1, start=0.0, end=1.0, text=text, avg_logprob=-0.1, no_speech_prob=0.0,
        compression_ratio=1.0,
    )  # fmt: skip


def answer(texts: list[str]) -> TranscriptionResponse:
    timings = TranscriptionTimings(queue_ms=0, inference_ms=1, total_ms=1, real_time_factor=0)
    return TranscriptionResponse(
        text="".join(texts).strip(), language="en", language_probability=1.0, duration=1.0,
        segments=[segment(t) for t in texts], timings=timings, model_id="m", device="cpu",
    )  # fmt: skip


@pytest.mark.parametrize(
    "texts",
    [
        [" Hello there.", " How are you?"],
        ["  Leading and trailing.  ", "  ", " next", "\n"],
        [" ", " Only after silence."],
        ["No space at all,", "glued."],
        [],
        ["   "],
    ],
)
def test_deltas_join_into_the_non_streamed_text(texts: list[str]) -> None:
    deltas = DeltaText()
    sent = [deltas.push(text) for text in texts]
    assert "".join(sent) == "".join(texts).strip()
    assert all(d == "" or not d[-1].isspace() for d in sent)  # nothing dangling is sent


def events_of(raw: bytes) -> list[dict[str, Any]]:
    blocks = raw.decode().split("\n\n")
    assert blocks[-1] == ""  # every event ends with its blank line
    events = []
    for block in blocks[:-1]:
        assert block.startswith("data: ") and "\n" not in block
        events.append(json.loads(block.removeprefix("data: ")))
    return events


async def pieces_of(items: list[Piece | ServiceError], closed: list[bool]) -> AsyncGenerator[Piece]:
    try:
        for item in items:
            if isinstance(item, ServiceError):
                raise item
            yield item
    finally:
        closed.append(True)


async def collect(items: list[Piece | ServiceError], scope: dict[str, Any]) -> bytes:
    events = await transcript_events(pieces_of(items, []), scope)
    return b"".join([chunk async for chunk in events])


def test_a_delta_per_segment_then_the_whole_text() -> None:
    texts = [" This morning we walked.", " The streets were quiet. "]
    raw = asyncio.run(collect([*map(segment, texts), answer(texts)], {}))
    assert events_of(raw) == [
        {"type": "transcript.text.delta", "delta": "This morning we walked."},
        {"type": "transcript.text.delta", "delta": " The streets were quiet."},
        {"type": "transcript.text.done", "text": "This morning we walked. The streets were quiet."},
    ]


def test_silence_is_a_done_event_with_no_text() -> None:
    raw = asyncio.run(collect([answer([])], {}))
    assert events_of(raw) == [{"type": "transcript.text.done", "text": ""}]


def test_a_failure_before_any_text_raises_while_the_stream_opens() -> None:
    refused = ServiceError(ErrorCode.MODEL_NOT_FOUND, "no such model", {"model_id": "x"})
    scope: dict[str, Any] = {}
    with pytest.raises(ServiceError) as raised:
        asyncio.run(collect([refused], scope))
    assert raised.value.code == ErrorCode.MODEL_NOT_FOUND
    assert ERROR_CODE_SCOPE_KEY not in scope  # the error handler notes it, as for any 4xx


def test_a_failure_mid_stream_ends_it_with_an_error_event() -> None:
    lost = ServiceError(ErrorCode.WORKER_UNAVAILABLE, "Worker cpu could not answer", {"a": 1})
    scope: dict[str, Any] = {}
    raw = asyncio.run(collect([segment(" First part."), lost], scope))
    assert events_of(raw) == [
        {"type": "transcript.text.delta", "delta": "First part."},
        {
            "type": "error",
            "error": {
                "code": "WORKER_UNAVAILABLE",
                "message": "Worker cpu could not answer",
                "details": {"a": 1},
            },
        },
    ]
    assert scope[ERROR_CODE_SCOPE_KEY] == "WORKER_UNAVAILABLE"  # counted in the metrics


def test_a_bug_mid_stream_is_an_internal_error_event() -> None:
    async def broken() -> AsyncGenerator[Piece]:
        yield segment(" Some text.")
        raise KeyError("bug")

    async def run() -> bytes:
        events = await transcript_events(broken(), {})
        return b"".join([chunk async for chunk in events])

    *_, last = events_of(asyncio.run(run()))
    assert last["type"] == "error" and last["error"]["code"] == "INTERNAL_ERROR"


def test_a_client_that_leaves_closes_what_feeds_the_events() -> None:
    # Starlette closes the body iterator when the client disconnects; closing it must reach
    # the service's iterator (whose closing cancels the worker's decode).
    closed: list[bool] = []
    texts = [" One.", " Two.", " Three."]

    async def run() -> list[bytes]:
        events = await transcript_events(pieces_of([*map(segment, texts)], closed), {})
        assert isinstance(events, AsyncGenerator)
        first = await anext(events)
        await events.aclose()
        return [first]

    assert events_of(b"".join(asyncio.run(run()))) == [
        {"type": "transcript.text.delta", "delta": "One."}
    ]
    assert closed == [True]
