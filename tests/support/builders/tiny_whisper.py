"""Build a tiny CTranslate2 Whisper model that transcribes any audio as one fixed phrase.

The encoder is small and random (it still turns audio into features of the right shape). The
decoder is wired as a lookup table from the token it was just fed to the token it emits next:

    <|startoftranscript|> / <|transcribe|> / <|translate|> -> <|0.00|>
    <|notimestamps|> / <|0.00|> -> first phrase token -> ... -> last phrase token
    anything else -> <|endoftext|>

so faster-whisper gets " hello world" with or without timestamps, with word timestamps, and
whatever text came before (condition_on_previous_text). A multilingual build (vocabulary of
51865, as ctranslate2 requires) also answers language detection with `language`.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from ctranslate2.specs import whisper_spec

from tests.support.builders.converter import convert_spec
from tests.support.builders.corpus import generate_sentences
from tests.support.builders.spec_fill import (
    Filler,
    Matrix,
    fill_attention,
    fill_ffn,
    set_layer_norm,
    set_linear,
)
from tests.support.builders.whisper_tokenizer import (
    EOT,
    NO_TIMESTAMPS,
    SOT,
    TIMESTAMPS,
    TRANSCRIBE,
    TRANSLATE,
    WHISPER_LANGUAGES,
    WhisperVocabulary,
    build_whisper_tokenizer,
    default_suppressed,
    language_token,
    phrase_token_ids,
    suppressed_at_begin,
)

N_MELS = 80
ENCODER_POSITIONS = 1500  # 30 s of audio after the stride-2 convolution
DECODER_POSITIONS = 448
# Logit of the chosen next token; every other token sits at 0. It must beat log(vocab size)
# and ctranslate2's "sum of all 1501 timestamp probabilities" rule (log 1501 = 7.3) by far.
_NEXT_TOKEN_LOGIT = 30.0


def _transitions(
    vocabulary: WhisperVocabulary, phrase_ids: list[int], multilingual: bool, language: str
) -> dict[int, int]:
    """Next token for each token that has one; every other token leads to <|endoftext|>."""
    first_timestamp = vocabulary.id_of(TIMESTAMPS[0])
    table = {
        vocabulary.id_of(TRANSCRIBE): first_timestamp,
        vocabulary.id_of(TRANSLATE): first_timestamp,
        vocabulary.id_of(NO_TIMESTAMPS): phrase_ids[0],
        first_timestamp: phrase_ids[0],
    }
    # A multilingual prompt is <|sot|><|lang|><|task|>, so <|sot|> is only ever asked for the
    # language; an English-only prompt ends with <|sot|> itself when timestamps are on.
    sot_next = vocabulary.id_of(language_token(language)) if multilingual else first_timestamp
    table[vocabulary.id_of(SOT)] = sot_next
    table.update(itertools.pairwise(phrase_ids))
    return table


def _lookup_decoder_weights(
    table: dict[int, int], vocab_size: int, eot: int, d_model: int, fill: Filler
) -> tuple[Matrix, Matrix, Matrix]:
    """Embeddings, output projection and position encodings of the lookup-table decoder.

    Token t with a table row sits on its own axis: embedding e_axis - e_0 (coordinate 0 keeps
    the sum at zero, so LayerNorm only rescales); every other token sits on axis 1. The output
    projection maps each axis to that row's next token (axis 1 to <|endoftext|>). The axes left
    over hold small position vectors, which no output row reads.
    """
    rows = sorted(table)
    first_free = len(rows) + 2
    if d_model - first_free < 2:
        raise ValueError(
            f"d_model={d_model} has no room for {len(rows)} lookup rows; shorten the phrase"
        )
    embeddings = np.zeros((vocab_size, d_model), dtype=np.float32)
    embeddings[:, 0] = -1.0
    embeddings[:, 1] = 1.0
    projection = np.zeros((vocab_size, d_model), dtype=np.float32)
    # After LayerNorm an embedding e_axis - e_0 has sqrt(d / 2) on its axis.
    scale = np.float32(_NEXT_TOKEN_LOGIT / np.sqrt(d_model / 2.0))
    projection[eot, 1] = scale
    for axis, token in enumerate(rows, start=2):
        embeddings[token, 1] = 0.0
        embeddings[token, axis] = 1.0
        projection[table[token], axis] = scale
    positions = np.zeros((DECODER_POSITIONS, d_model), dtype=np.float32)
    block = fill.random(DECODER_POSITIONS, d_model - first_free, std=1.0)
    block -= block.mean(axis=1, keepdims=True)
    block *= np.float32(0.1) / np.linalg.norm(block, axis=1, keepdims=True)
    positions[:, first_free:] = block
    return embeddings, projection, positions


def _fill_encoder(encoder: Any, d_model: int, fill: Filler) -> None:
    """A small random encoder: audio in, features of the right shape out."""
    encoder.conv1.weight = fill.random(d_model, N_MELS, 3, std=1.0 / np.sqrt(3 * N_MELS))
    encoder.conv1.bias = np.zeros(d_model, dtype=np.float32)
    encoder.conv2.weight = fill.random(d_model, d_model, 3, std=1.0 / np.sqrt(3 * d_model))
    encoder.conv2.bias = np.zeros(d_model, dtype=np.float32)
    encoder.position_encodings.encodings = fill.random(ENCODER_POSITIONS, d_model, std=0.1)
    for layer in encoder.layer:
        fill_attention(layer.self_attention, d_model, fill, silent=False)
        fill_ffn(layer.ffn, d_model, 4 * d_model, fill, silent=False)
    set_layer_norm(encoder.layer_norm, d_model)


def _fill_decoder(
    decoder: Any, table: dict[int, int], vocab_size: int, eot: int, d_model: int, fill: Filler
) -> None:
    embeddings, projection, positions = _lookup_decoder_weights(
        table, vocab_size, eot, d_model, fill
    )
    decoder.embeddings.weight = embeddings
    decoder.position_encodings.encodings = positions
    for layer in decoder.layer:
        # Silent sublayers; the cross-attention still attends (word timestamps read it).
        fill_attention(layer.self_attention, d_model, fill)
        fill_attention(layer.attention, d_model, fill)
        fill_ffn(layer.ffn, d_model, 4 * d_model, fill)
    set_layer_norm(decoder.layer_norm, d_model)
    set_linear(decoder.projection, projection)


def build_tiny_whisper(
    out_dir: Path,
    phrase: str = "hello world",
    *,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 4,
    multilingual: bool = False,
    language: str = "en",
    quantization: str | None = None,
    seed: int = 0,
) -> Path:
    """Write the model (`model.bin`, `config.json`, `vocabulary.json`, `tokenizer.json`) to
    `out_dir`, replacing it, and return `out_dir`.

    `phrase` must not repeat a token (the decoder only knows the last token it saw).
    `multilingual` pads the vocabulary to Whisper's 51865 tokens (about 7 MB in int8, 26 MB
    in float32), so ctranslate2 treats the model as multilingual and its language detection
    answers `language`.
    """
    if language not in WHISPER_LANGUAGES:
        raise ValueError(f"unknown Whisper language {language!r}")
    if d_model % heads:
        raise ValueError(f"d_model={d_model} is not a multiple of heads={heads}")
    # The phrase, repeated, makes its words whole BPE tokens.
    corpus = [*generate_sentences(1000), *[" " + phrase.strip()] * 200]
    vocabulary = build_whisper_tokenizer(corpus, multilingual=multilingual)
    phrase_ids = phrase_token_ids(vocabulary, phrase)
    if not phrase_ids or len(set(phrase_ids)) != len(phrase_ids):
        raise ValueError(f"phrase {phrase!r} is empty or repeats a token: {phrase_ids}")
    table = _transitions(vocabulary, phrase_ids, multilingual, language)
    eot = vocabulary.id_of(EOT)

    with tempfile.TemporaryDirectory(prefix="whisper-tokenizer-") as scratch:
        # Saved outside out_dir: the converter deletes out_dir before writing into it.
        tokenizer_file = Path(scratch) / "tokenizer.json"
        vocabulary.tokenizer.save(str(tokenizer_file))

        def make_spec() -> whisper_spec.WhisperSpec:
            spec = whisper_spec.WhisperSpec(layers, heads, layers, heads)
            fill = Filler(seed)
            _fill_encoder(spec.encoder, d_model, fill)
            _fill_decoder(spec.decoder, table, len(vocabulary.tokens), eot, d_model, fill)
            spec.config.suppress_ids = default_suppressed(vocabulary)
            spec.config.suppress_ids_begin = suppressed_at_begin(vocabulary)
            spec.config.lang_ids = [
                vocabulary.id_of(language_token(code)) for code in WHISPER_LANGUAGES
            ]
            # As ctranslate2's converter does without better knowledge: the last layer's heads.
            spec.config.alignment_heads = [[layers - 1, head] for head in range(heads)]
            spec.register_vocabulary(vocabulary.tokens)
            spec.register_file(str(tokenizer_file), "tokenizer.json")
            return spec

        return convert_spec(make_spec, out_dir, quantization)
