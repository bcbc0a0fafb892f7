"""The captions command's plain parts: a WAV file as stream frames, and server messages as
the lines it prints; no gateway, no process."""

from __future__ import annotations

import array
import wave
from pathlib import Path
from typing import Any

import pytest

from gateway.cli.caption_stream import stream_url
from gateway.cli.caption_view import CaptionView, Shown, clock
from gateway.cli.wav_audio import UnsupportedWav, read_wav
from tests.support.audio import clip_path


def _write_wav(path: Path, samples: list[int], channels: int = 1, rate: int = 16_000) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(array.array("h", samples).tobytes())
    return path


def _message(t: str, **data: Any) -> dict[str, Any]:
    return {"v": 1, "t": t, "sid": "sess_0123456789abcdef", "seq": 3, "data": data}


def test_a_fixture_wav_reads_at_its_own_rate() -> None:
    audio = read_wav(clip_path("kitchen_lights.wav"))
    with wave.open(str(clip_path("kitchen_lights.wav")), "rb") as wav:
        frames, rate = wav.getnframes(), wav.getframerate()
    assert audio.sample_rate == rate
    assert len(audio.pcm) == frames * 2
    assert audio.duration_s == pytest.approx(frames / rate)


def test_chunks_cover_the_audio_in_frames_of_the_asked_length(tmp_path: Path) -> None:
    audio = read_wav(_write_wav(tmp_path / "a.wav", list(range(1000)), rate=8000))
    chunks = list(audio.chunks(50))  # 400 samples each at 8 kHz
    assert [len(c) for c in chunks] == [800, 800, 400]
    assert b"".join(chunks) == audio.pcm


def test_stereo_is_mixed_down_to_mono(tmp_path: Path) -> None:
    audio = read_wav(_write_wav(tmp_path / "s.wav", [100, 300, -50, -150], channels=2))
    mono = array.array("h")
    mono.frombytes(audio.pcm)
    assert list(mono) == [200, -100]


def test_a_file_the_stream_cannot_take_is_refused_with_a_hint(tmp_path: Path) -> None:
    not_wav = tmp_path / "talk.mp3"
    not_wav.write_bytes(b"ID3\x04" + bytes(100))
    with pytest.raises(UnsupportedWav, match="ffmpeg"):
        read_wav(not_wav)
    with pytest.raises(UnsupportedWav, match="96000 Hz"):
        read_wav(_write_wav(tmp_path / "hi.wav", [0] * 10, rate=96_000))


def test_clock_reads_minutes_seconds_and_tenths() -> None:
    assert clock(0) == "00:00.0"
    assert clock(61_250) == "01:01.2"
    assert clock(3_723_400) == "1:02:03.4"


def test_a_terminal_shows_partials_in_place_and_finals_as_lines() -> None:
    view = CaptionView(partials=True)
    partial = view.show(_message("asr.partial", text=" Turn on", segment_id="seg_000000"))
    final = view.show(
        _message(
            "asr.final",
            text=" Turn on the lights.",
            segment_id="seg_000000",
            start_ms=1200,
            end_ms=3400,
        )
    )
    translated = view.show(
        _message("mt.final", text="Allume.", src="en", tgt="fra_Latn", segment_id="seg_000000")
    )
    assert partial == [Shown("partial", "… Turn on")]
    assert final == [Shown("line", "[00:01.2 → 00:03.4] Turn on the lights.")]
    assert translated == [Shown("line", "  ↳ [fra_Latn] Allume.")]


def test_a_pipe_gets_no_partials_but_status_and_errors() -> None:
    view = CaptionView(partials=False)
    assert view.show(_message("asr.partial", text=" Turn", segment_id="seg_000000")) == []
    assert view.show(_message("mt.partial", text="Al", src="en", tgt="fr", segment_id="s")) == []
    assert view.show(_message("status", stage="recovering", detail="worker cpu lost")) == [
        Shown("line", "# recovering: worker cpu lost")
    ]
    assert view.show(_message("server.error", code="QUEUE_FULL", detail="slow down")) == [
        Shown("error", "error QUEUE_FULL: slow down")
    ]
    assert view.show(_message("server.hb", q_in=0, q_out=0)) == []


def test_the_stream_url_follows_the_gateway_scheme() -> None:
    assert stream_url("http://127.0.0.1:8000/", "sess_1") == (
        "ws://127.0.0.1:8000/api/sessions/sess_1/stream"
    )
    assert stream_url("https://h", "s").startswith("wss://h/")
