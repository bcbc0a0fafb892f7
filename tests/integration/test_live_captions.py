"""Live captions end to end: a real gateway, its real worker and the bundled tiny.en; the
fixture WAVs streamed over the caption WebSocket faster than real time.

The protocol (hello/welcome, seq, heartbeats, acks and the window, resume with replay,
every bad input), the captions (partials then finals, close to the offline transcript),
their translations, and a worker killed mid-stream (recovering, resumed, no final lost or
repeated). Waits are generous: the machine running these is shared.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.integration.conftest import CACHED_MODEL, CACHED_REPO, LOCAL_MT_MODEL
from tests.support.audio import load_references
from tests.support.builders.fixtures import TINY_WHISPER_PHRASE, tiny_whisper_multilingual_model
from tests.support.builders.nllb_copy import build_nllb_copy_model
from tests.support.gateway_process import GatewayProcess, running_gateway
from tests.support.hub_cache import place_in_hub_cache
from tests.support.live_socket import (
    AudioFeed,
    LiveSocket,
    Message,
    clip_pcm,
    finals_text,
    wav_bytes,
)
from tests.support.wer import normalize, word_error_rate

ASR_MODEL = "openai/whisper-tiny.en"
RESUME_SECONDS = 8
BACKLOG_SECONDS = 45
MAX_MSG_BYTES = 131_072
pytestmark = pytest.mark.integration

STREAM_GAUGE = re.compile(r'^loquilex_live_streams\{model="([^"]+)"\} (\S+)$', re.MULTILINE)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    model_dirs = tmp_path_factory.mktemp("models")
    build_nllb_copy_model(model_dirs / LOCAL_MT_MODEL.removeprefix("local/"))
    # The suite's multilingual tiny Whisper ("hello world" whatever it hears) is the only
    # hub model: the default NLLB is missing, as on a machine that never downloaded it.
    hub_cache = tmp_path_factory.mktemp("hub")
    place_in_hub_cache(hub_cache, CACHED_REPO, tiny_whisper_multilingual_model(tmp_path_factory))
    env = {
        "HF_HUB_CACHE": str(hub_cache),
        "LX_MODEL_DIRS": str(model_dirs),
        "LX_LIVE_HEARTBEAT_INTERVAL_MS": "1000",
        "LX_LIVE_HEARTBEAT_TIMEOUT_MS": "60000",
        "LX_LIVE_RESUME_SECONDS": str(RESUME_SECONDS),
        "LX_LIVE_BACKLOG_SECONDS": str(BACKLOG_SECONDS),
        "LX_LIVE_MAX_MSG_BYTES": str(MAX_MSG_BYTES),
    }
    with running_gateway(tmp_path_factory.mktemp("state"), **env) as process:
        yield process


@pytest.fixture(scope="module")
def offline_story(gateway: GatewayProcess) -> str:
    """long_story.wav transcribed offline by the same service (the finals' baseline)."""
    with gateway.client() as client:
        client.timeout = httpx.Timeout(300.0)
        answer = client.post(
            "/api/asr/transcribe",
            content=wav_bytes("long_story.wav"),
            headers={"content-type": "audio/wav"},
        )
    assert answer.status_code == 200, answer.text
    text: str = answer.json()["text"]
    return text


def _session(gateway: GatewayProcess, config: dict[str, Any] | None = None) -> str:
    with gateway.client() as client:
        sid: str = client.post("/api/sessions").json()["session_id"]
        if config is not None:
            answer = client.put(f"/api/sessions/{sid}/models/config", json=config)
            assert answer.status_code == 200, answer.text
    return sid


def _open_streams(gateway: GatewayProcess) -> dict[str, float]:
    with gateway.client() as client:
        text = client.get("/metrics").text
    return {model: float(value) for model, value in STREAM_GAUGE.findall(text)}


def _errors(live: LiveSocket) -> list[str]:
    return [m["data"]["code"] for m in live.of("server.error")]


def _stages(live: LiveSocket) -> list[str]:
    return [m["data"]["stage"] for m in live.of("status")]


def _final_ids(messages: list[Message]) -> list[str]:
    return [m["data"]["segment_id"] for m in messages if m["t"] == "asr.final"]


def _consecutive(ids: list[str]) -> bool:
    return ids == [f"seg_{i:06d}" for i in range(len(ids))]


def _stream_through(
    gateway: GatewayProcess, sid: str, pcm: bytes, speed: float = 3.0, **hello: Any
) -> tuple[LiveSocket, int]:
    """One whole stream: hello, the audio, audio.end; everything read until the close."""
    live = LiveSocket.open(gateway.port, sid)
    live.hello(**hello)
    feed = AudioFeed(live, pcm, speed=speed).start()
    code = live.read_to_close(timeout_s=300)
    feed.join()
    return live, code


# ---------------------------------------------------------------- protocol


def test_unknown_session_is_told_and_closed_with_4404(gateway: GatewayProcess) -> None:
    live = LiveSocket.open(gateway.port, "sess_ffffffffffffffff")
    code = live.read_to_close(timeout_s=30)
    assert code == 4404
    (error,) = live.log
    assert error["t"] == "server.error"
    assert error["data"]["code"] == "SESSION_NOT_FOUND"


def test_a_stream_gives_partials_then_finals_close_to_the_offline_transcript(
    gateway: GatewayProcess, offline_story: str
) -> None:
    sid = _session(gateway)
    live = LiveSocket.open(gateway.port, sid)
    welcome = live.hello(agent="tests/1", encoding="pcm_s16le", sample_rate=16_000)
    assert welcome["seq"] == 0 and welcome["sid"] == sid and welcome["v"] == 1
    data = welcome["data"]
    assert data["hb"] == {"interval_ms": 1000, "timeout_ms": 60000}
    assert data["resume_window"]["seconds"] == RESUME_SECONDS
    assert len(data["resume_window"]["token"]) >= 16
    assert data["limits"] == {"max_in_flight": 64, "max_msg_bytes": MAX_MSG_BYTES}

    feed = AudioFeed(live, clip_pcm("long_story.wav"), speed=3.0).start()
    code = live.read_to_close(timeout_s=300)
    feed.join()
    assert code == 1000, live.tail()
    # The one error: the session's default NLLB is not here (the MT tests below say more).
    assert _errors(live) == ["DOWNLOAD_REQUIRED"]

    numbered = live.numbered()
    assert [m["seq"] for m in numbered] == list(range(1, len(numbered) + 1))
    stamps = [m["t_mono_ms"] for m in numbered]
    assert stamps == sorted(stamps)
    assert {m["sid"] for m in numbered} == {sid}
    stages = _stages(live)
    assert stages[-1] == "ended" and "ready" in stages
    assert numbered[-1]["t"] == "status"  # `ended` is the stream's last word

    finals = live.of("asr.final")
    ids = _final_ids(live.log)
    assert len(finals) >= 5, live.tail()  # ten sentences, 0.6 s apart
    assert _consecutive(ids)
    for final in finals:
        assert final["data"]["end_ms"] > final["data"]["start_ms"] >= 0
    starts = [f["data"]["start_ms"] for f in finals]
    assert starts == sorted(starts)
    # Each segment is heard as partials before its final, never after it.
    partial_ids = [m["data"]["segment_id"] for m in live.of("asr.partial")]
    assert partial_ids, "no partial caption came"
    assert set(partial_ids) <= set(ids)
    for partial in live.of("asr.partial"):
        assert partial["data"]["final"] is False
        assert partial["data"]["text"].startswith(partial["data"]["stable_text"])
        seg = partial["data"]["segment_id"]
        final_seq = next(f["seq"] for f in finals if f["data"]["segment_id"] == seg)
        assert partial["seq"] < final_seq

    reference = load_references()["long_story.wav"]
    offline_wer = word_error_rate(reference, offline_story)
    live_wer = word_error_rate(reference, finals_text(live.log))
    assert live_wer <= offline_wer + 0.10, (live_wer, offline_wer, finals_text(live.log))

    beats = live.of("server.hb")
    assert beats, "no server.hb within the stream"
    assert all(b["seq"] is None for b in beats)
    assert all({"q_in", "q_out", "latency_ms_est", "ts"} <= set(b["data"]) for b in beats)
    assert max(b["data"]["q_in"] for b in beats) > 0  # audio waited for its final


def test_a_model_that_cannot_be_loaded_ends_the_stream_with_the_load_error(
    gateway: GatewayProcess,
) -> None:
    # Offline, and its weights are not here: the load's code, with what to do instead.
    sid = _session(gateway, {"asr": {"model_id": "openai/whisper-base.en"}})
    live = LiveSocket.open(gateway.port, sid)
    live.hello()
    live.ws.send(clip_pcm("kitchen_lights.wav")[:32_000])
    assert live.read_to_close(timeout_s=120) == 1011
    assert _stages(live) == ["loading"]
    (error,) = live.of("server.error")
    assert error["data"]["code"] == "DOWNLOAD_REQUIRED"
    assert "openai/whisper-base.en" in error["data"]["detail"]
    assert "Suggestions:" in error["data"]["detail"]
    assert live.of("asr.final") == []


def test_the_alias_path_serves_the_same_stream(gateway: GatewayProcess) -> None:
    sid = _session(gateway)
    live = LiveSocket.open(gateway.port, sid, path="/ws/{sid}")
    live.hello()
    AudioFeed(live, clip_pcm("kitchen_lights.wav"), speed=4.0).start().join()
    assert live.read_to_close(timeout_s=180) == 1000
    reference = load_references()["kitchen_lights.wav"]
    assert word_error_rate(reference, finals_text(live.log)) <= 0.2, live.tail()


def test_bad_input_is_told_and_the_stream_goes_on(gateway: GatewayProcess) -> None:
    sid = _session(gateway)
    live = LiveSocket.open(gateway.port, sid)

    def refused(send: Any, code: str) -> Message:
        send()
        error = live.next({"server.error"}, timeout_s=30)
        assert error["data"]["code"] == code, error
        assert error["seq"] is None  # about a frame: not part of the replay
        return error

    refused(lambda: live.ws.send(b"\x00\x01" * 100), "INVALID_REQUEST")  # audio before hello
    refused(lambda: live.send("client.ack", {"ack_seq": 0}), "INVALID_REQUEST")  # before hello
    refused(lambda: live.ws.send("{not json"), "INVALID_REQUEST")
    refused(lambda: live.ws.send("[1, 2]"), "INVALID_REQUEST")
    unknown = refused(lambda: live.send("client.shout", {}), "INVALID_REQUEST")
    assert "client.shout" in unknown["data"]["detail"]
    rate = refused(lambda: live.send("client.hello", {"sample_rate": 7000}), "CONFIGURATION_ERROR")
    assert "sample_rate" in rate["data"]["detail"]
    refused(lambda: live.send("client.hello", {"encoding": "mp3"}), "CONFIGURATION_ERROR")
    refused(lambda: live.send("client.hello", {"channels": 2}), "CONFIGURATION_ERROR")

    live.hello(encoding="pcm_s16le", sample_rate=16_000)  # the stream begins after all that
    refused(lambda: live.send("client.hello", {}), "INVALID_REQUEST")  # a second hello
    refused(lambda: live.ws.send(b"\x00" * 3201), "INVALID_AUDIO")  # odd s16le byte count
    refused(lambda: live.ws.send(b"\x00" * (MAX_MSG_BYTES + 2)), "PAYLOAD_TOO_LARGE")
    refused(lambda: live.send("client.ack", {"ack_seq": 10_000}), "INVALID_REQUEST")
    refused(lambda: live.send("client.flow", {"max_in_flight": 0}), "INVALID_REQUEST")

    AudioFeed(live, clip_pcm("sunny_day.wav"), speed=4.0).start().join()
    assert live.read_to_close(timeout_s=180) == 1000
    reference = load_references()["sunny_day.wav"]
    assert word_error_rate(reference, finals_text(live.log)) <= 0.2, live.tail()
    assert _stages(live)[-1] == "ended"


def test_other_rates_and_float_samples_are_captioned(gateway: GatewayProcess) -> None:
    # 8 kHz f32le: what a telephony client sends; the worker resamples to 16 kHz.
    import array

    pcm = clip_pcm("open_window.wav")
    samples = array.array("h", pcm)
    floats = array.array("f", (samples[i] / 32768.0 for i in range(0, len(samples), 2)))
    sid = _session(gateway)
    live = LiveSocket.open(gateway.port, sid)
    live.hello(encoding="f32le", sample_rate=8000)
    # 8 kHz f32le is as many bytes a second as 16 kHz s16le: the feed's pace is the same.
    feed = AudioFeed(live, floats.tobytes(), speed=4.0)
    feed.start().join()
    assert live.read_to_close(timeout_s=180) == 1000
    reference = load_references()["open_window.wav"]
    assert word_error_rate(reference, finals_text(live.log)) <= 0.25, live.tail()


def test_past_the_window_captions_wait_for_acks(gateway: GatewayProcess) -> None:
    sid = _session(gateway)
    live = LiveSocket.open(gateway.port, sid)
    live.auto_ack = False
    live.hello(max_in_flight=2, ack_mode="cumulative")
    pcm = clip_pcm("kitchen_lights.wav", "sunny_day.wav", "apples_oranges.wav")
    AudioFeed(live, pcm, speed=4.0).start().join()
    # Unacknowledged: two numbered messages come, then only heartbeats, whose q_out says
    # how many captions wait.
    beat = live.until(lambda m: m["t"] == "server.hb" and m["data"]["q_out"] >= 3, timeout_s=180)
    assert len(live.numbered()) == 2, live.tail()
    time.sleep(1.5)  # still nothing numbered while nothing is acknowledged
    live.until(lambda m: m["t"] == "server.hb", timeout_s=30)
    assert len(live.numbered()) == 2
    assert beat["data"]["q_out"] >= 3

    # Acknowledge as they come: each ack lets more out, everything arrives, in order, to
    # `ended`. Once its last messages are out the server closes without waiting for their
    # acks, so an ack may find the socket closed: what it sent is still read below.
    while True:
        last = live.numbered()[-1]
        if last["t"] == "status" and last["data"]["stage"] == "ended":
            break
        try:
            live.send("client.ack", {"ack_seq": last["seq"]})
        except ConnectionClosed:
            break
        count = len(live.numbered())
        live.until(lambda m: m.get("seq") is not None and m["t"] != "server.welcome", 120)
        assert len(live.numbered()) == count + 1
    assert live.read_to_close(timeout_s=60) == 1000
    numbered = live.numbered()
    assert [m["seq"] for m in numbered] == list(range(1, len(numbered) + 1))
    assert numbered[-1]["t"] == "status" and numbered[-1]["data"]["stage"] == "ended"
    assert len(live.of("asr.final")) >= 2

    # A wider window by client.flow lets everything out again.
    sid = _session(gateway)
    live = LiveSocket.open(gateway.port, sid)
    live.auto_ack = False
    live.hello(max_in_flight=1)
    live.send("client.flow", {"max_in_flight": 64})
    AudioFeed(live, clip_pcm("kitchen_lights.wav"), speed=4.0).start().join()
    assert live.read_to_close(timeout_s=180) == 1000
    assert _stages(live)[-1] == "ended"


def test_a_client_that_reconnects_gets_every_message_after_last_seq(
    gateway: GatewayProcess,
) -> None:
    sid = _session(gateway)
    pcm = clip_pcm("kitchen_lights.wav", "sunny_day.wav", "apples_oranges.wav", "open_window.wav")
    first = LiveSocket.open(gateway.port, sid)
    first.hello()
    half = len(pcm) // 4 * 2  # whole samples
    AudioFeed(first, pcm[:half], speed=4.0, end=False).start().join()
    first.until(lambda m: m["t"] == "asr.final", timeout_s=180)
    seen = first.numbered()
    last_seq = seen[-1]["seq"] - 2 if len(seen) > 2 else seen[-1]["seq"]
    first.close(code=1001)  # gone (a tab, a network), not done: the stream waits

    second = LiveSocket.open(gateway.port, sid)
    # The stream takes 16 kHz s16le: a resume in another format is refused, and may be
    # sent again as it should be.
    second.send("client.hello", {"resume": {"sid": sid, "last_seq": last_seq}, "sample_rate": 8000})
    refused = second.next({"server.error"}, timeout_s=30)
    assert refused["data"]["code"] == "CONFIGURATION_ERROR", refused
    welcome = second.hello(resume={"sid": sid, "last_seq": last_seq})
    assert welcome["seq"] == 0
    AudioFeed(second, pcm[half:], speed=4.0).start().join()
    assert second.read_to_close(timeout_s=300) == 1000, second.tail()
    assert [m for m in second.of("server.error") if m["seq"] is None] == [refused]
    replayed = second.numbered()
    assert [m["seq"] for m in replayed] == list(range(last_seq + 1, last_seq + 1 + len(replayed)))
    # What the first connection had after last_seq comes again, the same messages.
    again = {m["seq"]: m for m in replayed}
    for message in seen:
        if message["seq"] > last_seq:
            assert again[message["seq"]] == message
    together = [m for m in seen if m["seq"] <= last_seq] + replayed
    # The stream's one error (no NLLB here) once, before or after last_seq.
    assert [m["data"]["code"] for m in together if m["t"] == "server.error"] == [
        "DOWNLOAD_REQUIRED"
    ]
    assert _consecutive(_final_ids(together))
    assert len(_final_ids(together)) >= 3
    reference = " ".join(
        load_references()[n]
        for n in ("kitchen_lights.wav", "sunny_day.wav", "apples_oranges.wav", "open_window.wav")
    )
    assert word_error_rate(reference, finals_text(together)) <= 0.25, finals_text(together)


def test_past_the_resume_window_the_stream_is_cancelled(gateway: GatewayProcess) -> None:
    sid = _session(gateway)
    live = LiveSocket.open(gateway.port, sid)
    live.hello()
    pcm = clip_pcm("long_story.wav")
    AudioFeed(live, pcm, speed=3.0, end=False, stop_after_s=6.0).start().join()
    live.until(lambda m: m["t"] == "asr.partial", timeout_s=120)
    assert _open_streams(gateway).get(ASR_MODEL) == 1.0
    live.close(code=1001)
    # Kept for the window, then cancelled on the worker.
    time.sleep(RESUME_SECONDS / 2)
    assert _open_streams(gateway).get(ASR_MODEL) == 1.0
    gateway.wait_for(
        lambda: not _open_streams(gateway).get(ASR_MODEL), RESUME_SECONDS * 4, "the cancel"
    )
    late = LiveSocket.open(gateway.port, sid)
    late.send("client.hello", {"resume": {"sid": sid, "last_seq": 1}})
    error = late.next({"server.error"}, timeout_s=30)
    assert error["data"]["code"] == "INVALID_REQUEST"
    assert "Nothing to resume" in error["data"]["detail"]
    late.next({"server.welcome"}, timeout_s=30)  # a new stream instead
    late.close()


def test_a_client_that_closes_with_1000_cancels_its_stream_at_once(
    gateway: GatewayProcess,
) -> None:
    sid = _session(gateway)
    live = LiveSocket.open(gateway.port, sid)
    live.hello()
    AudioFeed(
        live, clip_pcm("long_story.wav"), speed=3.0, end=False, stop_after_s=4.0
    ).start().join()
    live.until(lambda m: m["t"] == "asr.partial", timeout_s=120)
    live.close(code=1000)
    gateway.wait_for(lambda: not _open_streams(gateway).get(ASR_MODEL), 30, "the cancel")


def test_audio_faster_than_the_backlog_is_refused_with_queue_full(gateway: GatewayProcess) -> None:
    sid = _session(gateway)
    live = LiveSocket.open(gateway.port, sid)
    live.hello()
    story = clip_pcm("long_story.wav")
    frame = 4 * 16_000 * 2  # 4 s a frame, under max_msg_bytes
    for i in range(BACKLOG_SECONDS // 4 + 3):  # 8 s past the backlog at once
        start = (i * frame) % (len(story) - frame)
        live.ws.send(story[start : start + frame])
    error = live.next({"server.error"}, timeout_s=60)
    assert error["data"]["code"] == "QUEUE_FULL"
    assert "real-time" in error["data"]["detail"]
    # The stream goes on: the audio it took is captioned.
    live.until(lambda m: m["t"] == "asr.final", timeout_s=240)
    live.close(code=1000)


def test_an_asr_config_change_applies_from_the_next_segment(gateway: GatewayProcess) -> None:
    sid = _session(gateway)
    live = LiveSocket.open(gateway.port, sid)
    live.hello()
    pcm = clip_pcm("kitchen_lights.wav", "sunny_day.wav", "apples_oranges.wav", "open_window.wav")
    feed = AudioFeed(live, pcm, speed=1.5).start()
    first = live.until(lambda m: m["t"] == "asr.final", timeout_s=180)
    with gateway.client() as client:
        answer = client.put(
            f"/api/sessions/{sid}/models/config", json={"asr": {"model_id": CACHED_MODEL}}
        )
    assert answer.status_code == 200, answer.text
    code = live.read_to_close(timeout_s=300)
    feed.join()
    assert code == 1000, live.tail()
    finals = live.of("asr.final")
    assert _consecutive(_final_ids(live.log))
    reference = load_references()["kitchen_lights.wav"]
    assert word_error_rate(reference, first["data"]["text"]) <= 0.2
    # The stream went on with the new model: it hears "hello world" in everything.
    assert normalize(finals[-1]["data"]["text"]) == TINY_WHISPER_PHRASE, live.tail()
    assert _errors(live) == ["DOWNLOAD_REQUIRED"]  # the default NLLB, as everywhere here


# ---------------------------------------------------------------- translation


def test_finals_are_translated_into_the_session_target(gateway: GatewayProcess) -> None:
    sid = _session(
        gateway,
        {"mt": {"model_id": LOCAL_MT_MODEL, "target_language": "fr", "source_language": "en"}},
    )
    pcm = clip_pcm("kitchen_lights.wav", "sunny_day.wav")
    live, code = _stream_through(gateway, sid, pcm, speed=4.0)
    assert code == 1000, live.tail()
    assert _errors(live) == []
    finals = {m["data"]["segment_id"]: m for m in live.of("asr.final")}
    translated = {m["data"]["segment_id"]: m for m in live.of("mt.final")}
    assert finals and set(translated) == set(finals)
    for seg, mt in translated.items():
        # The suite's copy model "translates" into the text itself.
        assert normalize(mt["data"]["text"]) == normalize(finals[seg]["data"]["text"])
        assert (mt["data"]["src"], mt["data"]["tgt"]) == ("en", "fr")
        assert mt["seq"] > finals[seg]["seq"]
    assert live.numbered()[-1]["data"] == {"stage": "ended", "detail": f"{len(finals)} finals"}


def test_partials_are_translated_when_the_client_accepts_mt_partial(
    gateway: GatewayProcess,
) -> None:
    mt = {"model_id": LOCAL_MT_MODEL, "target_language": "de", "source_language": "en"}
    sid = _session(gateway, {"mt": mt})
    live = LiveSocket.open(gateway.port, sid)
    live.hello(accept=["mt.partial"])
    feed = AudioFeed(live, clip_pcm("long_story.wav"), speed=1.5, stop_after_s=14.0).start()
    assert live.read_to_close(timeout_s=300) == 1000, live.tail()
    feed.join()
    partials = live.of("mt.partial")
    assert partials, live.tail()
    final_seq = {m["data"]["segment_id"]: m["seq"] for m in live.of("asr.final")}
    heard = {(m["data"]["segment_id"], m["data"]["text"]) for m in live.of("asr.partial")}
    for partial in partials:
        seg = partial["data"]["segment_id"]
        assert (partial["data"]["src"], partial["data"]["tgt"]) == ("en", "de")
        assert (seg, partial["data"]["text"]) in heard  # the copy model's "translation"
        assert partial["seq"] < final_seq[seg]  # never after its segment is final
    assert len(live.of("mt.final")) == len(final_seq)


def test_without_a_translation_model_one_error_says_so_and_captions_go_on(
    gateway: GatewayProcess,
) -> None:
    # The default NLLB is not on this machine and the tests run offline.
    sid = _session(gateway)
    pcm = clip_pcm("kitchen_lights.wav", "sunny_day.wav")
    live, code = _stream_through(gateway, sid, pcm, speed=4.0)
    assert code == 1000, live.tail()
    (error,) = live.of("server.error")
    assert error["data"]["code"] == "DOWNLOAD_REQUIRED", error
    assert "Captions go on" in error["data"]["detail"]
    assert error["seq"] is not None  # the stream's, replayed on resume
    assert live.of("mt.final") == []
    assert len(live.of("asr.final")) >= 2


# ---------------------------------------------------------------- recovery


def test_a_worker_killed_mid_stream_costs_a_pause_not_a_final(
    gateway: GatewayProcess, offline_story: str
) -> None:
    sid = _session(gateway)
    live = LiveSocket.open(gateway.port, sid)
    live.hello()
    feed = AudioFeed(live, clip_pcm("long_story.wav"), speed=2.0).start()
    live.until(lambda m: m["t"] == "asr.final", timeout_s=180)
    (worker,) = gateway.workers()
    os.kill(worker["pid"], signal.SIGKILL)
    code = live.read_to_close(timeout_s=400)
    feed.join()
    assert code == 1000, live.tail()
    stages = _stages(live)
    assert "recovering" in stages and "resumed" in stages, stages
    assert stages.index("recovering") < stages.index("resumed") < stages.index("ended")
    ids = _final_ids(live.log)
    assert _consecutive(ids), ids  # none lost, none twice
    reference = load_references()["long_story.wav"]
    offline_wer = word_error_rate(reference, offline_story)
    live_wer = word_error_rate(reference, finals_text(live.log))
    assert live_wer <= offline_wer + 0.15, (live_wer, finals_text(live.log))
    (after,) = gateway.workers()
    assert after["pid"] != worker["pid"]


def test_a_worker_that_hangs_mid_stream_is_replaced_and_the_stream_goes_on(
    gateway: GatewayProcess,
) -> None:
    sid = _session(gateway)
    live = LiveSocket.open(gateway.port, sid)
    live.hello()
    pcm = clip_pcm("kitchen_lights.wav", "sunny_day.wav", "apples_oranges.wav", "open_window.wav")
    feed = AudioFeed(live, pcm, speed=1.5).start()
    live.until(lambda m: m["t"] == "asr.final", timeout_s=180)
    (worker,) = gateway.workers()
    os.kill(worker["pid"], signal.SIGSTOP)  # silent: the supervisor's heartbeat timeout
    try:
        code = live.read_to_close(timeout_s=400)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker["pid"], signal.SIGCONT)
    feed.join()
    assert code == 1000, live.tail()
    stages = _stages(live)
    assert stages.index("recovering") < stages.index("resumed") < stages.index("ended"), stages
    assert _consecutive(_final_ids(live.log))
    reference = " ".join(
        load_references()[n]
        for n in ("kitchen_lights.wav", "sunny_day.wav", "apples_oranges.wav", "open_window.wav")
    )
    assert word_error_rate(reference, finals_text(live.log)) <= 0.25, finals_text(live.log)
    (after,) = gateway.workers()
    assert after["pid"] != worker["pid"]
    assert after["last_exit"]["reason"] == "hang"
