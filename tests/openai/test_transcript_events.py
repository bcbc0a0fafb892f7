"""The server-sent events of a streamed transcription, on plain objects driven as ASGI: deltas
that join into the non-streamed text, the done event, a failure before the stream (raised)
and after its start (an error event), and a client that leaves closing what feeds them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from starlette.types import Message, Receive

from gateway.http.errors import ERROR_CODE_SCOPE_KEY
from gateway.openai.transcript_events import DeltaText, transcript_response
from protocol.api.transcription import Segment, TranscriptionResponse, TranscriptionTimings
from protocol.errors import ErrorCode, ServiceError

Piece = Segment | TranscriptionResponse


def segment(text: str) -> Segment:
    return Segment(
        id=1, start=0.0, end=1.0, text=text, avg_logprob=-0.1, no_speech_prob=0.0,
        compression_ratio=1.0,
    )  # fmt: skip


def whole(texts: list[str]) -> TranscriptionResponse:
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


async def pieces_of(
    items: list[Piece | ServiceError], closed: list[bool], then: asyncio.Event | None = None
) -> AsyncGenerator[Piece]:
    """The items in turn (raising the errors), then waiting on `then` if given."""
    try:
        for item in items:
            if isinstance(item, ServiceError):
                raise item
            yield item
        if then is not None:
            await then.wait()
    finally:
        closed.append(True)


async def never_leaves() -> Message:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def answer(
    pieces: AsyncGenerator[Piece], scope: dict[str, Any], receive: Receive = never_leaves
) -> tuple[list[Message], bytes]:
    """The ASGI messages of the answer, and its body."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    response = await transcript_response(pieces, scope)
    await response({"type": "http", **scope}, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent, body


def body_of(items: list[Piece | ServiceError], scope: dict[str, Any] | None = None) -> bytes:
    return asyncio.run(answer(pieces_of(items, []), {} if scope is None else scope))[1]


def test_a_delta_per_segment_then_the_whole_text() -> None:
    texts = [" This morning we walked.", " The streets were quiet. "]
    sent, body = asyncio.run(answer(pieces_of([*map(segment, texts), whole(texts)], []), {}))
    start = sent[0]
    assert start["status"] == 200
    assert (b"content-type", b"text/event-stream; charset=utf-8") in start["headers"]
    assert events_of(body) == [
        {"type": "transcript.text.delta", "delta": "This morning we walked."},
        {"type": "transcript.text.delta", "delta": " The streets were quiet."},
        {"type": "transcript.text.done", "text": "This morning we walked. The streets were quiet."},
    ]


def test_silence_is_a_done_event_with_no_text() -> None:
    assert events_of(body_of([whole([])])) == [{"type": "transcript.text.done", "text": ""}]


def test_a_failure_before_any_text_raises_while_the_stream_opens() -> None:
    refused = ServiceError(ErrorCode.MODEL_NOT_FOUND, "no such model", {"model_id": "x"})
    closed: list[bool] = []
    with pytest.raises(ServiceError) as raised:
        asyncio.run(transcript_response(pieces_of([refused], closed), {}))
    assert raised.value.code == ErrorCode.MODEL_NOT_FOUND  # the envelope and its 404
    assert closed == [True]


def test_a_failure_mid_stream_ends_it_with_an_error_event() -> None:
    lost = ServiceError(ErrorCode.WORKER_UNAVAILABLE, "Worker cpu could not answer", {"a": 1})
    scope: dict[str, Any] = {}
    assert events_of(body_of([segment(" First part."), lost], scope)) == [
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

    *_, last = events_of(asyncio.run(answer(broken(), {}))[1])
    assert last["type"] == "error" and last["error"]["code"] == "INTERNAL_ERROR"


def test_a_client_that_leaves_mid_stream_closes_what_feeds_the_events() -> None:
    # The source has sent a delta and waits for the next segment when the client leaves:
    # it is closed then (its closing cancels the worker's decode), not when collected.
    closed: list[bool] = []
    left = asyncio.Event()

    async def run() -> None:
        pieces = pieces_of([segment(" One.")], closed, then=asyncio.Event())

        async def leaves() -> Message:
            await left.wait()
            return {"type": "http.disconnect"}

        async def send_then_leave(message: Message) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                left.set()

        response = await transcript_response(pieces, {})
        await response({"type": "http"}, leaves, send_then_leave)
        assert closed == [True]  # before the answer returned; `pieces` is still referenced
        await pieces.aclose()

    asyncio.run(run())


def test_a_client_gone_before_the_first_event_closes_what_feeds_the_events() -> None:
    closed: list[bool] = []
    sent: list[Message] = []

    async def gone() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        await asyncio.sleep(0)  # where the cancelled answer stops, as on a socket
        sent.append(message)

    async def run() -> None:
        texts = [" One.", " Two."]
        pieces = pieces_of([*map(segment, texts), whole(texts)], closed)
        response = await transcript_response(pieces, {})
        await response({"type": "http"}, gone, send)
        assert closed == [True]  # though the events never started
        await pieces.aclose()

    asyncio.run(run())
    assert not [m for m in sent if m.get("body")]  # no event went out
