"""Every gateway<->worker message survives encoding; malformed frames are refused."""

from __future__ import annotations

import msgspec
import pytest

from protocol.errors import ErrorCode
from protocol.options import TranscribeOptions, TranslateOptions
from protocol.wire import messages as ipc

MEMORY = ipc.MemoryInfo(total_mb=1024.0, available_mb=512.0, process_rss_mb=64.5)
MODEL = ipc.LoadedModel(
    model_id="openai/whisper-tiny.en",
    kind="asr",
    device="cpu",
    compute_type="int8",
    loaded_at="2026-11-27T09:00:00+00:00",
    memory_usage_mb=120.5,
    load_time_ms=800.0,
    inference_count=3,
)
SEGMENT = ipc.Segment(
    id=1,
    start=0.0,
    end=2.5,
    text=" hello",
    avg_logprob=-0.2,
    no_speech_prob=0.01,
    compression_ratio=1.1,
    words=[ipc.Word(start=0.0, end=0.5, word=" hello", probability=0.9)],
)

FROM_GATEWAY: list[ipc.GatewayMessage] = [
    ipc.LoadModel(
        request_id="r1",
        model_id="openai/whisper-tiny.en",
        kind="asr",
        source=ipc.ModelSource(bundled=True),
        compute_type="int8",
        cpu_threads=2,
    ),
    ipc.LoadModel(
        request_id="r1b",
        model_id="openai/whisper-base",
        kind="asr",
        source=ipc.ModelSource(repo_id="Systran/faster-whisper-base", revision="main"),
        compute_type="float16",
    ),
    ipc.UnloadModel(request_id="r2", model_id="m"),
    ipc.StatusRequest(request_id="r3"),
    ipc.Transcribe(
        request_id="r4",
        model_id="m",
        audio_format="pcm_s16le",
        sample_rate=8000,
        options=TranscribeOptions(language="en", word_timestamps=True, beam_size=2),
    ),
    ipc.Transcribe(request_id="r5", model_id="m", work_class="bulk"),
    ipc.Transcribe(request_id="r5b", model_id="m", stream_segments=True),
    ipc.Cancel(request_id="r5"),
    ipc.Shutdown(reason="test"),
    ipc.DetectLanguage(request_id="d1", texts=["bonjour"], candidates=["fr", "en"]),
    ipc.HelloRequest(reason="unknown to the gateway"),
    ipc.DownloadModel(
        request_id="p1",
        model_id="openai/whisper-base",
        source=ipc.ModelSource(repo_id="Systran/faster-whisper-base"),
    ),
    ipc.Translate(
        request_id="r6",
        model_id="facebook/nllb-200-distilled-600M",
        texts=["Hello.", ""],
        source_language="eng_Latn",
        target_language="fra_Latn",
        options=TranslateOptions(beam_size=1, no_repeat_ngram_size=3, return_scores=True),
    ),
    ipc.Translate(
        request_id="r7", model_id="m", texts=[], source_language="en", target_language="fr"
    ),
    ipc.StreamOpen(
        request_id="s1",
        model_id="m",
        encoding="f32le",
        sample_rate=48000,
        options=ipc.LiveOptions(language="en", beam_size=1, partial_every_ms=300),
        resume=ipc.LiveResume(start_sample=32000, segment_index=2, prompt=" Hi.", last_end_ms=1900),
        held_start_sample=32000,
        sid="session-1",
    ),
    ipc.StreamAudio(request_id="s1", seq=3),
    ipc.StreamEnd(request_id="s1"),
]

FROM_WORKER: list[ipc.WorkerMessage] = [
    ipc.Goodbye(worker_id="cpu", reason="oom", message="resident memory 900 MB passed 800 MB"),
    ipc.Hello(
        worker_id="cpu",
        device="cpu",
        pid=42,
        host="h",
        memory=MEMORY,
        compute_types=["int8", "float32"],
        models=[MODEL],
    ),
    ipc.Heartbeat(worker_id="cpu", seq=7, memory=MEMORY, in_flight=2),
    ipc.LoadProgress(
        request_id="r1",
        model_id="m",
        stage="downloading",
        progress=40.0,
        memory_used_mb=0.0,
        downloaded_bytes=100,
        total_bytes=250,
    ),
    ipc.LoadResult(request_id="r1", model=MODEL),
    ipc.UnloadResult(request_id="r2", model_id="m", memory_freed_mb=99.0),
    ipc.DownloadResult(
        request_id="p1", model_id="m", path="/cache/m", downloaded_bytes=250, total_bytes=250
    ),
    ipc.StatusReply(request_id="r3", models=[MODEL], memory=MEMORY),
    ipc.TranscribeResult(
        request_id="r4",
        model_id="m",
        device="cpu",
        text="hello",
        language="en",
        language_probability=0.98,
        duration=2.5,
        segments=[SEGMENT],
        inference_ms=123.0,
    ),
    ipc.TranscribeSegment(request_id="r5b", segment=SEGMENT),
    ipc.ErrorReply(
        request_id="r5", code=ErrorCode.INVALID_AUDIO, message="bad", details={"bytes": 3}
    ),
    ipc.LanguagesDetected(
        request_id="d1", languages=[ipc.DetectedLanguage(code="fr", probability=0.99)]
    ),
    ipc.TranslateResult(
        request_id="r6",
        model_id="m",
        device="cuda:0",
        translations=[
            ipc.Translation(text="Bonjour.", score=-0.25, tokens=3),
            ipc.Translation(text=""),
        ],
        inference_ms=12.5,
    ),
    ipc.CaptionPartial(
        request_id="s1", segment_index=0, text=" Turn on", stable_text=" Turn", audio_ms=800
    ),
    ipc.CaptionFinal(
        request_id="s1",
        segment_index=0,
        text=" Turn on the lights.",
        start_ms=120,
        end_ms=1900,
        words=[ipc.CaptionWord(text=" Turn", start_ms=120, end_ms=400, probability=0.9)],
        end_sample=30400,
        reason="end_of_speech",
        audio_ms=2400,
        resume=ipc.LiveResume(start_sample=30400, segment_index=1, prompt=" Turn on the lights."),
    ),
    ipc.StreamClosed(request_id="s1", finals=1, audio_ms=2400),
]


@pytest.mark.parametrize("message", FROM_GATEWAY, ids=lambda m: type(m).__name__)
def test_gateway_messages_round_trip(message: ipc.GatewayMessage) -> None:
    assert ipc.decode_from_gateway(ipc.encode(message)) == message


@pytest.mark.parametrize("message", FROM_WORKER, ids=lambda m: type(m).__name__)
def test_worker_messages_round_trip(message: ipc.WorkerMessage) -> None:
    assert ipc.decode_from_worker(ipc.encode(message)) == message


def test_every_message_type_is_covered() -> None:
    covered = {type(m) for m in FROM_GATEWAY} | {type(m) for m in FROM_WORKER}
    union_members = set(ipc.GatewayMessage.__args__) | set(ipc.WorkerMessage.__args__)
    assert covered == union_members


def test_a_worker_message_is_not_accepted_as_a_gateway_message() -> None:
    frame = ipc.encode(ipc.Heartbeat(worker_id="cpu", seq=1, memory=MEMORY))
    with pytest.raises(msgspec.ValidationError):
        ipc.decode_from_gateway(frame)


def test_unknown_tag_is_rejected() -> None:
    frame = msgspec.msgpack.encode({"type": "Explode", "request_id": "x"})
    with pytest.raises(msgspec.ValidationError, match="Explode"):
        ipc.decode_from_worker(frame)


def test_wrong_field_type_is_rejected() -> None:
    frame = msgspec.msgpack.encode({"type": "UnloadModel", "request_id": 5, "model_id": "m"})
    with pytest.raises(msgspec.ValidationError, match="request_id"):
        ipc.decode_from_gateway(frame)


def test_missing_field_is_rejected() -> None:
    frame = msgspec.msgpack.encode({"type": "LoadModel", "request_id": "r"})
    with pytest.raises(msgspec.ValidationError, match="model_id"):
        ipc.decode_from_gateway(frame)


def test_translate_defaults_fill_in_when_options_are_omitted() -> None:
    frame = msgspec.msgpack.encode(
        {
            "type": "Translate",
            "request_id": "r",
            "model_id": "m",
            "texts": ["Hi."],
            "source_language": "en",
            "target_language": "fr",
        }
    )
    message = ipc.decode_from_gateway(frame)
    assert isinstance(message, ipc.Translate)
    assert message.options == TranslateOptions(
        beam_size=4, length_penalty=1.0, max_input_length=512, max_new_tokens=256
    )
    assert message.options.return_scores is False


def test_bytes_that_are_not_msgpack_are_rejected() -> None:
    with pytest.raises(msgspec.DecodeError):
        ipc.decode_from_worker(b"\xc1garbage")


def test_an_error_code_this_side_does_not_know_still_ends_its_request() -> None:
    frame = msgspec.msgpack.encode(
        {
            "type": "ErrorReply",
            "request_id": "r",
            "code": "NEW_CODE",
            "message": "m",
            "details": {"a": 1},
        }
    )
    reply = ipc.decode_from_worker(frame)
    assert reply == ipc.ErrorReply(
        request_id="r",
        code=ErrorCode.INTERNAL_ERROR,
        message="m",
        details={"a": 1, "worker_code": "NEW_CODE"},
    )
    broken = msgspec.msgpack.encode({"type": "ErrorReply", "code": "NEW_CODE", "message": "m"})
    with pytest.raises(msgspec.ValidationError):  # no request to end: malformed
        ipc.decode_from_worker(broken)


@pytest.mark.parametrize("compute_type", [None, "default", "int4"])
def test_a_load_names_a_concrete_compute_type(compute_type: str | None) -> None:
    fields: dict[str, object] = {"type": "LoadModel", "request_id": "r", "model_id": "m"}
    fields |= {"kind": "asr", "source": {"bundled": True}}
    if compute_type is not None:
        fields["compute_type"] = compute_type
    with pytest.raises(msgspec.ValidationError, match="compute_type"):
        ipc.decode_from_gateway(msgspec.msgpack.encode(fields))


@pytest.mark.parametrize(
    ("encoding", "rate"), [("pcm_s16le_16k", 16_000), ("f32le", 7_999), ("pcm_s16le", 48_001)]
)
def test_audio_encoding_and_rate_come_from_the_vocabulary(encoding: str, rate: int) -> None:
    frame = msgspec.msgpack.encode(
        {
            "type": "Transcribe",
            "request_id": "r",
            "model_id": "m",
            "audio_format": encoding,
            "sample_rate": rate,
        }
    )
    with pytest.raises(msgspec.ValidationError):
        ipc.decode_from_gateway(frame)
    taken = ipc.Transcribe(request_id="r", model_id="m", audio_format="f32le", sample_rate=44_100)
    assert ipc.decode_from_gateway(ipc.encode(taken)) == taken
