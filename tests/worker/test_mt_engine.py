"""The translation engine on copy models: their translation is the source text, exactly."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from protocol.errors import ErrorCode, ServiceError
from protocol.options import TranslateOptions
from worker.engines.translation import TranslationEngine, TranslationOutput, language_tokens

TEXTS = [
    "Hello world, this is a test.",
    "Hi.",
    "Ünïcödé ✓ 🙂 and byte fallback: ǅ ꙮ",
    "今天天气晴朗\uff0c我们去市场。",
    " ".join(["The quick brown fox jumps over the lazy dog."] * 6),
]


@pytest.fixture(scope="module")
def nllb(nllb_copy_model: Path) -> TranslationEngine:
    return TranslationEngine(str(nllb_copy_model), "cpu", "int8", 2)


@pytest.fixture(scope="module")
def m2m(m2m_copy_model: Path) -> TranslationEngine:
    return TranslationEngine(str(m2m_copy_model), "cpu", "int8", 2)


def texts_of(engine: TranslationEngine, texts: list[str], src: str, tgt: str) -> list[str]:
    return [o.text for o in engine.translate_batch(texts, src, tgt, TranslateOptions())]


@pytest.mark.parametrize("compute_type", ["int8", "float32"])
@pytest.mark.parametrize("beam_size", [1, 4])
def test_nllb_batch_is_copied_exactly(
    nllb_copy_model: Path, nllb_copy_model_int8: Path, compute_type: str, beam_size: int
) -> None:
    # float32 weights run as int8 and as float32; int8 weights run as int8.
    for model_dir in (nllb_copy_model, nllb_copy_model_int8):
        engine = TranslationEngine(str(model_dir), "cpu", compute_type, 2)
        outputs = engine.translate_batch(
            TEXTS, "eng_Latn", "fra_Latn", TranslateOptions(beam_size=beam_size)
        )
        assert [o.text for o in outputs] == TEXTS
        # The target language token is stripped, and the counts follow the text lengths.
        assert all(o.tokens > 0 for o in outputs)
        assert outputs[1].tokens < outputs[0].tokens < outputs[4].tokens


def test_nllb_flavour_and_languages(nllb: TranslationEngine) -> None:
    assert nllb.flavour == "nllb"
    assert nllb.languages == [
        "eng_Latn",
        "fra_Latn",
        "deu_Latn",
        "spa_Latn",
        "zho_Hans",
        "arb_Arab",
    ]


def test_m2m_flavour_is_detected_and_uses_iso_codes(m2m: TranslationEngine) -> None:
    assert m2m.flavour == "m2m"
    assert m2m.languages == ["en", "fr", "de", "es", "zh", "ar"]
    assert texts_of(m2m, TEXTS, "en", "fr") == TEXTS
    # The vocabulary token itself is accepted too.
    assert texts_of(m2m, TEXTS[:1], "__en__", "__fr__") == TEXTS[:1]


def test_blank_texts_translate_to_nothing(nllb: TranslationEngine) -> None:
    outputs = nllb.translate_batch(["", "Hi.", "   "], "eng_Latn", "deu_Latn", TranslateOptions())
    assert [(o.text, o.tokens) for o in outputs] == [("", 0), ("Hi.", outputs[1].tokens), ("", 0)]
    assert nllb.translate_batch([], "eng_Latn", "deu_Latn", TranslateOptions()) == []


def test_scores_are_log_probabilities(nllb: TranslationEngine) -> None:
    [copied] = nllb.translate_batch(
        ["test test test test"], "eng_Latn", "fra_Latn", TranslateOptions()
    )
    assert copied.text == "test test test test"
    assert copied.score == pytest.approx(0.0, abs=1e-3)  # the copy is all but certain
    # Forbidding repeats forces the model off its copy: the text changes and the score drops.
    options = TranslateOptions(no_repeat_ngram_size=1)
    [forced] = nllb.translate_batch(["test test test test"], "eng_Latn", "fra_Latn", options)
    assert forced.text != copied.text
    assert forced.score < -0.01


def test_max_new_tokens_bounds_the_output(nllb: TranslationEngine) -> None:
    [output] = nllb.translate_batch(
        [TEXTS[0]], "eng_Latn", "fra_Latn", TranslateOptions(max_new_tokens=3)
    )
    assert output.tokens == 3
    assert TEXTS[0].startswith(output.text) and output.text != TEXTS[0]


def test_unknown_language_lists_the_supported_codes(
    nllb: TranslationEngine, m2m: TranslationEngine
) -> None:
    with pytest.raises(ServiceError) as caught:
        nllb.translate_batch(["Hi."], "eng_Latn", "fr", TranslateOptions())
    assert caught.value.code == ErrorCode.CONFIGURATION_ERROR
    assert caught.value.details == {"language": "fr", "supported": nllb.languages}
    # The gateway maps codes: an NLLB code sent to an M2M100 model is refused, not guessed.
    with pytest.raises(ServiceError) as caught:
        m2m.translate_batch(["Hi."], "eng_Latn", "fr", TranslateOptions())
    assert caught.value.details["language"] == "eng_Latn"
    assert caught.value.details["supported"] == m2m.languages


def test_text_over_the_input_limit_is_refused(nllb: TranslationEngine) -> None:
    options = TranslateOptions(max_input_length=8)
    with pytest.raises(ServiceError) as caught:
        nllb.translate_batch(["Hi.", TEXTS[0]], "eng_Latn", "fra_Latn", options)
    assert caught.value.code == ErrorCode.INVALID_REQUEST
    assert caught.value.details["index"] == 1
    assert caught.value.details["input_tokens"] > 8


@pytest.mark.parametrize(
    ("field", "value"), [("beam_size", 0), ("max_new_tokens", 0), ("max_input_length", 1)]
)
def test_out_of_range_options_are_refused(nllb: TranslationEngine, field: str, value: int) -> None:
    options = msgspec.structs.replace(TranslateOptions(), **{field: value})
    with pytest.raises(ServiceError) as caught:
        nllb.translate_batch(["Hi."], "eng_Latn", "fra_Latn", options)
    assert caught.value.code == ErrorCode.CONFIGURATION_ERROR
    assert caught.value.details["parameter"] == field


def test_warm_up_translates_between_the_models_own_first_two_languages(
    nllb: TranslationEngine, m2m: TranslationEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    for engine, pair in ((nllb, ("eng_Latn", "fra_Latn")), (m2m, ("en", "fr"))):
        seen: list[tuple[list[str], str, str, list[str]]] = []
        translate = engine.translate_batch

        def recording(
            texts: list[str],
            source: str,
            target: str,
            options: TranslateOptions,
            translate: Callable[..., list[TranslationOutput]] = translate,
            seen: list[tuple[list[str], str, str, list[str]]] = seen,
        ) -> list[TranslationOutput]:
            outputs = translate(texts, source, target, options)
            seen.append((texts, source, target, [o.text for o in outputs]))
            return outputs

        monkeypatch.setattr(engine, "translate_batch", recording)
        engine.warm_up()
        # One real translation of a short text: the copy model gives it back.
        assert seen == [(["Hello."], *pair, ["Hello."])]


def test_m2m_layout_with_text_vocabulary_and_fairseq_tokenizer(
    m2m_copy_model: Path, tmp_path: Path
) -> None:
    # Older conversions ship shared_vocabulary.txt; fairseq's M2M100 names its tokenizer
    # spm.128k.model.
    model_dir = tmp_path / "m2m"
    model_dir.mkdir()
    shutil.copy(m2m_copy_model / "model.bin", model_dir)
    shutil.copy(m2m_copy_model / "config.json", model_dir)
    shutil.copy(m2m_copy_model / "sentencepiece.bpe.model", model_dir / "spm.128k.model")
    vocabulary = json.loads((m2m_copy_model / "shared_vocabulary.json").read_text())
    (model_dir / "shared_vocabulary.txt").write_text("\n".join(vocabulary) + "\n")
    engine = TranslationEngine(str(model_dir), "cpu", "int8", 2)
    assert engine.flavour == "m2m"
    assert texts_of(engine, TEXTS[:2], "en", "de") == TEXTS[:2]


def test_missing_tokenizer_is_a_configuration_error(nllb_copy_model: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "no-spm"
    shutil.copytree(nllb_copy_model, model_dir)
    (model_dir / "sentencepiece.bpe.model").unlink()
    with pytest.raises(ServiceError) as caught:
        TranslationEngine(str(model_dir), "cpu", "int8", 2)
    assert caught.value.code == ErrorCode.CONFIGURATION_ERROR
    assert "sentencepiece.bpe.model" in caught.value.details["expected"]


def test_vocabulary_without_language_tokens_is_refused() -> None:
    with pytest.raises(ServiceError) as caught:
        language_tokens(["<s>", "<pad>", "</s>", "<unk>", "▁hello", "en", "fr"])
    assert caught.value.code == ErrorCode.CONFIGURATION_ERROR
