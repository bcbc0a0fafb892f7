"""The official `openai` package, pointed at the service, works unchanged (`/v1/...`)."""

from __future__ import annotations

import re

import openai
import pytest
from openai import OpenAI

from tests.openai.conftest import MULTILINGUAL_MODEL
from tests.support.audio import LONG_CLIP, clip_path, load_references, short_clips
from tests.support.builders.fixtures import TINY_WHISPER_LANGUAGE, TINY_WHISPER_PHRASE
from tests.support.wer import word_error_rate

pytestmark = pytest.mark.integration

REFERENCES = load_references()
SRT_TIME = r"(\d{2,}):(\d{2}):(\d{2}),(\d{3})"
VTT_TIME = r"(\d{2,}):(\d{2}):(\d{2})\.(\d{3})"


def seconds(hours: str, minutes: str, secs: str, millis: str) -> float:
    return int(hours) * 3600 + int(minutes) * 60 + int(secs) + int(millis) / 1000


@pytest.mark.parametrize("clip", short_clips())
def test_whisper_1_returns_the_spoken_words(client: OpenAI, clip: str) -> None:
    with clip_path(clip).open("rb") as audio:
        result = client.audio.transcriptions.create(model="whisper-1", file=audio)
    assert word_error_rate(REFERENCES[clip], result.text) <= 0.15, result.text
    assert result.text == result.text.strip()


def test_text_format_is_the_plain_transcript(client: OpenAI) -> None:
    with clip_path("kitchen_lights.wav").open("rb") as audio:
        text = client.audio.transcriptions.create(
            model="openai/whisper-tiny.en", file=audio, response_format="text"
        )
    assert isinstance(text, str)
    assert text.endswith("\n")
    assert not text.startswith(("{", " "))
    assert word_error_rate(REFERENCES["kitchen_lights.wav"], text) <= 0.15


def test_srt_is_a_subrip_file_of_the_whole_recording(client: OpenAI) -> None:
    with clip_path(LONG_CLIP).open("rb") as audio:
        subtitles = client.audio.transcriptions.create(
            model="whisper-1", file=audio, response_format="srt"
        )
    cues = subtitles.strip("\n").split("\n\n")
    assert len(cues) >= 2  # 39 s of ten sentences is more than one cue
    previous_end = 0.0
    for number, cue in enumerate(cues, start=1):
        index, timing, text = cue.split("\n")
        assert index == str(number)
        found = re.fullmatch(f"{SRT_TIME} --> {SRT_TIME}", timing)
        assert found, timing
        start, end = seconds(*found.groups()[:4]), seconds(*found.groups()[4:])
        assert previous_end <= start <= end <= 39.0
        assert text.strip() == text != ""
        previous_end = end
    spoken = " ".join(cue.split("\n")[2] for cue in cues)
    assert word_error_rate(REFERENCES[LONG_CLIP], spoken) <= 0.15


def test_vtt_is_a_webvtt_file(client: OpenAI) -> None:
    with clip_path("sunny_day.wav").open("rb") as audio:
        subtitles = client.audio.transcriptions.create(
            model="whisper-1", file=audio, response_format="vtt"
        )
    header, *cues = subtitles.strip("\n").split("\n\n")
    assert header == "WEBVTT"
    assert cues
    timing, text = cues[0].split("\n")
    found = re.fullmatch(f"{VTT_TIME} --> {VTT_TIME}", timing)
    assert found, timing
    assert seconds(*found.groups()[:4]) < seconds(*found.groups()[4:]) <= 2.8
    assert word_error_rate(REFERENCES["sunny_day.wav"], text) <= 0.15


def test_verbose_json_with_words_and_segments(client: OpenAI) -> None:
    with clip_path("apples_oranges.wav").open("rb") as audio:
        result = client.audio.transcriptions.create(
            model="whisper-1",
            file=audio,
            response_format="verbose_json",
            timestamp_granularities=["word", "segment"],
        )
    reference = REFERENCES["apples_oranges.wav"]
    assert result.language == "english"  # OpenAI's name, not "en"
    assert result.duration == pytest.approx(2.7, abs=0.1)
    assert word_error_rate(reference, result.text) <= 0.15
    assert result.segments
    assert [s.id for s in result.segments] == list(range(len(result.segments)))
    for segment in result.segments:
        assert 0.0 <= segment.start < segment.end <= result.duration + 0.01
        assert segment.avg_logprob < 0.0
        assert 0.0 <= segment.no_speech_prob <= 1.0
        assert segment.compression_ratio > 0.0
    assert result.words
    assert word_error_rate(reference, " ".join(w.word for w in result.words)) <= 0.15
    previous_end = 0.0
    for word in result.words:
        assert word.word == word.word.strip() != ""
        assert previous_end <= word.start < word.end <= result.duration + 0.01
        previous_end = word.end


def test_verbose_json_words_only_leaves_out_segments(client: OpenAI) -> None:
    with clip_path("open_window.wav").open("rb") as audio:
        result = client.audio.transcriptions.create(
            model="whisper-1",
            file=audio,
            response_format="verbose_json",
            timestamp_granularities=["word"],
        )
    assert result.words
    assert result.segments is None  # as OpenAI answers a words-only request


def test_prompt_and_temperature_are_taken(client: OpenAI) -> None:
    with clip_path("kitchen_lights.wav").open("rb") as audio:
        result = client.audio.transcriptions.create(
            model="whisper-1",
            file=audio,
            language="en",
            prompt="Smart home commands.",
            temperature=0.2,
            response_format="verbose_json",
        )
    assert word_error_rate(REFERENCES["kitchen_lights.wav"], result.text) <= 0.15
    assert result.segments
    assert result.segments[0].temperature == pytest.approx(0.2)
    # Real decoder tokens, not placeholders: one text token (below 50257) per word or more.
    text_tokens = [t for t in result.segments[0].tokens if t < 50257]
    assert len(text_tokens) >= len(REFERENCES["kitchen_lights.wav"].split())


def test_models_list_has_whisper_1_and_the_catalog(client: OpenAI) -> None:
    models = {model.id: model for model in client.models.list()}
    assert {"whisper-1", "openai/whisper-tiny.en", MULTILINGUAL_MODEL} <= set(models)
    assert all(m.object == "model" and m.owned_by for m in models.values())
    assert client.models.retrieve("openai/whisper-tiny.en").id == "openai/whisper-tiny.en"
    with pytest.raises(openai.NotFoundError) as raised:
        client.models.retrieve("whisper-9")
    assert raised.value.code == "MODEL_NOT_FOUND"


# The openai package warns that audio.translations is deprecated; the service still serves it.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_translation_with_an_english_only_model_is_refused(client: OpenAI) -> None:
    with (
        clip_path("sunny_day.wav").open("rb") as audio,
        pytest.raises(openai.BadRequestError) as raised,
    ):
        client.audio.translations.create(model="openai/whisper-tiny.en", file=audio)
    assert raised.value.code == "CONFIGURATION_ERROR"
    assert "English-only" in raised.value.message
    assert MULTILINGUAL_MODEL in raised.value.message  # says which model would do


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_translation_with_a_multilingual_model(client: OpenAI) -> None:
    # The suite's multilingual tiny Whisper hears French and says its phrase.
    with clip_path("sunny_day.wav").open("rb") as audio:
        result = client.audio.translations.create(
            model=MULTILINGUAL_MODEL, file=audio, response_format="verbose_json"
        )
    assert result.language == "english"  # the language Whisper translates into
    assert result.text == TINY_WHISPER_PHRASE
    with clip_path("sunny_day.wav").open("rb") as audio:
        heard = client.audio.transcriptions.create(
            model=MULTILINGUAL_MODEL, file=audio, response_format="verbose_json"
        )
    assert TINY_WHISPER_LANGUAGE == "fr"
    assert heard.language == "french"


def test_a_non_audio_file_is_a_client_error(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.audio.transcriptions.create(model="whisper-1", file=("notes.wav", b"not audio"))
    assert raised.value.code == "INVALID_AUDIO"
