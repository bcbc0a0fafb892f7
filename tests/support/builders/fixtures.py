"""Built test models, as plain functions of pytest's `tmp_path_factory`.

Register the ones a test tree needs as session fixtures in a conftest, e.g.:

    from tests.support.builders import fixtures as built

    @pytest.fixture(scope="session")
    def nllb_copy_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
        return built.nllb_copy_model(tmp_path_factory)

Each call builds a fresh model in its own temporary folder: the small ones take well under a
second, `big_nllb_copy_model` about 7 s and 360 MB of disk, so give that one session scope.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.builders.nllb_copy import build_big_nllb_copy_model, build_nllb_copy_model
from tests.support.builders.tiny_whisper import build_tiny_whisper

# What the tiny Whisper models say, whatever they hear (faster-whisper adds a leading space).
TINY_WHISPER_PHRASE = "hello world"
# The language the multilingual tiny Whisper "detects" in any audio.
TINY_WHISPER_LANGUAGE = "fr"


def nllb_copy_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """NLLB-style copy model (eng_Latn, fra_Latn, deu_Latn, spa_Latn, zho_Hans, arb_Arab),
    float32 weights, about 2 MB."""
    return build_nllb_copy_model(tmp_path_factory.mktemp("nllb-copy") / "model")


def nllb_copy_model_int8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same copy model with int8 weights (about 0.7 MB)."""
    out_dir = tmp_path_factory.mktemp("nllb-copy-int8") / "model"
    return build_nllb_copy_model(out_dir, quantization="int8")


def m2m_copy_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """M2M100-style copy model: language tokens __en__, __fr__, __de__, __es__, __zh__, __ar__."""
    return build_nllb_copy_model(tmp_path_factory.mktemp("m2m-copy") / "model", flavour="m2m")


def big_nllb_copy_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Benchmark-sized NLLB-style copy model: d_model 1024, 12 + 12 layers, int8, ~360 MB."""
    return build_big_nllb_copy_model(tmp_path_factory.mktemp("nllb-copy-big") / "model")


def tiny_whisper_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """English-only tiny Whisper (about 2.6 MB) that transcribes any audio as
    TINY_WHISPER_PHRASE."""
    out_dir = tmp_path_factory.mktemp("tiny-whisper") / "model"
    return build_tiny_whisper(out_dir, TINY_WHISPER_PHRASE)


def tiny_whisper_multilingual_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Multilingual tiny Whisper (51865 tokens, int8, about 8 MB): detects every input as
    TINY_WHISPER_LANGUAGE and transcribes or translates it as TINY_WHISPER_PHRASE."""
    out_dir = tmp_path_factory.mktemp("tiny-whisper-multilingual") / "model"
    return build_tiny_whisper(
        out_dir,
        TINY_WHISPER_PHRASE,
        multilingual=True,
        language=TINY_WHISPER_LANGUAGE,
        quantization="int8",
    )
