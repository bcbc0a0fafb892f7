"""Build a small NLLB- or M2M100-style CTranslate2 translation model that copies its input.

It is called exactly like the real models (source tokens `[src_lang, *pieces, "</s>"]`,
`target_prefix=[[tgt_lang]]`) and its "translation" is the source text itself, so tests can
assert real outputs. See copy_weights.py for how the weights do that.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from ctranslate2.specs import transformer_spec

from tests.support.builders.converter import convert_spec
from tests.support.builders.copy_weights import fill_copy_transformer, make_geometry
from tests.support.builders.sentencepiece_model import BOS, EOS, UNK, train_sentencepiece

Flavour = Literal["nllb", "m2m"]

NLLB_LANGUAGES: tuple[str, ...] = (
    "eng_Latn",
    "fra_Latn",
    "deu_Latn",
    "spa_Latn",
    "zho_Hans",
    "arb_Arab",
)
# NLLB code -> M2M100 code, for the languages tests are likely to name.
M2M_CODES: dict[str, str] = {
    "eng_Latn": "en",
    "fra_Latn": "fr",
    "deu_Latn": "de",
    "spa_Latn": "es",
    "zho_Hans": "zh",
    "arb_Arab": "ar",
    "por_Latn": "pt",
    "ita_Latn": "it",
    "rus_Cyrl": "ru",
    "jpn_Jpan": "ja",
    "kor_Hang": "ko",
    "nld_Latn": "nl",
}
SENTENCEPIECE_FILE = "sentencepiece.bpe.model"
# Like NLLB's 1024 learned positions: longer inputs than this cannot be encoded.
MAX_POSITIONS = 1024


def language_token(code: str, flavour: Flavour = "nllb") -> str:
    """The vocabulary token of a language: "fra_Latn" for NLLB, "__fr__" for M2M100.

    For M2M100, `code` may be an NLLB code (mapped through `M2M_CODES`) or a bare ISO code.
    """
    if flavour == "nllb":
        return code
    return f"__{M2M_CODES.get(code, code)}__"


def build_nllb_copy_model(
    out_dir: Path,
    *,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 4,
    languages: Sequence[str] = NLLB_LANGUAGES,
    quantization: str | None = None,
    vocab_sentences: Iterable[str] = (),
    flavour: Flavour = "nllb",
    vocab_size: int = 1000,
    ffn_dim: int | None = None,
    seed: int = 0,
) -> Path:
    """Write a copy model to `out_dir` (replaced if it exists) and return `out_dir`.

    The folder holds `model.bin`, `config.json`, `shared_vocabulary.json` and
    `sentencepiece.bpe.model`. `languages` are NLLB codes; with `flavour="m2m"` their tokens
    become `__xx__` (see `language_token`). `vocab_sentences` are added to the SentencePiece
    training text, so their words become whole pieces. `ffn_dim` defaults to 4 * d_model.
    """
    if d_model % heads:
        raise ValueError(f"d_model={d_model} is not a multiple of heads={heads}")
    language_tokens = [language_token(code, flavour) for code in languages]
    if len(set(language_tokens)) != len(language_tokens):
        raise ValueError(f"duplicate language tokens: {language_tokens}")

    with tempfile.TemporaryDirectory(prefix="spm-") as scratch:
        # Trained outside out_dir: the converter deletes out_dir before writing into it.
        spm_file = Path(scratch) / SENTENCEPIECE_FILE
        vocabulary = train_sentencepiece(
            spm_file, language_tokens, vocab_size=vocab_size, extra_sentences=vocab_sentences
        )
        geometry = make_geometry(d_model, heads, len(vocabulary), MAX_POSITIONS, seed)

        def make_spec() -> transformer_spec.TransformerSpec:
            spec = transformer_spec.TransformerSpec.from_config(layers, heads, pre_norm=True)
            fill_copy_transformer(
                spec, geometry, heads=heads, ffn_dim=ffn_dim or 4 * d_model, seed=seed + 1
            )
            # NLLB and M2M100 both start decoding from </s>, then the target language token.
            spec.config.bos_token = BOS
            spec.config.eos_token = EOS
            spec.config.unk_token = UNK
            spec.config.decoder_start_token = EOS
            spec.register_source_vocabulary(vocabulary)
            spec.register_target_vocabulary(vocabulary)
            spec.register_file(str(spm_file), SENTENCEPIECE_FILE)
            return spec

        return convert_spec(make_spec, out_dir, quantization)


def build_big_nllb_copy_model(out_dir: Path, *, flavour: Flavour = "nllb") -> Path:
    """The batching-benchmark preset: d_model 1024, 12 + 12 layers, int8 (about 220 MB).

    Its random attention and feed-forward weights cost real compute and memory, but the
    output is still an exact copy of the input.
    """
    return build_nllb_copy_model(
        out_dir, d_model=1024, layers=12, heads=16, quantization="int8", flavour=flavour
    )
