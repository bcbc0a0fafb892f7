"""`stream=true` on /v1/audio/transcriptions, against a real gateway and worker: the official
`openai` SDK's stream loop gets a delta per decoded segment and the done event, curl-style
clients get plain server-sent events, errors before the stream are the usual envelope, an
error during it is an event the SDK raises, and a client that leaves stops the decode.

This module's gateway keeps one transcription in its result cache (so a test can make the
next request decode again) and logs at INFO, in JSON, to a file the tests read: the worker's
log line is where a cancelled decode shows that it stopped.
"""

from __future__ import annotations

import io
import json
import os
import signal
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI
from openai.types.audio import TranscriptionTextDeltaEvent, TranscriptionTextDoneEvent
from prometheus_client.parser import text_string_to_metric_families

from tests.support.audio import LONG_CLIP, clip_path, load_references
from tests.support.envelope import error_of
from tests.support.gateway_process import GatewayProcess, gateway_process
from tests.support.wav_samples import read_wav_pcm
from tests.support.wer import word_error_rate

pytestmark = pytest.mark.integration

MODEL = "openai/whisper-tiny.en"
TRANSCRIPTIONS = "/v1/audio/transcriptions"
REFERENCES = load_references()


def repeated_wav(name: str, times: int) -> bytes:
    """A fixture said `times` over, as one WAV: a decode long enough to leave mid-way."""
    pcm, rate = read_wav_pcm(clip_path(name))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm * times)
    return out.getvalue()


# The long fixture three times over: four Whisper windows, so once the first window's
# segments have come the worker still has seconds of decoding to do.
VERY_LONG = repeated_wav(LONG_CLIP, 3)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("streaming")


@pytest.fixture(scope="module")
def log_file(folder: Path) -> Path:
    """Where the gateway and its worker write their log lines."""
    return folder / "gateway.log"


@pytest.fixture(scope="module")
def gateway(folder: Path, log_file: Path) -> Iterator[GatewayProcess]:
    env = {"LX_RESULT_CACHE_SIZE": "1", "LX_LOG_LEVEL": "INFO", "LX_LOG_FORMAT": "json"}
    with (
        log_file.open("wb") as log,
        gateway_process(folder / "state", env, stderr=log) as process,
    ):
        yield process


def log_lines(path: Path, request_id: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("request_id") == request_id]


def metric(gateway: GatewayProcess, name: str, **labels: str) -> float:
    with gateway.client() as client:
        text = client.get("/metrics").text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def cache_hits(gateway: GatewayProcess) -> float:
    return metric(gateway, "loquilex_result_cache_hits_total", model=MODEL)


def model_status(gateway: GatewayProcess) -> dict[str, Any]:
    with gateway.client() as client:
        models = client.get("/api/models/status").json()["asr_models"]
    (model,) = [m for m in models if m["model_id"] == MODEL]
    status: dict[str, Any] = model
    return status


def stream_events(client: OpenAI, audio: bytes, **fields: Any) -> list[Any]:
    events = client.audio.transcriptions.create(
        model=MODEL, file=("speech.wav", audio), stream=True, **fields
    )
    return list(events)


def test_the_sdk_stream_loop_gets_deltas_then_the_whole_text(
    gateway: GatewayProcess, client: OpenAI
) -> None:
    audio = clip_path(LONG_CLIP).read_bytes()
    whole = client.audio.transcriptions.create(model=MODEL, file=("speech.wav", audio)).text
    with clip_path("kitchen_lights.wav").open("rb") as other:  # takes the cache's one place
        client.audio.transcriptions.create(model=MODEL, file=other)
    hits = cache_hits(gateway)

    *deltas, done = stream_events(client, audio)

    assert cache_hits(gateway) == hits  # decoded again, not read back from the cache
    assert all(isinstance(d, TranscriptionTextDeltaEvent) for d in deltas), deltas
    assert isinstance(done, TranscriptionTextDoneEvent), done
    # Ten sentences: several segments, each its own delta, joining into the same text.
    assert len(deltas) >= 2
    assert all(d.delta.strip() for d in deltas)
    assert "".join(d.delta for d in deltas) == whole
    assert done.text == whole
    assert word_error_rate(REFERENCES[LONG_CLIP], done.text) <= 0.15


def test_text_format_streams_the_same_events(client: OpenAI) -> None:
    audio = clip_path("apples_oranges.wav").read_bytes()
    *deltas, done = stream_events(client, audio, response_format="text")
    assert isinstance(done, TranscriptionTextDoneEvent)
    assert deltas and "".join(d.delta for d in deltas) == done.text
    assert word_error_rate(REFERENCES["apples_oranges.wav"], done.text) <= 0.15


def test_a_cached_transcript_streams_too(gateway: GatewayProcess, client: OpenAI) -> None:
    audio = clip_path("sunny_day.wav").read_bytes()
    first = stream_events(client, audio)
    hits = cache_hits(gateway)
    again = stream_events(client, audio)
    assert cache_hits(gateway) == hits + 1  # answered from the cache the first one filled
    assert [e.model_dump() for e in again] == [e.model_dump() for e in first]
    done = again[-1]
    assert isinstance(done, TranscriptionTextDoneEvent)
    assert word_error_rate(REFERENCES["sunny_day.wav"], done.text) <= 0.15
    plain = client.audio.transcriptions.create(model=MODEL, file=("speech.wav", audio))
    assert plain.text == done.text


def test_raw_server_sent_events(gateway: GatewayProcess) -> None:
    # curl -N -F file=@speech.wav -F stream=true .../v1/audio/transcriptions
    audio = clip_path("open_window.wav").read_bytes()
    files = {"file": ("speech.wav", audio, "audio/wav")}
    with (
        gateway.client() as client,
        client.stream("POST", TRANSCRIPTIONS, files=files, data={"stream": "true"}) as answer,
    ):
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert answer.headers["cache-control"] == "no-cache"
        body = answer.read().decode()
    blocks = body.split("\n\n")
    assert blocks[-1] == ""  # each event ends with a blank line
    events = []
    for block in blocks[:-1]:
        (line,) = block.split("\n")  # one `data:` line per event, no `event:` line
        assert line.startswith("data: ")
        events.append(json.loads(line.removeprefix("data: ")))
    *deltas, done = events
    assert deltas and all(set(e) == {"type", "delta"} for e in deltas)
    assert {e["type"] for e in deltas} == {"transcript.text.delta"}
    assert done == {"type": "transcript.text.done", "text": "".join(e["delta"] for e in deltas)}
    assert word_error_rate(REFERENCES["open_window.wav"], done["text"]) <= 0.15


def test_an_unknown_model_is_refused_before_any_event(client: OpenAI) -> None:
    with (
        clip_path("kitchen_lights.wav").open("rb") as audio,
        pytest.raises(openai.NotFoundError) as raised,
    ):
        client.audio.transcriptions.create(model="openai/whisper-huge-9", file=audio, stream=True)
    assert raised.value.code == "MODEL_NOT_FOUND"
    assert "whisper-huge-9" in raised.value.message


def test_audio_the_worker_cannot_decode_is_refused_before_any_event(
    gateway: GatewayProcess,
) -> None:
    # A WAV header and no samples: it looks like audio, and only the worker finds it empty.
    header_only = clip_path("kitchen_lights.wav").read_bytes()[:44]
    with gateway.client() as client:
        answer = client.post(
            TRANSCRIPTIONS,
            files={"file": ("speech.wav", header_only, "audio/wav")},
            data={"model": MODEL, "stream": "true"},
        )
    assert "samples" in error_of(answer, 400, "INVALID_AUDIO")["message"]


@pytest.mark.parametrize("response_format", ["srt", "vtt", "verbose_json"])
def test_formats_that_cannot_stream_are_refused(
    gateway: GatewayProcess, response_format: str
) -> None:
    audio = clip_path("kitchen_lights.wav").read_bytes()
    fields = {"stream": "true", "response_format": response_format}
    with gateway.client() as client:
        answer = client.post(
            TRANSCRIPTIONS, files={"file": ("speech.wav", audio, "audio/wav")}, data=fields
        )
    error = error_of(answer, 400, "INVALID_REQUEST")
    assert error["details"] == {"field": "response_format", "supported": ["json", "text"]}
    assert response_format in error["message"]


def test_a_stream_value_that_is_no_boolean_is_refused(gateway: GatewayProcess) -> None:
    audio = clip_path("kitchen_lights.wav").read_bytes()
    with gateway.client() as client:
        answer = client.post(
            TRANSCRIPTIONS,
            files={"file": ("speech.wav", audio, "audio/wav")},
            data={"stream": "maybe"},
        )
    error = error_of(answer, 400, "INVALID_REQUEST")
    assert error["details"]["field"] == "stream"


def test_translations_do_not_stream(gateway: GatewayProcess) -> None:
    # OpenAI's translations take no `stream`: refused, rather than silently ignored.
    audio = clip_path("kitchen_lights.wav").read_bytes()
    with gateway.client() as client:
        answer = client.post(
            "/v1/audio/translations",
            files={"file": ("speech.wav", audio, "audio/wav")},
            data={"stream": "true"},
        )
        error = error_of(answer, 400, "INVALID_REQUEST")
        assert error["details"] == {"field": "stream"}
        # stream=false is what leaving it out says: the usual answer (here, the usual
        # refusal of translating with an English-only model).
        answer = client.post(
            "/v1/audio/translations",
            files={"file": ("speech.wav", audio, "audio/wav")},
            data={"stream": "false", "model": MODEL},
        )
    assert "English-only" in error_of(answer, 400, "CONFIGURATION_ERROR")["message"]


def test_leaving_mid_stream_stops_the_workers_decode(
    gateway: GatewayProcess, client: OpenAI, log_file: Path
) -> None:
    before = model_status(gateway)
    request_id = "sse-leaves-early"
    events = client.audio.transcriptions.create(
        model=MODEL,
        file=("speech.wav", VERY_LONG),
        stream=True,
        extra_headers={"X-Request-ID": request_id},
    )
    first = next(iter(events))
    assert isinstance(first, TranscriptionTextDeltaEvent)
    events.close()  # the client leaves: its connection closes

    def stopped() -> bool:
        return any("cancelled" in line["message"] for line in log_lines(log_file, request_id))

    gateway.wait_for(stopped, 60, "the worker to stop the cancelled decode")
    worker_lines = [line for line in log_lines(log_file, request_id) if line["process"] == "worker"]
    assert any("stopped: it was cancelled" in line["message"] for line in worker_lines)
    assert not any("transcribed" in line["message"] for line in worker_lines)  # never finished
    after = model_status(gateway)
    # Neither served nor failed: no count, no error rate moved.
    assert after["inference_count"] == before["inference_count"]
    assert after["health_check"]["error_rate"] == before["health_check"]["error_rate"]


def test_a_worker_lost_mid_stream_is_an_error_the_sdk_raises(
    gateway: GatewayProcess, client: OpenAI
) -> None:
    # Last in the module: it kills the worker (the gateway starts another).
    errors = metric(gateway, "loquilex_errors_total", code="WORKER_UNAVAILABLE")
    events = iter(
        client.audio.transcriptions.create(model=MODEL, file=("speech.wav", VERY_LONG), stream=True)
    )
    first = next(events)
    assert isinstance(first, TranscriptionTextDeltaEvent)
    (worker,) = gateway.workers()
    os.kill(worker["pid"], signal.SIGKILL)
    with pytest.raises(openai.APIError) as raised:
        for _ in events:  # the deltas already sent, then the error event
            pass
    assert raised.value.code == "WORKER_UNAVAILABLE"
    assert worker["worker_id"] in raised.value.message
    # Counted as any error answer is, though it went out as an event of a 200 (once the
    # answer ends, which may be just after the client read its last event).
    gateway.wait_for(
        lambda: metric(gateway, "loquilex_errors_total", code="WORKER_UNAVAILABLE") == errors + 1,
        30,
        "the error event to be counted",
    )
    gateway.wait_ready()
