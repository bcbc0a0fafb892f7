"""The transcription answer: the worker's own figures for queue and inference time, the
gateway's for the total, and the API's own segment shapes."""

from __future__ import annotations

import msgspec

from gateway.transcription.service import transcription_response
from protocol.wire import messages as ipc

RESULT = ipc.TranscribeResult(
    request_id="r",
    model_id="openai/whisper-tiny.en",
    device="cpu",
    text="hello there",
    language="en",
    language_probability=1.0,
    duration=2.0,
    segments=[
        ipc.Segment(
            id=1,
            start=0.0,
            end=2.0,
            text=" hello there",
            avg_logprob=-0.2,
            no_speech_prob=0.01,
            compression_ratio=1.1,
            words=[ipc.Word(start=0.0, end=0.5, word=" hello", probability=0.9)],
            seek=0,
            tokens=[50363, 7],
            temperature=0.2,
        )
    ],
    inference_ms=400.0,
    queue_ms=35.5,
    batch_size=1,
)


def test_queue_and_inference_are_the_workers_and_total_the_gateways() -> None:
    answer = transcription_response(RESULT, cached=False, total_ms=1000.0)
    timings = answer.timings
    # Not total - inference (600 ms): that would count the upload and the load as queueing.
    assert (timings.queue_ms, timings.inference_ms, timings.total_ms) == (35.5, 400.0, 1000.0)
    assert timings.real_time_factor == 0.2


def test_a_cached_answer_waited_for_no_worker() -> None:
    timings = transcription_response(RESULT, cached=True, total_ms=1.5).timings
    assert (timings.queue_ms, timings.inference_ms, timings.real_time_factor) == (0, 0, 0)
    assert timings.total_ms == 1.5


def test_segments_keep_every_field_in_the_api_shape() -> None:
    answer = transcription_response(RESULT, cached=False, total_ms=1000.0)
    as_json = msgspec.json.decode(msgspec.json.encode(answer))
    assert as_json["segments"] == msgspec.json.decode(msgspec.json.encode(RESULT.segments))
    assert type(answer.segments[0]).__module__ == "protocol.api.transcription"
