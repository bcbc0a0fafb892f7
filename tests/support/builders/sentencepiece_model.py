"""Train a small SentencePiece model with the NLLB / M2M100 id layout."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import sentencepiece

from tests.support.builders.corpus import generate_sentences

# <s>=0, <pad>=1, </s>=2, <unk>=3, as in NLLB's and M2M100's dictionaries.
BOS, PAD, EOS, UNK = "<s>", "<pad>", "</s>", "<unk>"


def train_sentencepiece(
    out_file: Path,
    special_tokens: Sequence[str],
    *,
    vocab_size: int = 1000,
    extra_sentences: Iterable[str] = (),
    corpus_size: int = 3000,
) -> list[str]:
    """Train on the generated corpus (plus `extra_sentences`), write the model to `out_file` and
    return its vocabulary in id order.

    `special_tokens` (the language codes) become user-defined symbols: single pieces that are
    never split. Byte fallback makes any Unicode text round-trip, whatever the corpus missed.
    """
    sentences = [*generate_sentences(corpus_size), *extra_sentences]
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=model,
        model_type="bpe",
        vocab_size=vocab_size,
        hard_vocab_limit=False,  # a small corpus may not support the full size
        character_coverage=0.9995,
        normalization_rule_name="identity",  # no NFKC: any text round-trips exactly
        byte_fallback=True,
        bos_id=0,
        pad_id=1,
        eos_id=2,
        unk_id=3,
        bos_piece=BOS,
        pad_piece=PAD,
        eos_piece=EOS,
        unk_piece=UNK,
        user_defined_symbols=list(special_tokens),
        num_threads=1,  # deterministic, and the test machines are small
        minloglevel=2,
    )
    out_file.write_bytes(model.getvalue())
    processor = sentencepiece.SentencePieceProcessor(model_file=str(out_file))
    return [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
