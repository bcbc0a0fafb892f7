"""The built test models behave as promised: copy models copy, the tiny Whisper says its phrase."""

from __future__ import annotations

import json
import os
from pathlib import Path

import ctranslate2
import numpy as np
import pytest
import sentencepiece
from faster_whisper import WhisperModel

from tests.support.audio import LONG_CLIP, clip_path
from tests.support.builders import fixtures as built
from tests.support.builders.nllb_copy import (
    SENTENCEPIECE_FILE,
    Flavour,
    build_nllb_copy_model,
    language_token,
)
from tests.support.builders.tiny_whisper import build_tiny_whisper
from tests.support.builders.whisper_tokenizer import TIMESTAMPS, WHISPER_LANGUAGES

SENTENCES = {
    "eng_Latn": "Hello world, this is a test.",
    "zho_Hans": "今天天气晴朗\uff0c我们去市场。",  # full-width comma: no NFKC
    "arb_Arab": "مرحبا بالعالم، هذا اختبار.",
}
SPEECH = clip_path("kitchen_lights.wav")


@pytest.fixture(scope="session")
def copy_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str | None, Path]:
    """Copy models by weight quantization (None: float32)."""
    return {
        None: built.nllb_copy_model(tmp_path_factory),
        "int8": built.nllb_copy_model_int8(tmp_path_factory),
    }


@pytest.fixture(scope="session")
def m2m_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built.m2m_copy_model(tmp_path_factory)


@pytest.fixture(scope="session")
def whisper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built.tiny_whisper_model(tmp_path_factory)


@pytest.fixture(scope="session")
def whisper(whisper_dir: Path) -> WhisperModel:
    return WhisperModel(str(whisper_dir), device="cpu", compute_type="int8", cpu_threads=2)


def translate(
    model_dir: Path, texts: list[str], src: str, tgt: str, beam_size: int
) -> list[list[str]]:
    """Run the model as the service runs NLLB: [src, *pieces, </s>] in, [tgt, ...] out."""
    translator = ctranslate2.Translator(str(model_dir), device="cpu", intra_threads=2)
    pieces = sentencepiece.SentencePieceProcessor(model_file=str(model_dir / SENTENCEPIECE_FILE))
    batch = [[src, *pieces.encode(text, out_type=str), "</s>"] for text in texts]
    results = translator.translate_batch(
        batch, target_prefix=[[tgt]] * len(texts), beam_size=beam_size
    )
    outputs = []
    for result in results:
        tokens = result.hypotheses[0]
        outputs.append([tokens[0], pieces.decode(tokens[1:])])
    return outputs


def test_copy_model_layout(copy_models: dict[str | None, Path]) -> None:
    model_dir = copy_models[None]
    assert {path.name for path in model_dir.iterdir()} == {
        "model.bin",
        "config.json",
        "shared_vocabulary.json",
        SENTENCEPIECE_FILE,
    }
    config = json.loads((model_dir / "config.json").read_text())
    assert config["decoder_start_token"] == "</s>"
    vocabulary = json.loads((model_dir / "shared_vocabulary.json").read_text())
    assert vocabulary[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert set(SENTENCES) <= set(vocabulary)
    assert (model_dir / "model.bin").stat().st_size < 3_000_000
    # int8 weights take about a quarter of the space.
    int8_size = (copy_models["int8"] / "model.bin").stat().st_size
    assert int8_size < 0.5 * (model_dir / "model.bin").stat().st_size


@pytest.mark.parametrize("quantization", [None, "int8"])
@pytest.mark.parametrize("beam_size", [1, 4])
@pytest.mark.parametrize("src", sorted(SENTENCES))
def test_copy_model_translates_to_its_input(
    copy_models: dict[str | None, Path], quantization: str | None, beam_size: int, src: str
) -> None:
    text = SENTENCES[src]
    [output] = translate(copy_models[quantization], [text], src, "fra_Latn", beam_size)
    assert output == ["fra_Latn", text]


def test_copy_model_batches_mixed_lengths(copy_models: dict[str | None, Path]) -> None:
    texts = [
        "Hi.",
        SENTENCES["eng_Latn"],
        " ".join([SENTENCES["eng_Latn"]] * 12),  # ~150 tokens, much longer than the rest
        "Ünïcödé ✓ 🙂 and byte fallback: ǅ \u210c ꙮ",
    ]
    outputs = translate(copy_models["int8"], texts, "eng_Latn", "deu_Latn", beam_size=4)
    assert outputs == [["deu_Latn", text] for text in texts]


def test_m2m_flavour_uses_m2m_language_tokens(m2m_model: Path) -> None:
    vocabulary = json.loads((m2m_model / "shared_vocabulary.json").read_text())
    assert {"__en__", "__fr__", "__zh__", "__ar__"} <= set(vocabulary)
    assert "eng_Latn" not in vocabulary
    [output] = translate(m2m_model, [SENTENCES["eng_Latn"]], "__en__", "__fr__", beam_size=4)
    assert output == ["__fr__", SENTENCES["eng_Latn"]]


@pytest.mark.parametrize(
    ("code", "flavour", "token"),
    [
        ("fra_Latn", "nllb", "fra_Latn"),
        ("fra_Latn", "m2m", "__fr__"),
        ("zho_Hans", "m2m", "__zh__"),
        ("fr", "m2m", "__fr__"),
    ],
)
def test_language_token(code: str, flavour: Flavour, token: str) -> None:
    assert language_token(code, flavour) == token


def test_wide_copy_model_copies(tmp_path: Path) -> None:
    """The big preset's geometry (d_model 1024, 16 heads), with one layer to stay quick."""
    model_dir = build_nllb_copy_model(
        tmp_path / "wide", d_model=1024, layers=1, heads=16, quantization="int8"
    )
    outputs = translate(model_dir, list(SENTENCES.values()), "eng_Latn", "spa_Latn", 4)
    assert outputs == [["spa_Latn", text] for text in SENTENCES.values()]


@pytest.mark.skipif(
    os.environ.get("LX_TEST_BIG_MODEL") != "1",
    reason="builds a 360 MB model in ~7 s; set LX_TEST_BIG_MODEL=1",
)
def test_big_copy_model_copies(tmp_path_factory: pytest.TempPathFactory) -> None:
    model_dir = built.big_nllb_copy_model(tmp_path_factory)
    assert (model_dir / "model.bin").stat().st_size > 200_000_000
    outputs = translate(model_dir, list(SENTENCES.values()), "eng_Latn", "fra_Latn", 4)
    assert outputs == [["fra_Latn", text] for text in SENTENCES.values()]


def test_copy_model_rejects_bad_shapes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="multiple of heads"):
        build_nllb_copy_model(tmp_path / "bad", d_model=65, heads=4)


def test_tiny_whisper_layout(whisper_dir: Path) -> None:
    assert {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"} <= {
        path.name for path in whisper_dir.iterdir()
    }
    assert (whisper_dir / "model.bin").stat().st_size < 3_000_000
    vocabulary = json.loads((whisper_dir / "vocabulary.json").read_text())
    config = json.loads((whisper_dir / "config.json").read_text())
    no_timestamps = vocabulary.index("<|notimestamps|>")
    # faster-whisper and ctranslate2 find timestamps right after <|notimestamps|>, at the end.
    assert vocabulary[no_timestamps + 1 :] == list(TIMESTAMPS)
    assert vocabulary[-1] == "<|30.00|>"
    assert len(config["lang_ids"]) == len(WHISPER_LANGUAGES)
    assert config["alignment_heads"]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"without_timestamps": True},
        {"beam_size": 1, "condition_on_previous_text": False},
        {"vad_filter": True},
    ],
    ids=["timestamps", "no-timestamps", "greedy", "vad"],
)
def test_tiny_whisper_says_its_phrase(whisper: WhisperModel, options: dict[str, object]) -> None:
    segments, info = whisper.transcribe(str(SPEECH), **options)
    segments = list(segments)
    assert info.language == "en"
    assert [segment.text for segment in segments] == [" " + built.TINY_WHISPER_PHRASE]
    assert 0.0 <= segments[0].start < segments[0].end <= info.duration + 0.01


def test_tiny_whisper_word_timestamps(whisper: WhisperModel) -> None:
    segments, info = whisper.transcribe(str(SPEECH), word_timestamps=True)
    segments = list(segments)
    assert segments
    for segment in segments:
        assert segment.text == " " + built.TINY_WHISPER_PHRASE
        assert segment.words is not None
        assert [word.word.strip() for word in segment.words] == ["hello", "world"]
        for word in segment.words:
            assert 0.0 <= float(word.start) <= float(word.end) <= info.duration + 0.01


def test_tiny_whisper_one_segment_per_window(whisper: WhisperModel) -> None:
    segments, info = whisper.transcribe(str(clip_path(LONG_CLIP)))
    spans = [(segment.start, segment.end) for segment in segments]
    assert spans == [(0.0, 30.0), (30.0, pytest.approx(info.duration, abs=0.02))]


def test_tiny_whisper_silence(whisper: WhisperModel) -> None:
    silence = np.zeros(3 * 16000, dtype=np.float32)
    segments, _ = whisper.transcribe(silence, vad_filter=True)
    assert list(segments) == []  # VAD finds no speech, so nothing reaches the model
    segments, _ = whisper.transcribe(silence)
    assert [segment.text for segment in segments] == [" " + built.TINY_WHISPER_PHRASE]


def test_tiny_whisper_custom_phrase(tmp_path: Path) -> None:
    model_dir = build_tiny_whisper(tmp_path / "custom", "good morning everyone")
    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=2)
    segments, _ = model.transcribe(str(SPEECH))
    assert [segment.text for segment in segments] == [" good morning everyone"]


def test_tiny_whisper_rejects_repeated_tokens(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="repeats a token"):
        build_tiny_whisper(tmp_path / "bad", "hello hello")


def test_multilingual_tiny_whisper(tmp_path_factory: pytest.TempPathFactory) -> None:
    model_dir = built.tiny_whisper_multilingual_model(tmp_path_factory)
    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=2)
    assert model.model.is_multilingual
    for task in ("transcribe", "translate"):
        segments, info = model.transcribe(str(SPEECH), task=task)
        assert info.language == built.TINY_WHISPER_LANGUAGE
        assert [segment.text for segment in segments] == [" " + built.TINY_WHISPER_PHRASE]
